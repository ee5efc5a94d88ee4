import { backInStockTopic } from "@donut-states/core/topology";
import { type StackContext, use } from "sst/constructs";
import { busRuleFunctions } from "./bus-rule";
import { Config } from "./Config";
import { iam, sns } from "./cdk";
import { Events } from "./Events";

/**
 * Back-in-stock notifications: the topic customers' e-mail subscriptions live on, and the
 * functions rules on our bus run (bus-rule.ts builds each from the topology: today the notifier,
 * which publishes each RestockFulfilled to the topic). The subscription route's function is in
 * Api; it may only `sns:Subscribe` e-mail endpoints on this topic.
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

  const { backInStockNotifier } = busRuleFunctions({ stack, app }, settings, {
    bus,
    wiring: { secrets: {}, values: { BACK_IN_STOCK_TOPIC_ARN: topic.topicArn }, targets: { backInStockTopic: topic.topicArn } },
  });
  if (!backInStockNotifier) throw new Error("the topology has no backInStockNotifier run by a rule on the bus");
  const { fn: notifier, failedEvents } = backInStockNotifier;

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
