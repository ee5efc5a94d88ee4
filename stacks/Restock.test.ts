/**
 * The Restock stack: the factory caller on the factory queue, the outbox relay and the watchdog
 * on their schedules, the DLQ alarm's follow-up on its rule.
 */
import { dlqAlarm, dlqAlarmFollowUp, factoryCaller, schedules } from "@donut-states/core/topology";
import { describe, expect, it } from "vitest";
import { APP_NAME } from "./settings";
import { bothStages } from "./test/app";
import { CALLER, FOLLOW_UP, factoryQueueId, functionFor, RELAY, WATCHDOG } from "./test/functions";
import { describeValue, resourcesOf, single } from "./test/templates";

const stages = bothStages();

describe.each(stages.each)("%s stage", (_name, get) => {
  it("feeds the factory caller batches with partial failures", () => {
    const synth = get();
    const [stackId, callerId] = functionFor(synth, CALLER);
    const [, mapping] = single(synth.templates[stackId], "AWS::Lambda::EventSourceMapping");
    expect(mapping.Properties.FunctionName).toEqual({ Ref: callerId });
    expect(describeValue(synth, stackId, mapping.Properties.EventSourceArn)).toBe(`Events.${factoryQueueId(synth)}.Arn`);
    expect(mapping.Properties.BatchSize).toBe(factoryCaller.batchSize);
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBe(factoryCaller.maxBatchingWindowSeconds);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    // At most maxConcurrency batches in flight: the legacy factory gets at most
    // maxConcurrency x batchSize calls at once (records of a batch run in parallel).
    expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: factoryCaller.maxConcurrency });
    expect(factoryCaller.maxConcurrency * factoryCaller.batchSize).toBeLessThanOrEqual(20);
    // Under `sst dev` the trigger starts disabled (the live stub would acknowledge batches with
    // no session connected); deployed stages consume.
    expect(mapping.Properties.Enabled).toBe(synth.mode !== "dev");
    expect(describeValue(synth, stackId, synth.templates[stackId].Outputs.FactoryCallerEventSourceMappingId.Value)).toMatch(/^Restock\./);
  });

  it("runs the outbox relay and the restock watchdog on the topology's schedules", () => {
    const synth = get();
    const restock = synth.templates.Restock;
    const scheduled = Object.fromEntries(
      resourcesOf(restock, "AWS::Events::Rule")
        .filter(([, rule]) => rule.Properties.ScheduleExpression)
        .map(([, rule]) => [rule.Properties.Targets[0].Arn["Fn::GetAtt"][0], rule.Properties.ScheduleExpression]),
    );
    expect(scheduled).toEqual({
      [functionFor(synth, RELAY)[1]]: schedules.outboxRelay.aws,
      [functionFor(synth, WATCHDOG)[1]]: schedules.restockWatchdog.aws,
    });
  });

  it("never overlaps two runs of a scheduled job: each is killed before the next is due and not retried", () => {
    // Two overlapping watchdog runs would both e-mail the same unreported problem. Lambda stops a
    // run at its timeout; with no async retry, the next run can start only after that.
    const synth = get();
    const seconds = (rate: string) => {
      const match = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(rate);
      if (!match) throw new Error(`unexpected schedule ${rate}`);
      return Number(match[1]) * (match[2].startsWith("hour") ? 3600 : 60);
    };
    for (const [handler, schedule] of [
      [RELAY, schedules.outboxRelay.aws],
      [WATCHDOG, schedules.restockWatchdog.aws],
    ] as const) {
      const [, logicalId, fn] = functionFor(synth, handler);
      expect(fn.Properties.Timeout, handler).toBeLessThanOrEqual(seconds(schedule));
      const invokeConfig = resourcesOf(synth.templates.Restock, "AWS::Lambda::EventInvokeConfig").find(([, config]) =>
        JSON.stringify(config.Properties.FunctionName).includes(logicalId),
      );
      expect(invokeConfig?.[1].Properties.MaximumRetryAttempts, handler).toBe(0);
    }
  });

  it("runs the DLQ follow-up when the DLQ alarm enters ALARM: a rule on the default bus with the topology's pattern", () => {
    const synth = get();
    const restock = synth.templates.Restock;
    // The crons' rules have a schedule; this one matches events.
    const rules = resourcesOf(restock, "AWS::Events::Rule").filter(([, rule]) => rule.Properties.EventPattern);
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties.Name).toBe(`${synth.stage}-${APP_NAME}-${dlqAlarmFollowUp.name}`);
    // CloudWatch sends alarm state changes to the default bus only.
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: [`${synth.stage}-${APP_NAME}-${dlqAlarm.name}`], state: { value: ["ALARM"] } },
    });
    expect(rule.Properties.EventPattern).toEqual(dlqAlarmFollowUp.pattern(`${synth.stage}-${APP_NAME}-${dlqAlarm.name}`));
    // The alarm it listens to exists under that name.
    expect(resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties.AlarmName)).toContain(
      `${synth.stage}-${APP_NAME}-${dlqAlarm.name}`,
    );
    const [stackId, functionId] = functionFor(synth, FOLLOW_UP);
    // Pipeline behaviour: in the restock stack, beside the watchdog.
    expect(stackId).toBe("Restock");
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0]).toMatchObject({
      Arn: { "Fn::GetAtt": [functionId, "Arn"] },
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
    });
    // EventBridge may invoke it, from this rule only.
    const permissions = resourcesOf(restock, "AWS::Lambda::Permission").filter(([, permission]) =>
      JSON.stringify(permission.Properties.FunctionName).includes(functionId),
    );
    expect(permissions.map(([, permission]) => [permission.Properties.Principal, permission.Properties.SourceArn])).toEqual([
      ["events.amazonaws.com", { "Fn::GetAtt": [rules[0][0], "Arn"] }],
    ]);
    expect(functionFor(synth, FOLLOW_UP)[2].Properties.Timeout).toBe(dlqAlarmFollowUp.timeoutSeconds);
  });
});
