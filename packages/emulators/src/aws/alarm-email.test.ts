import { describe, expect, it } from "vitest";
import { alarmEmailText, asAlarmMessage } from "./alarm-email";

/** A CloudWatch alarm notification as an SQS subscriber of the alerts topic receives it. */
const ALARM = {
  AlarmName: "prod-donut-states-factory-dlq-not-empty",
  AlarmDescription: "Restock requests are in the factory dead-letter queue.",
  AWSAccountId: "123456789012",
  AlarmConfigurationUpdatedTimestamp: "2026-11-27T05:00:00.000+0000",
  NewStateValue: "ALARM",
  NewStateReason: "Threshold Crossed: 1 datapoint [3.0 (27/11/26 05:29:00)] was greater than or equal to the threshold (1.0).",
  StateChangeTime: "2026-11-27T05:30:00.123+0000",
  Region: "Asia Pacific (Seoul)",
  AlarmArn: "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:prod-donut-states-factory-dlq-not-empty",
  OldStateValue: "OK",
  OKActions: ["arn:aws:sns:ap-northeast-2:123456789012:prod-donut-states-operations-alerts"],
  AlarmActions: ["arn:aws:sns:ap-northeast-2:123456789012:prod-donut-states-operations-alerts"],
  InsufficientDataActions: [],
  Trigger: {
    MetricName: "ApproximateNumberOfMessagesVisible",
    Namespace: "AWS/SQS",
    StatisticType: "Statistic",
    Statistic: "MAXIMUM",
    Unit: null,
    Dimensions: [{ value: "prod-donut-states-factory-requests-dlq", name: "QueueName" }],
    Period: 60,
    EvaluationPeriods: 1,
    ComparisonOperator: "GreaterThanOrEqualToThreshold",
    Threshold: 1,
    TreatMissingData: "notBreaching",
    EvaluateLowSampleCountPercentile: "",
  },
};

describe("alarmEmailText", () => {
  it("lays the alarm out as the e-mail AWS sends to an e-mail subscriber", () => {
    expect(alarmEmailText(asAlarmMessage(ALARM)!)).toBe(
      [
        'You are receiving this email because your Amazon CloudWatch Alarm "prod-donut-states-factory-dlq-not-empty" in the Asia Pacific (Seoul) region has entered the ALARM state, because "Threshold Crossed: 1 datapoint [3.0 (27/11/26 05:29:00)] was greater than or equal to the threshold (1.0)." at "Friday 27 November, 2026 05:30:00 UTC".',
        "",
        "View this alarm in the AWS Management Console:",
        "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2#s=Alarms&alarm=prod-donut-states-factory-dlq-not-empty",
        "",
        "Alarm Details:",
        "- Name:                       prod-donut-states-factory-dlq-not-empty",
        "- Description:                Restock requests are in the factory dead-letter queue.",
        "- State Change:               OK -> ALARM",
        "- Reason for State Change:    Threshold Crossed: 1 datapoint [3.0 (27/11/26 05:29:00)] was greater than or equal to the threshold (1.0).",
        "- Timestamp:                  Friday 27 November, 2026 05:30:00 UTC",
        "- AWS Account:                123456789012",
        "- Alarm Arn:                  arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:prod-donut-states-factory-dlq-not-empty",
        "",
        "Threshold:",
        "- The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 1.0 for 60 seconds.",
        "",
        "Monitored Metric:",
        "- MetricNamespace:                     AWS/SQS",
        "- MetricName:                          ApproximateNumberOfMessagesVisible",
        "- Dimensions:                          [QueueName = prod-donut-states-factory-requests-dlq]",
        "- Period:                              60 seconds",
        "- Statistic:                           MAXIMUM",
        "- Unit:                                not specified",
        "- TreatMissingData:                    notBreaching",
        "",
        "",
        "State Change Actions:",
        "- OK: [arn:aws:sns:ap-northeast-2:123456789012:prod-donut-states-operations-alerts]",
        "- ALARM: [arn:aws:sns:ap-northeast-2:123456789012:prod-donut-states-operations-alerts]",
        "- INSUFFICIENT_DATA:",
      ].join("\n"),
    );
  });

  it("names several evaluation periods the way AWS does", () => {
    const text = alarmEmailText(asAlarmMessage({ ...ALARM, Trigger: { ...ALARM.Trigger, EvaluationPeriods: 5, DatapointsToAlarm: 3 } })!);
    expect(text).toContain(
      "- The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 1.0 for at least 3 of the last 5 period(s) of 60 seconds.",
    );
  });

  it("recognises alarm notifications only", () => {
    expect(asAlarmMessage({ restockId: "01J9", sku: "CP-502101" })).toBeUndefined();
    expect(asAlarmMessage({ AlarmName: "x", NewStateValue: "ALARM" })).toBeUndefined();
    expect(asAlarmMessage(null)).toBeUndefined();
  });
});
