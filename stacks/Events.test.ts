/**
 * The Events stack: the bus and its archive, the OutOfStock rule, the factory queue and its DLQ,
 * all from the topology; and a small Events-only app built from a modified topology.
 */

import { rmSync } from "node:fs";
import { eventArchive, factoryCaller, factoryDeadLetterQueue, factoryQueue, outOfStockRule } from "@donut-states/core/topology";
import type { App } from "sst/constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Events } from "./Events";
import { APP_NAME } from "./settings";
import { bothStages } from "./test/app";
import { CALLER, deadLetterQueueId, factoryQueueId, functionFor } from "./test/functions";
import { type Synthesized, synthesize } from "./test/synth";
import { describeValue, type Json, resourcesOf, single, TEST_ACCOUNT } from "./test/templates";

const stages = bothStages();
const { prod } = stages;
let topologyVariant: Synthesized;

afterAll(() => {
  if (topologyVariant) rmSync(topologyVariant.outdir, { recursive: true, force: true });
});

describe.each(stages.each)("%s stage", (_name, get) => {
  it("routes OutOfStock events with exactly the topology's pattern to the factory queue", () => {
    const synth = get();
    const events = synth.templates.Events;
    const [busId] = single(events, "AWS::Events::EventBus");
    const rules = resourcesOf(events, "AWS::Events::Rule");
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties.Name).toBe(`${synth.stage}-${APP_NAME}-${outOfStockRule.name}`);
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule.Properties.EventPattern).toEqual(outOfStockRule.pattern);
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0].Arn).toEqual({ "Fn::GetAtt": [factoryQueueId(synth), "Arn"] });
    // Undeliverable events go to the same DLQ (and its alarm).
    expect(rule.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: { "Fn::GetAtt": [deadLetterQueueId(synth), "Arn"] } });
    // An hour of retries at most (EventBridge's default is 24 h): an outage reaches the DLQ alarm within the hour.
    expect(rule.Properties.Targets[0].RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: outOfStockRule.maxEventAgeSeconds,
      MaximumRetryAttempts: outOfStockRule.retryAttempts,
    });
    expect(outOfStockRule.maxEventAgeSeconds).toBeLessThanOrEqual(3600);
  });

  it("archives every event of ours on the bus: 30 days on prod, 7 elsewhere (the topology's values)", () => {
    const synth = get();
    const events = synth.templates.Events;
    const [busId] = single(events, "AWS::Events::EventBus");
    const [archiveId, archive] = single(events, "AWS::Events::Archive");
    expect(archive.Properties).toEqual({
      ArchiveName: `${synth.stage}-${APP_NAME}-${eventArchive.name}`,
      Description: "Every donut-states.sales event, for replays",
      SourceArn: { "Fn::GetAtt": [busId, "Arn"] },
      EventPattern: { source: ["donut-states.sales"] },
      RetentionDays: synth.stage === "prod" ? 30 : 7,
      KmsKeyIdentifier: "", // encrypted with an AWS owned key, EventBridge's default
    });
    expect(archive.Properties.EventPattern).toEqual(eventArchive.pattern);
    expect(eventArchive.retentionDays).toEqual({ prod: 30, other: 7 });
    // Its ARN and the bus's, for `aws events start-replay` (docs/runbook.md#replay).
    expect(events.Outputs.EventArchiveArn.Value).toEqual({ "Fn::GetAtt": [archiveId, "Arn"] });
    expect(events.Outputs.EventBusArn.Value).toEqual({ "Fn::GetAtt": [busId, "Arn"] });
  });

  it("configures the factory queue and its DLQ from the topology", () => {
    const synth = get();
    const events = synth.templates.Events;
    const queue = events.Resources[factoryQueueId(synth)].Properties;
    const dlq = events.Resources[deadLetterQueueId(synth)].Properties;
    expect(queue.QueueName).toBe(`${synth.stage}-${APP_NAME}-${factoryQueue.name}`);
    expect(queue.VisibilityTimeout).toBe(factoryQueue.visibilityTimeoutSeconds);
    expect(queue.MessageRetentionPeriod).toBe(factoryQueue.retentionSeconds);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [deadLetterQueueId(synth), "Arn"] },
      maxReceiveCount: factoryQueue.maxReceiveCount,
    });
    expect(dlq.QueueName).toBe(`${synth.stage}-${APP_NAME}-${factoryDeadLetterQueue.name}`);
    expect(dlq.MessageRetentionPeriod).toBe(factoryDeadLetterQueue.retentionSeconds);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
    for (const properties of [queue, dlq]) expect(properties.SqsManagedSseEnabled).toBe(true);
    // Only the factory queue may use the DLQ (and be redriven into from it).
    expect(dlq.RedriveAllowPolicy.redrivePermission).toBe("byQueue");
    expect(dlq.RedriveAllowPolicy.sourceQueueArns.map((arn: Json) => describeValue(synth, "Events", arn))).toEqual([
      `arn:\${AWS::Partition}:sqs:ap-northeast-2:${TEST_ACCOUNT}:${synth.stage}-${APP_NAME}-${factoryQueue.name}`,
    ]);
    // AWS: visibility timeout >= 6 x the consumer's timeout (read from the synthesized function).
    const [, , caller] = functionFor(synth, CALLER);
    expect(caller.Properties.Timeout).toBe(factoryCaller.timeoutSeconds);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * caller.Properties.Timeout);
    expect(factoryQueue.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });
});

