/**
 * The Restock stack: the factory caller on the factory queue, the outbox relay and the watchdog
 * on their schedules.
 */
import { factoryCaller, schedules } from "@donut-states/core/topology";
import { describe, expect, it } from "vitest";
import { bothStages } from "./test/app";
import { CALLER, factoryQueueId, functionFor, RELAY, WATCHDOG } from "./test/functions";
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
});
