/**
 * The emulator driven through the real, unmodified EventBridgeClient (and, for
 * the SQS target, the real SQSClient against an in-process fauxqs). No SDK
 * mocks: if the wire format drifts from what the SDK expects, these fail.
 */

import { EventBridgeClient, ListRulesCommand, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { afterEach, describe, expect, it } from "vitest";
import { type EventBridgeRule, type EventEnvelope, type StartEventBridgeOptions, startEventBridge } from "./emulator";
import { EventPatternError } from "./pattern";
import { sqsTarget } from "./sqs-target";

const REGION = "ap-northeast-2";
const ACCOUNT = "123456789012";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** An emulator plus a real client pointed at it; both are torn down after the test. */
async function setup(rules: EventBridgeRule[], extra: Partial<StartEventBridgeOptions> = {}) {
  const eb = await startEventBridge({ region: REGION, accountId: ACCOUNT, rules, ...extra });
  // maxAttempts 1: the SDK must not hide a 503 behind its own retries.
  const client = new EventBridgeClient({ endpoint: eb.url, region: REGION, credentials, maxAttempts: 1 });
  cleanups.push(
    () => eb.close(),
    () => client.destroy(),
  );
  return { eb, client };
}

/** A target that records what it receives. */
function collector(id = "collector") {
  const received: EventEnvelope[] = [];
  return { received, target: { id, deliver: async (e: EventEnvelope) => void received.push(e) } };
}

const orderPlaced = (detail: object = { orderId: "o-1", total: 12 }): PutEventsRequestEntry => ({
  Source: "donut.shop",
  DetailType: "OrderPlaced",
  Detail: JSON.stringify(detail),
});

const ordersRule = (target: EventBridgeRule["targets"][number], extra: Partial<EventBridgeRule> = {}): EventBridgeRule => ({
  name: "orders-to-kitchen",
  pattern: { source: ["donut.shop"], "detail-type": ["OrderPlaced"], detail: { total: [{ numeric: [">", 0] }] } },
  targets: [target],
  ...extra,
});

describe("local EventBridge via the real EventBridgeClient", () => {
  it("listens on a free port and reports an http://127.0.0.1:PORT url", async () => {
    const { eb } = await setup([]);
    expect(eb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(eb.url).not.toMatch(/:0$/);
  });

  it("delivers a matching entry wrapped in the EventBridge envelope", async () => {
    const sink = collector();
    const { eb, client } = await setup([ordersRule(sink.target)]);

    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            ...orderPlaced(),
            Resources: ["arn:aws:dynamodb:ap-northeast-2:123456789012:table/orders"],
            Time: new Date("2026-01-01T00:00:00.789Z"),
          },
        ],
      }),
    );
    await eb.idle();

    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(1);
    const eventId = out.Entries![0].EventId;
    expect(eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(sink.received).toEqual([
      {
        version: "0",
        id: eventId,
        "detail-type": "OrderPlaced",
        source: "donut.shop",
        account: ACCOUNT,
        time: "2026-01-01T00:00:00Z",
        region: REGION,
        resources: ["arn:aws:dynamodb:ap-northeast-2:123456789012:table/orders"],
        detail: { orderId: "o-1", total: 12 },
      },
    ]);
    expect(eb.published.map((e) => e.id)).toEqual([eventId]);
  });

  it("defaults time to now (second precision, no ms) and resources to []", async () => {
    const sink = collector();
    const { eb, client } = await setup([ordersRule(sink.target)]);
    const before = Math.floor(Date.now() / 1000) * 1000;
    await client.send(new PutEventsCommand({ Entries: [orderPlaced()] }));
    await eb.idle();
    const [event] = sink.received;
    expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
    expect(event.resources).toEqual([]);
  });

  it("adds a rule at run time (PutRule + PutTargets) and removes it again", async () => {
    const first = collector();
    const added = collector();
    const { eb, client } = await setup([ordersRule(first.target)]);
    const remove = eb.addRule({
      name: "listener",
      pattern: { source: ["donut.shop"] },
      targets: [{ id: "t", deliver: added.target.deliver }],
    });
    expect(() => eb.addRule({ name: "listener", pattern: { source: ["x"] }, targets: [] })).toThrow(/Duplicate rule listener/);
    await client.send(new PutEventsCommand({ Entries: [orderPlaced({ orderId: "o-3", total: 3 })] }));
    await eb.idle();
    remove();
    await client.send(new PutEventsCommand({ Entries: [orderPlaced({ orderId: "o-4", total: 4 })] }));
    await eb.idle();
    expect(first.received.map((e) => e.detail.orderId)).toEqual(["o-3", "o-4"]);
    expect(added.received.map((e) => e.detail.orderId)).toEqual(["o-3"]);
  });

  it("does not deliver an entry the pattern does not match, but still accepts it", async () => {
    const sink = collector();
    const { eb, client } = await setup([ordersRule(sink.target)]);
    const out = await client.send(
      new PutEventsCommand({ Entries: [orderPlaced({ orderId: "o-2", total: 0 }), { ...orderPlaced(), DetailType: "OrderCancelled" }] }),
    );
    await eb.idle();
    expect(out.FailedEntryCount).toBe(0);
    expect(eb.published).toHaveLength(2);
    expect(sink.received).toEqual([]);
  });

  it("reports one invalid entry among valid ones per entry and delivers the valid ones", async () => {
    const sink = collector();
    const { eb, client } = await setup([ordersRule(sink.target)]);
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          orderPlaced({ orderId: "a", total: 1 }),
          { ...orderPlaced(), Detail: "{not json" },
          orderPlaced({ orderId: "c", total: 3 }),
        ],
      }),
    );
    await eb.idle();

    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries).toHaveLength(3);
    expect(out.Entries![1]).toEqual({ ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." });
    expect(out.Entries![0].EventId).toBeDefined();
    expect(out.Entries![2].EventId).toBeDefined();
    expect(sink.received.map((e) => e.detail.orderId)).toEqual(["a", "c"]);
    expect(sink.received.map((e) => e.id)).toEqual([out.Entries![0].EventId, out.Entries![2].EventId]);
  });

  it("fails entries per AWS rules: missing Source/DetailType/Detail, non-object Detail", async () => {
    const { client } = await setup([]);
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          orderPlaced(),
          { DetailType: "OrderPlaced", Detail: "{}" },
          { Source: "donut.shop", Detail: "{}" },
          { Source: "donut.shop", DetailType: "OrderPlaced" },
          { ...orderPlaced(), Detail: "[1,2]" },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries!.map((e) => e.ErrorCode ?? "ok")).toEqual([
      "ok",
      "InvalidArgument",
      "InvalidArgument",
      "InvalidArgument",
      "MalformedDetail",
    ]);
    expect(out.Entries![1].ErrorMessage).toBe("Parameter Source is not valid. Reason: Source is a required argument.");
    expect(out.Entries![2].ErrorMessage).toMatch(/DetailType is a required argument/);
    expect(out.Entries![3].ErrorMessage).toMatch(/Detail is a required argument/);
  });

  it("fails the whole request when no entry has Source, DetailType and Detail", async () => {
    const { eb, client } = await setup([]);
    await expect(
      client.send(new PutEventsCommand({ Entries: [{ Source: "donut.shop", DetailType: "OrderPlaced" }] })),
    ).rejects.toMatchObject({
      name: "ValidationException",
      $metadata: { httpStatusCode: 400 },
    });
    expect(eb.published).toEqual([]);
  });

  it("rejects more than 10 entries with ValidationException and publishes nothing", async () => {
    const sink = collector();
    const { eb, client } = await setup([ordersRule(sink.target)]);
    const entries = Array.from({ length: 11 }, (_, i) => orderPlaced({ orderId: `o-${i}`, total: 1 }));
    const error = await client.send(new PutEventsCommand({ Entries: entries })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toMatch(/less than or equal to 10/);
    await eb.idle();
    expect(eb.published).toEqual([]);
    expect(sink.received).toEqual([]);

    // Exactly 10 is fine.
    const ok = await client.send(new PutEventsCommand({ Entries: entries.slice(0, 10) }));
    expect(ok.FailedEntryCount).toBe(0);
  });

  it("answers 503 ServiceUnavailable while unavailable, and recovers", async () => {
    const sink = collector();
    const { eb, client } = await setup([ordersRule(sink.target)]);

    eb.setAvailable(false);
    await expect(client.send(new PutEventsCommand({ Entries: [orderPlaced()] }))).rejects.toMatchObject({
      name: "ServiceUnavailable",
      $metadata: { httpStatusCode: 503 },
    });
    await eb.idle();
    expect(eb.published).toEqual([]);

    eb.setAvailable(true);
    const out = await client.send(new PutEventsCommand({ Entries: [orderPlaced()] }));
    await eb.idle();
    expect(out.FailedEntryCount).toBe(0);
    expect(sink.received).toHaveLength(1);
  });

  it("answers other operations with UnknownOperationException (400)", async () => {
    const { client } = await setup([]);
    await expect(client.send(new ListRulesCommand({}))).rejects.toMatchObject({
      name: "UnknownOperationException",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("routes by event bus: EventBusName by name or ARN, default bus otherwise", async () => {
    const custom = collector("custom");
    const dflt = collector("default");
    const { eb, client } = await setup([
      ordersRule(custom.target, { name: "on-orders-bus", eventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/orders` }),
      ordersRule(dflt.target, { name: "on-default-bus" }),
    ]);
    await client.send(
      new PutEventsCommand({
        Entries: [
          { ...orderPlaced({ orderId: "by-name", total: 1 }), EventBusName: "orders" },
          { ...orderPlaced({ orderId: "by-arn", total: 1 }), EventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/orders` },
          orderPlaced({ orderId: "default", total: 1 }),
        ],
      }),
    );
    await eb.idle();
    expect(custom.received.map((e) => e.detail.orderId).sort()).toEqual(["by-arn", "by-name"]);
    expect(dflt.received.map((e) => e.detail.orderId)).toEqual(["default"]);
  });

  it("delivers to every target of every matching rule, each with its own copy", async () => {
    const a = collector("a");
    const mutator = { id: "mutator", deliver: async (e: EventEnvelope) => void (e.detail.orderId = "mutated") };
    const b = collector("b");
    const { eb, client } = await setup([
      { ...ordersRule(a.target), targets: [mutator, a.target] },
      { name: "everything-from-the-shop", pattern: { source: [{ prefix: "donut." }] }, targets: [b.target] },
    ]);
    await client.send(new PutEventsCommand({ Entries: [orderPlaced()] }));
    await eb.idle();
    expect(a.received.map((e) => e.detail.orderId)).toEqual(["o-1"]);
    expect(b.received.map((e) => e.detail.orderId)).toEqual(["o-1"]);
  });

  it("retries a failing target with backoff, then gives up and logs", async () => {
    let flakyCalls = 0;
    const flaky = {
      id: "flaky",
      deliver: async () => {
        flakyCalls++;
        if (flakyCalls < 3) throw new Error("target down");
      },
    };
    let brokenCalls = 0;
    const broken = {
      id: "broken",
      deliver: async () => {
        brokenCalls++;
        throw new Error("always down");
      },
    };
    const logged: string[] = [];
    const { eb, client } = await setup([ordersRule(flaky, { name: "flaky-rule" }), ordersRule(broken, { name: "broken-rule" })], {
      retry: { retries: 2, baseDelayMs: 5 },
      log: (message) => void logged.push(message),
    });
    const out = await client.send(new PutEventsCommand({ Entries: [orderPlaced()] }));
    await eb.idle();

    expect(flakyCalls).toBe(3); // two failures, then success on the last allowed attempt
    expect(brokenCalls).toBe(3); // first attempt + 2 retries
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("broken-rule");
    expect(logged[0]).toContain(out.Entries![0].EventId!);
  });

  it("refuses to start with an invalid rule pattern", async () => {
    await expect(
      startEventBridge({ region: REGION, accountId: ACCOUNT, rules: [{ name: "bad", pattern: { source: "donut.shop" }, targets: [] }] }),
    ).rejects.toThrow(EventPatternError);
  });
});

describe("EventBridge -> SQS target on fauxqs", () => {
  let fauxqs: FauxqsServer | undefined;
  afterEach(async () => {
    await fauxqs?.stop();
    fauxqs = undefined;
  });

  it("puts the JSON envelope on the queue as the message body", async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: REGION });
    // Explicit endpoint: fauxqs queue URLs are http://sqs.<region>.localhost:<port>/...,
    // and without an endpoint the SQS client would send requests to that host.
    const sqs = new SQSClient({ endpoint: fauxqs.address, region: REGION, credentials });
    cleanups.push(() => sqs.destroy());
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "kitchen-orders" }));
    expect(QueueUrl).toBeDefined();

    const { eb, client } = await setup([ordersRule({ id: "kitchen-queue", deliver: sqsTarget(sqs, QueueUrl!) })]);
    const out = await client.send(new PutEventsCommand({ Entries: [orderPlaced({ orderId: "o-sqs", total: 5 })] }));
    await eb.idle();

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    expect(received.Messages).toHaveLength(1);
    const body = JSON.parse(received.Messages![0].Body!) as EventEnvelope;
    expect(body).toEqual(eb.published[0]);
    expect(body).toMatchObject({
      version: "0",
      id: out.Entries![0].EventId,
      "detail-type": "OrderPlaced",
      source: "donut.shop",
      account: ACCOUNT,
      region: REGION,
      resources: [],
      detail: { orderId: "o-sqs", total: 5 },
    });
  });
});