// ---------------------------------------------------------------- the topology drives the template

describe("topology as the single source of truth", () => {
  const queueBefore = { ...factoryQueue };
  const patternBefore = outOfStockRule.pattern;
  const queue = factoryQueue as unknown as Record<keyof typeof factoryQueue, number>;
  const rule = outOfStockRule as unknown as { pattern: Json };

  beforeAll(async () => {
    // Change the shared topology object (the stacks import it; nothing is copied or hard-coded).
    queue.maxReceiveCount = 8;
    queue.visibilityTimeoutSeconds = 7 * factoryCaller.timeoutSeconds;
    rule.pattern = { ...patternBefore, detail: { factoryId: [{ prefix: "FF-" }] } };
    try {
      topologyVariant = await synthesize({ stage: "topology", mode: "deploy", register: (app: App) => void app.stack(Events) });
    } finally {
      Object.assign(factoryQueue, queueBefore);
      rule.pattern = patternBefore;
    }
  }, 60_000);
  afterAll(() => {
    Object.assign(factoryQueue, queueBefore);
    rule.pattern = patternBefore;
  });

  it("changes the template when the topology changes", () => {
    const events = topologyVariant.templates.Events;
    const queue = events.Resources[factoryQueueId(topologyVariant)].Properties;
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(8);
    expect(queue.VisibilityTimeout).toBe(7 * factoryCaller.timeoutSeconds);
    const [, rule] = single(events, "AWS::Events::Rule");
    expect(rule.Properties.EventPattern).toEqual({ ...patternBefore, detail: { factoryId: [{ prefix: "FF-" }] } });
    // ... while the real app still has the real values.
    const prodQueue = prod().templates.Events.Resources[factoryQueueId(prod())].Properties;
    expect(prodQueue.RedrivePolicy.maxReceiveCount).toBe(queueBefore.maxReceiveCount);
  });

  it("refuses a visibility timeout under 6 x the consumer timeout", async () => {
    queue.visibilityTimeoutSeconds = 5 * factoryCaller.timeoutSeconds;
    try {
      await expect(synthesize({ stage: "topology", mode: "deploy", register: (app: App) => void app.stack(Events) })).rejects.toThrow(
        /visibilityTimeoutSeconds .* must be >= 6 x/,
      );
    } finally {
      Object.assign(factoryQueue, queueBefore);
    }
  });
});
