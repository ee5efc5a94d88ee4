/** The Monitoring stack: every alarm, e-mailing operations through the alerts topic, and the dashboard. */
import { dlqAlarm, routes } from "@donut-states/core/topology";
import { METRICS_NAMESPACE, MetricName } from "@donut-states/core/util/metrics";
import { describe, expect, it } from "vitest";
import { APP_NAME } from "./settings";
import { bothStages } from "./test/app";
import {
  CALLER,
  deadLetterQueueId,
  FOLLOW_UP,
  factoryQueueId,
  functionFor,
  HOUSEKEEPING,
  logicalIdOf,
  RELAY,
  WATCHDOG,
} from "./test/functions";
import { describeValue, type Json, resourcesOf, single } from "./test/templates";

const stages = bothStages();

describe.each(stages.each)("%s stage", (_name, get, databaseMode) => {
  it("alarms on what can break: the rule's DLQ deliveries, API throttles, and (rds) the database and its proxy", () => {
    const synth = get();
    const alarms = resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const byMetric = (namespace: string, metric: string) =>
      alarms.filter((alarm) => alarm.Namespace === namespace && alarm.MetricName === metric);
    const [ruleAlarm] = byMetric("AWS/Events", "InvocationsFailedToBeSentToDlq");
    expect(Object.fromEntries(ruleAlarm.Dimensions.map((d: Json) => [d.Name, describeValue(synth, "Monitoring", d.Value)]))).toEqual({
      EventBusName: expect.stringMatching(/^Events\.Bus/),
      RuleName: expect.stringMatching(/^Events\./),
    });
    const throttled = byMetric("AWS/Lambda", "Throttles").map((alarm) => describeValue(synth, "Monitoring", alarm.Dimensions[0].Value));
    for (const handler of Object.values(routes)) {
      const [stackId, logicalId] = functionFor(synth, handler);
      expect(throttled).toContain(`${stackId}.${logicalId}`);
    }
    const rdsMetrics = [
      "FreeStorageSpace",
      "CPUUtilization",
      "DatabaseConnections",
      "ClientConnections",
      "DatabaseConnectionsCurrentlySessionPinned",
    ];
    const found = rdsMetrics.map((metric) => byMetric("AWS/RDS", metric).length);
    if (databaseMode === "url") expect(found).toEqual([0, 0, 0, 0, 0]);
    else {
      expect(found).toEqual([1, 1, 1, 1, 1]);
      const [pinned] = byMetric("AWS/RDS", "DatabaseConnectionsCurrentlySessionPinned");
      expect(pinned.Dimensions.map((d: Json) => [d.Name, describeValue(synth, "Monitoring", d.Value)])).toEqual([
        ["ProxyName", `Database.${single(synth.templates.Database, "AWS::RDS::DBProxy")[0]}`],
      ]);
      expect(pinned.Threshold).toBe(1);
      const [storage] = byMetric("AWS/RDS", "FreeStorageSpace");
      expect(storage.ComparisonOperator).toBe("LessThanThreshold");
      expect(describeValue(synth, "Monitoring", storage.Dimensions[0].Value)).toBe(
        `Database.${single(synth.templates.Database, "AWS::RDS::DBInstance")[0]}`,
      );
    }
    for (const alarm of alarms) expect(alarm.AlarmActions, alarm.AlarmName).toHaveLength(1);
  });

  it("alarms on the DLQ as the topology says, and every alarm e-mails through the alerts topic on ALARM and OK", () => {
    const synth = get();
    const monitoring = synth.templates.Monitoring;
    const topic = `Alerts.${logicalIdOf(synth, "Alerts", "AWS::SNS::Topic")}`;
    const alarms = resourcesOf(monitoring, "AWS::CloudWatch::Alarm");
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const [id, alarm] of alarms) {
      expect(
        alarm.Properties.AlarmActions.map((action: Json) => describeValue(synth, "Monitoring", action)),
        id,
      ).toEqual([topic]);
      expect(
        alarm.Properties.OKActions.map((action: Json) => describeValue(synth, "Monitoring", action)),
        id,
      ).toEqual([topic]);
    }
    const [, dlq] = alarms.find(([, alarm]) => alarm.Properties.AlarmName === `${synth.stage}-${APP_NAME}-${dlqAlarm.name}`)!;
    expect(dlq.Properties).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: dlqAlarm.metricName,
      Threshold: dlqAlarm.threshold,
      ComparisonOperator: dlqAlarm.comparison,
      Period: dlqAlarm.periodSeconds,
      EvaluationPeriods: dlqAlarm.evaluationPeriods,
      TreatMissingData: "notBreaching",
    });
    expect(
      dlq.Properties.Dimensions.map((dimension: Json) => [dimension.Name, describeValue(synth, "Monitoring", dimension.Value)]),
    ).toEqual([["QueueName", `Events.${deadLetterQueueId(synth)}.QueueName`]]);

    const watching = (namespace: string, metric: string) =>
      alarms
        .filter(([, alarm]) => alarm.Properties.Namespace === namespace && alarm.Properties.MetricName === metric)
        .map(([, alarm]) =>
          alarm.Properties.Dimensions.map((dimension: Json) => describeValue(synth, "Monitoring", dimension.Value)).join(),
        );
    expect(watching("AWS/SQS", "ApproximateAgeOfOldestMessage")).toEqual([`Events.${factoryQueueId(synth)}.QueueName`]);
    // The watchdog's database reading (failed, overdue, stuck, sold out without restock) alarms too.
    const [, attention] = alarms.find(([, alarm]) => alarm.Properties.MetricName === MetricName.RestockNeedsAttention)!;
    expect(attention.Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Statistic: "Maximum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
    });
    const lambdaErrors = watching("AWS/Lambda", "Errors");
    for (const handler of [CALLER, RELAY, WATCHDOG, FOLLOW_UP, HOUSEKEEPING]) {
      const [stackId, logicalId] = functionFor(synth, handler);
      expect(lambdaErrors).toContain(`${stackId}.${logicalId}`);
    }
  });
});
