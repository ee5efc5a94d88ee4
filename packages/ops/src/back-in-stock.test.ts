import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { PurgeQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { backInStockRule } from "@donut-states/core/topology";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { replayFailedEvents } from "./back-in-stock";
import { drainBodies, type OpsFixture, opsFixture, REGION, restockEnvelope, visible } from "./testing";

/**
 * The back-in-stock notifier's failed-events queue through the ops CLI, against real fauxqs and
 * the EventBridge emulator: peek shows what failed and why without consuming it; replay puts
 * each RestockFulfilled back on the bus and deletes it only once EventBridge took it.
 */
let fixture: OpsFixture;
let queueUrl: string;

beforeAll(async () => {
  fixture = await opsFixture({ label: "ops_bis", queues: true, eventBridge: true });
  queueUrl = fixture.topology!.failedEventsQueueUrls[backInStockRule.name];
});
afterAll(async () => {
  await fixture?.close();
});
beforeEach(async () => {
  await fixture.sqs!.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  fixture.restockFulfilled.length = 0;
});

const restockFulfilled = (restockId: string, sku: string) =>
  restockEnvelope("RestockFulfilled", { restockId, sku, name: sku, quantity: 12, stock: 12 });

/** What Lambda sends to the notifier's on-failure destination after its retries. */
function invocationRecord(event: ReturnType<typeof restockFulfilled>) {
  return {
    version: "1.0",
    timestamp: "2026-12-02T10:03:00Z",
    requestContext: {
      requestId: "c1f1",
      functionArn: "arn:aws:lambda:ap-northeast-2:000000000000:function:notifier:$LATEST",
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    responsePayload: { errorType: "NotFound", errorMessage: "Topic does not exist" },
  };
}

async function fill() {
  const send = (body: unknown, attributes?: Record<string, string>) =>
    fixture.sqs!.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: typeof body === "string" ? body : JSON.stringify(body),
        MessageAttributes:
          attributes &&
          Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }])),
      }),
    );
  // The notifier failed three times on one; EventBridge could not invoke it for another; and junk.
  await send(invocationRecord(restockFulfilled("01JBIS00000000000000000001", "BIS-1")));
  await send(restockFulfilled("01JBIS00000000000000000002", "BIS-2"), { ERROR_CODE: "SDK_CLIENT_ERROR", RULE_ARN: "arn:aws:events:x" });
  await send("not an event");
}

describe("back-in-stock peek", () => {
  it("shows each failed event's SKU, restock and error without consuming anything", async () => {
    await fill();
    const run = await fixture.ops("--json", "back-in-stock", "peek");
    expect(run.code, run.err).toBe(0);
    const { events, depth } = run.json<{ events: Array<Record<string, any>>; depth: { visible: number } }>();
    expect(depth.visible).toBe(3);
    const bySku = Object.fromEntries(events.map((event) => [event.event?.detail?.sku ?? "none", event]));
    expect(bySku["BIS-1"]).toMatchObject({ failedIn: "notifier", invocations: 3, error: "NotFound: Topic does not exist" });
    expect(bySku["BIS-2"]).toMatchObject({ failedIn: "eventbridge", error: "SDK_CLIENT_ERROR" });
    expect(bySku.none).toMatchObject({ failedIn: "unknown" });
    expect(await visible(fixture.sqs!, queueUrl)).toBe(3);

    const text = await fixture.ops("back-in-stock");
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/BIS-1 .*01JBIS00000000000000000001 .*notifier \(3x\)/);
    expect(text.out).toContain("npm run ops -- back-in-stock replay");
  });
});

describe("back-in-stock replay", () => {
  it("puts every RestockFulfilled back on the bus, where the rule matches it, and deletes it; anything else stays", async () => {
    await fill();
    const run = await fixture.ops("--json", "back-in-stock", "replay", "--yes");
    expect(run.code, run.err).toBe(0);
    expect(run.json()).toMatchObject({ replayed: 2, skipped: [expect.any(String)] });
    expect(fixture.restockFulfilled.map((event) => [event.source, event["detail-type"], event.detail]).sort()).toEqual([
      ["donut-states.sales", "RestockFulfilled", restockFulfilled("01JBIS00000000000000000001", "BIS-1").detail],
      ["donut-states.sales", "RestockFulfilled", restockFulfilled("01JBIS00000000000000000002", "BIS-2").detail],
    ]);
    // The junk is still there, visible at once for the alarm and the operator.
    expect(await visible(fixture.sqs!, queueUrl)).toBe(1);
    expect(await drainBodies(fixture.sqs!, queueUrl)).toEqual(["not an event"]);
  });

  it("stops at the first event EventBridge refuses and leaves every message in the queue, visible", async () => {
    await fill();
    // An EventBridge that does not answer: nothing listens on this port.
    const unreachable = new EventBridgeClient({
      endpoint: "http://127.0.0.1:9",
      region: REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    try {
      const result = await replayFailedEvents(fixture.sqs!, unreachable, { queueUrl, eventBusName: "default" });
      expect(result.replayed).toBe(0);
      expect(result.stoppedBecause).toMatch(/EventBridge refused event .*ECONNREFUSED|EventBridge refused event/);
    } finally {
      unreachable.destroy();
    }
    expect(await visible(fixture.sqs!, queueUrl)).toBe(3);
    expect(fixture.restockFulfilled).toEqual([]);
  });

  it("from a script, says what it would put on the bus and refuses without --yes; at a terminal, asks", async () => {
    await fill();
    const script = await fixture.ops("back-in-stock", "replay");
    expect(script.code).toBe(2);
    expect(script.err).toBe(
      `error: About to put the RestockFulfilled events of the failed-events queue ${queueUrl} (about 3 message(s)) back on bus default: the notifier mails their subscribers.\n` +
        "Not confirmed, nothing was changed: pass --yes to go ahead (no terminal to ask).",
    );
    const declined = await fixture.opsWith({ confirm: () => false }, "back-in-stock", "replay", "--max", "1");
    expect(declined.asked).toEqual([
      expect.stringMatching(/^About to put at most 1 RestockFulfilled event\(s\) of the failed-events queue /),
    ]);
    expect(declined.code).toBe(1);
    expect(fixture.restockFulfilled).toEqual([]);
    expect(await visible(fixture.sqs!, queueUrl)).toBe(3);
  });

  it("replays at most --max events", async () => {
    await fill();
    const run = await fixture.ops("--json", "back-in-stock", "replay", "--max", "1", "--yes");
    expect(run.code, run.err).toBe(0);
    expect(run.json<{ replayed: number; skipped: string[] }>().replayed + run.json<{ skipped: string[] }>().skipped.length).toBe(1);
    expect(await visible(fixture.sqs!, queueUrl)).toBe(2);
  });
});
