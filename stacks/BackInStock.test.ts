/**
 * The BackInStock stack: the topic only the notifier may publish to, the notifier a rule on our bus
 * runs with the rule's failed-events queue, and the customer mail queue with its DLQ.
 */
import { backInStockRule, backInStockTopic, mailDeadLetterQueue, mailQueue } from "@donut-states/core/topology";
import { describe, expect, it } from "vitest";
import { APP_NAME } from "./settings";
import { bothStages } from "./test/app";
import { failedEventsQueueId, functionFor, logicalIdOf, mailQueueId, NOTIFIER } from "./test/functions";
import { describeValue, type Json, resourcesOf, single } from "./test/templates";

const stages = bothStages();

describe.each(stages.each)("%s stage", (_name, get) => {
  it("has a back-in-stock topic only the notifier may publish to, with no subscription of customers", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const [topicId, topic] = single(template, "AWS::SNS::Topic");
    expect(topic.Properties.TopicName).toBe(`${synth.stage}-${APP_NAME}-${backInStockTopic.name}`);
    expect(topic.Properties.DisplayName).toBe(backInStockTopic.displayName);
    // No subscription is deployed (customers' subscriptions are rows of our database).
    expect(resourcesOf(template, "AWS::SNS::Subscription")).toEqual([]);
    const [notifierStack, , notifier] = functionFor(synth, NOTIFIER);
    expect(notifierStack).toBe("BackInStock");
    const notifierRole = notifier.Properties.Role["Fn::GetAtt"][0];
    const [, policy] = single(template, "AWS::SNS::TopicPolicy");
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    expect(statements.map((statement) => `${statement.Effect} ${statement.Sid}`).sort()).toEqual([
      "Deny AllowPublishThroughSSLOnly",
      "Deny OnlyTheNotifierPublishes",
    ]);
    expect(statements.find((statement) => statement.Sid === "OnlyTheNotifierPublishes")).toEqual({
      Sid: "OnlyTheNotifierPublishes",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "sns:Publish",
      Resource: { Ref: topicId },
      Condition: { ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": [notifierRole, "Arn"] } } },
    });
    // The other Deny (CDK's enforceSSL, despite its Sid): requests without TLS.
    expect(statements.find((statement) => statement.Sid === "AllowPublishThroughSSLOnly")?.Condition).toEqual({
      Bool: { "aws:SecureTransport": "false" },
    });
    expect(template.Outputs.BackInStockTopicArn.Value).toEqual({ Ref: topicId });
  });

  it("has the customer mail queue, encrypted, TLS only, with its DLQ", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const queues = Object.fromEntries(resourcesOf(template, "AWS::SQS::Queue").map(([id, queue]) => [id, queue.Properties]));
    const mail = queues[mailQueueId(synth)];
    expect(mail.QueueName).toBe(`${synth.stage}-${APP_NAME}-${mailQueue.name}`);
    expect(mail.MessageRetentionPeriod).toBe(mailQueue.retentionSeconds);
    expect(mail.SqsManagedSseEnabled).toBe(true);
    const dlqId = mail.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0];
    expect(mail.RedrivePolicy.maxReceiveCount).toBe(mailQueue.maxReceiveCount);
    expect(queues[dlqId]).toMatchObject({
      QueueName: `${synth.stage}-${APP_NAME}-${mailDeadLetterQueue.name}`,
      MessageRetentionPeriod: mailDeadLetterQueue.retentionSeconds,
      SqsManagedSseEnabled: true,
    });
    expect(template.Outputs.MailQueueUrl.Value).toEqual({ Ref: mailQueueId(synth) });
  });

  it("runs the back-in-stock notifier for RestockFulfilled: a rule on our bus with the topology's pattern", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const [ruleId, rule] = single(template, "AWS::Events::Rule");
    expect(rule.Properties.Name).toBe(`${synth.stage}-${APP_NAME}-${backInStockRule.name}`);
    expect(describeValue(synth, "BackInStock", rule.Properties.EventBusName)).toBe(
      `Events.${logicalIdOf(synth, "Events", "AWS::Events::EventBus")}`,
    );
    expect(rule.Properties.EventPattern).toEqual(backInStockRule.pattern);
    expect(rule.Properties.EventPattern).toEqual({ source: ["donut-states.sales"], "detail-type": ["RestockFulfilled"] });
    const [, functionId, fn] = functionFor(synth, NOTIFIER);
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0]).toMatchObject({
      Arn: { "Fn::GetAtt": [functionId, "Arn"] },
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
    });
    // EventBridge may invoke it, from this rule only.
    const permissions = resourcesOf(template, "AWS::Lambda::Permission").filter(([, permission]) =>
      JSON.stringify(permission.Properties.FunctionName).includes(functionId),
    );
    expect(permissions.map(([, permission]) => [permission.Properties.Principal, permission.Properties.SourceArn])).toEqual([
      ["events.amazonaws.com", { "Fn::GetAtt": [ruleId, "Arn"] }],
    ]);
    expect(fn.Properties.Timeout).toBe(30);
    // An alarm on its errors.
    const alarms = resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const notifierErrors = alarms.find((alarm) => alarm.AlarmName === `${synth.stage}-${APP_NAME}-back-in-stock-notifier-errors`);
    expect(describeValue(synth, "Monitoring", notifierErrors.Dimensions[0].Value)).toBe(`BackInStock.${functionId}`);
  });

  it("keeps every RestockFulfilled the notifier could not handle in its failed-events queue, and alarms on it", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const queueId = failedEventsQueueId(synth);
    expect(template.Resources[queueId].Properties).toMatchObject({
      QueueName: `${synth.stage}-${APP_NAME}-${backInStockRule.failedEvents.queueName}`,
      MessageRetentionPeriod: backInStockRule.failedEvents.retentionSeconds,
      SqsManagedSseEnabled: true,
    });
    const queueArn = { "Fn::GetAtt": [queueId, "Arn"] };
    // Lambda's on-failure destination, after its retries (none for sst dev's live stubs).
    const [, functionId] = functionFor(synth, NOTIFIER);
    const [, invokeConfig] = single(template, "AWS::Lambda::EventInvokeConfig");
    expect(invokeConfig.Properties).toEqual({
      FunctionName: { Ref: functionId },
      Qualifier: "$LATEST",
      MaximumEventAgeInSeconds: 3600,
      MaximumRetryAttempts: synth.mode === "dev" ? 0 : 2,
      DestinationConfig: { OnFailure: { Destination: queueArn } },
    });
    // ...and the rule target's dead-letter queue, which only this rule may send to, over TLS.
    const [ruleId, rule] = single(template, "AWS::Events::Rule");
    expect(rule.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: queueArn });
    const [[, queuePolicy]] = resourcesOf(template, "AWS::SQS::QueuePolicy").filter(([, policy]) =>
      policy.Properties.Queues.some((queue: Json) => queue.Ref === queueId),
    );
    const statements = queuePolicy.Properties.PolicyDocument.Statement;
    expect(statements.map((statement: Json) => `${statement.Effect} ${[statement.Action].flat().join(",")}`).sort()).toEqual([
      "Allow sqs:SendMessage",
      "Deny sqs:*",
    ]);
    expect(statements.find((statement: Json) => statement.Effect === "Allow")).toMatchObject({
      Principal: { Service: "events.amazonaws.com" },
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } },
    });
    expect(statements.find((statement: Json) => statement.Effect === "Deny").Condition).toEqual({
      Bool: { "aws:SecureTransport": "false" },
    });
    // One message is enough to e-mail operations.
    const alarms = resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const failed = alarms.find((alarm) => alarm.AlarmName === `${synth.stage}-${APP_NAME}-${backInStockRule.failedEvents.alarm.name}`);
    expect(failed).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
      Period: 60,
    });
    expect(describeValue(synth, "Monitoring", failed.Dimensions[0].Value)).toBe(`BackInStock.${queueId}.QueueName`);
    expect(failed.AlarmDescription).toContain("docs/runbook.md#back-in-stock-failed-events");
    expect(template.Outputs.BackInStockFailedEventsQueueUrl.Value).toEqual({ Ref: queueId });
  });
});
