import { backInStockTopic, mailDeadLetterQueue, mailQueue } from "@donut-states/core/topology";
import { type StackContext, use } from "sst/constructs";
import { busRuleFunctions } from "./bus-rule";
import { Config } from "./Config";
import { Duration, iam, sns, sqs } from "./cdk";
import { Events } from "./Events";

/**
 * Back-in-stock notifications: the topic the notifier publishes each restock to, the functions
 * rules on our bus run (bus-rule.ts builds each from the topology: today the notifier), and the
 * customer mail queue (with its DLQ), where the subscription route (in Api) enqueues each
 * confirmation mail. Customers' subscriptions are rows of our database (docs/design.md,
 * "Back-in-stock notifications"); the queue's messages carry ids, never an address.
 * Only the notifier may publish to the topic (its policy denies everyone else).
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

  // SSE-SQS, TLS only; a message that keeps failing waits in the DLQ.
  const mailDlq = new sqs.Queue(stack, "MailDeadLetterQueue", {
    queueName: app.logicalPrefixedName(mailDeadLetterQueue.name),
    retentionPeriod: Duration.seconds(mailDeadLetterQueue.retentionSeconds),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  const mail = new sqs.Queue(stack, "MailQueue", {
    queueName: app.logicalPrefixedName(mailQueue.name),
    retentionPeriod: Duration.seconds(mailQueue.retentionSeconds),
    deadLetterQueue: { queue: mailDlq, maxReceiveCount: mailQueue.maxReceiveCount },
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });

  stack.addOutputs({
    BackInStockTopicArn: topic.topicArn,
    BackInStockFailedEventsQueueUrl: failedEvents.queueUrl,
    MailQueueUrl: mail.queueUrl,
  });
  return { topic, notifier, failedEvents, mailQueue: mail, mailDeadLetterQueue: mailDlq };
}
