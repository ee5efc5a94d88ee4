import { backInStockTopic, functions } from "@donut-states/core/topology";
import { type StackContext, use } from "sst/constructs";
import { Config } from "./Config";
import { iam, sns } from "./cdk";
import { busRuleInvokeConfig, Events, failedEventsQueue, lambdaOnBusRule } from "./Events";
import { fromTopology, lambda } from "./lambda";

/**
 * Back-in-stock notifications: the topic customers' e-mail subscriptions live on, and the
 * notifier a rule on our bus runs for each RestockFulfilled (rule and function from the
 * topology's `functions` table). The subscription route's function is in Api; it may only
 * `sns:Subscribe` e-mail endpoints on this topic.
 *
 * Nothing here stores a customer's address: SNS does, as the subscription (docs/design.md,
 * "Back-in-stock notifications"). Only the notifier may publish to the topic (its policy denies
 * everyone else), so nothing else in the account can mail the customers.
 */
export function BackInStock({ stack, app }: StackContext) {
  const { settings } = use(Config);
  const { bus } = use(Events);

  const topic = new sns.Topic(stack, "Topic", {
    topicName: app.logicalPrefixedName(backInStockTopic.name),
    displayName: backInStockTopic.displayName,
    enforceSSL: true,
  });

  const definition = functions.backInStockNotifier;
  const rule = definition.trigger.busRule;
  const failedEvents = failedEventsQueue(stack, "BackInStockFailedEvents", {
    rule,
    queueName: app.logicalPrefixedName(rule.failedEvents.queueName),
  });
  const notifier = lambda(stack, "BackInStockNotifier", settings, {
    ...fromTopology(definition, { secrets: {}, values: { BACK_IN_STOCK_TOPIC_ARN: topic.topicArn } }),
    ...busRuleInvokeConfig(failedEvents),
    statements: [new iam.PolicyStatement({ sid: "PublishBackInStock", actions: ["sns:Publish"], resources: [topic.topicArn] })],
  });
  lambdaOnBusRule(stack, "BackInStockRule", {
    bus,
    rule,
    ruleName: app.logicalPrefixedName(rule.name),
    description: "RestockFulfilled: e-mail the product's back-in-stock subscribers",
    fn: notifier,
    failedEvents,
  });

  // The publish policy: whatever else an identity policy in this account allows, only the
  // notifier's role may publish (a mail to every subscriber of a product is one Publish).
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "OnlyTheNotifierPublishes",
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: { ArnNotEquals: { "aws:PrincipalArn": notifier.role!.roleArn } },
    }),
  );

  stack.addOutputs({ BackInStockTopicArn: topic.topicArn, BackInStockFailedEventsQueueUrl: failedEvents.queueUrl });
  return { topic, notifier, failedEvents };
}
