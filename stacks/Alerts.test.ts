/** The Alerts stack: the operations topic, its policy and its e-mail subscriptions. */
import { describe, expect, it } from "vitest";
import { APP_NAME } from "./settings";
import { bothStages, PROD_EMAILS } from "./test/app";
import { describeValue, type Json, resourcesOf, single, TEST_ACCOUNT } from "./test/templates";

const stages = bothStages();

describe.each(stages.each)("%s stage", (_name, get) => {
  it("lets this stage's CloudWatch alarms publish to the alerts topic (its policy replaces the SNS default)", () => {
    const synth = get();
    const alerts = synth.templates.Alerts;
    const [topicId] = single(alerts, "AWS::SNS::Topic");
    const [, policy] = single(alerts, "AWS::SNS::TopicPolicy");
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    const allow = policy.Properties.PolicyDocument.Statement.filter((statement: Json) => statement.Effect === "Allow");
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({
      Action: "sns:Publish",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Resource: { Ref: topicId },
      Condition: { StringEquals: { "aws:SourceAccount": TEST_ACCOUNT } },
    });
    expect(describeValue(synth, "Alerts", allow[0].Condition.ArnLike["aws:SourceArn"])).toBe(
      `arn:\${AWS::Partition}:cloudwatch:ap-northeast-2:${TEST_ACCOUNT}:alarm:${synth.stage}-${APP_NAME}-*`,
    );
    // Every alarm's name falls under that ARN pattern.
    for (const [, alarm] of resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties.AlarmName.startsWith(`${synth.stage}-${APP_NAME}-`)).toBe(true);
    }
  });

  it("subscribes one e-mail address per configured recipient to the alerts topic", () => {
    const synth = get();
    const alerts = synth.templates.Alerts;
    const [topicId, topic] = single(alerts, "AWS::SNS::Topic");
    expect(topic.Properties.TopicName).toBe(`${synth.stage}-${APP_NAME}-operations-alerts`);
    const subscriptions = resourcesOf(alerts, "AWS::SNS::Subscription").map(([, subscription]) => subscription.Properties);
    // No placeholder: `sst dev` without ALERT_EMAILS subscribes nobody; deploying requires them.
    const emails = synth.stage === "prod" ? PROD_EMAILS : [];
    expect(subscriptions.map((subscription) => subscription.Endpoint).sort()).toEqual([...emails].sort());
    for (const subscription of subscriptions) {
      expect(subscription.Protocol).toBe("email");
      expect(subscription.TopicArn).toEqual({ Ref: topicId });
    }
  });
});
