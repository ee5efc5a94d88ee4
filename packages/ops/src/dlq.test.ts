import { setTimeout as sleep } from "node:timers/promises";
import { CreateQueueCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { describeBody, isUnsupportedOperation, peekMessages, queueArn, redriveLoop } from "@donut-states/core/util/sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseRate } from "./dlq";
import { drainBodies, fillQueue, type OpsFixture, opsFixture, outOfStockEnvelope, visible } from "./testing";

let fixture: OpsFixture;
let dlqUrl: string;
let queueUrl: string;

beforeAll(async () => {
  fixture = await opsFixture({ label: "ops_dlq", queues: true });
  dlqUrl = fixture.topology!.dlqUrl;
  queueUrl = fixture.topology!.factoryQueueUrl;
});
afterAll(async () => {
  await fixture?.close();
});
beforeEach(async () => {
  // Each test starts with both queues empty (fauxqs purges at once).
  for (const url of [dlqUrl, queueUrl]) await fixture.sqs!.send(new PurgeQueueCommand({ QueueUrl: url }));
});

const sorted = (values: string[]) => [...values].sort();

describe("dlq peek", () => {
  it("shows restockId, sku and receive count without consuming anything", async () => {
    const bodies = await fillQueue(fixture.sqs!, dlqUrl, 12);
    const peeked = await peekMessages(fixture.sqs!, dlqUrl, { max: 12, waitSeconds: 0 });
    expect(peeked).toHaveLength(12);
    expect(new Set(peeked.map((message) => message.messageId)).size).toBe(12);
    const first = peeked.find((message) => message.body === bodies[0])!;
    expect(first).toMatchObject({
      restockId: JSON.parse(bodies[0]).detail.restockId,
      sku: "CP-500000",
      quantity: 30,
      detailType: "OutOfStock",
      receiveCount: 1,
    });

    // Still all there, visible right away (not merely after a visibility timeout).
    expect(await visible(fixture.sqs!, dlqUrl)).toBe(12);
    expect(sorted(await drainBodies(fixture.sqs!, dlqUrl))).toEqual(sorted(bodies));
  });

  it("respects --max and prints JSON through the CLI; the messages stay", async () => {
    const bodies = await fillQueue(fixture.sqs!, dlqUrl, 4);
    const run = await fixture.ops("--json", "dlq", "peek", "--max", "3");
    expect(run.code, run.err).toBe(0);
    const { messages, depth } = run.json<{
      messages: Array<{ restockId: string; sku: string; receiveCount: number }>;
      depth: { visible: number };
    }>();
    expect(messages).toHaveLength(3);
    expect(depth.visible).toBe(4);
    for (const message of messages) expect(message.restockId).toMatch(/^R0+\d$/);
    expect(sorted(await drainBodies(fixture.sqs!, dlqUrl))).toEqual(sorted(bodies));
  });

  it("marks events EventBridge itself dead-lettered (ERROR_CODE attribute)", async () => {
    await fixture.sqs!.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify(outOfStockEnvelope("01J9Z3X8Q6W5V4T3S2R1P0N9M8", "CP-9")),
        MessageAttributes: {
          ERROR_CODE: { DataType: "String", StringValue: "SDK_CLIENT_ERROR" },
          RULE_ARN: { DataType: "String", StringValue: "arn:aws:events:x" },
        },
      }),
    );
    const [peeked] = await peekMessages(fixture.sqs!, dlqUrl, { waitSeconds: 0 });
    expect(peeked).toMatchObject({ restockId: "01J9Z3X8Q6W5V4T3S2R1P0N9M8", sku: "CP-9", eventBridgeError: "SDK_CLIENT_ERROR" });
    const run = await fixture.ops("dlq", "peek");
    expect(run.out).toMatch(/EVENTBRIDGE ERROR[\s\S]*SDK_CLIENT_ERROR/);

    // Redrive keeps the attributes (and the body) as they were.
    expect((await fixture.ops("dlq", "redrive", "--loop", "--yes")).code).toBe(0);
    const { Messages = [] } = await fixture.sqs!.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["All"], WaitTimeSeconds: 0 }),
    );
    expect(Messages[0]?.MessageAttributes?.ERROR_CODE?.StringValue).toBe("SDK_CLIENT_ERROR");
  });

  it("prints a table for people, and says when the DLQ is empty", async () => {
    const empty = await fixture.ops("dlq", "peek");
    expect(empty.code, empty.err).toBe(0);
    expect(empty.out).toBe("The DLQ is empty (0 in flight).");

    await fillQueue(fixture.sqs!, dlqUrl, 2);
    const run = await fixture.ops("dlq", "peek");
    expect(run.code, run.err).toBe(0);
    expect(run.out.split("\n")[0]).toMatch(/^MESSAGE\s+RESTOCK\s+SKU\s+QTY\s+RECEIVES\s+SENT$/);
    expect(run.out).toMatch(/CP-500001\s+30\s+1\s+\d+s ago/);
    expect(run.out).toMatch(/2 shown; the DLQ holds about 2 \(\+0 in flight\)\. Nothing was consumed\./);
  });
});

describe("dlq redrive", () => {
  it("moves every message DLQ -> factory queue through the CLI (falling back from StartMessageMoveTask on the emulator)", async () => {
    const bodies = await fillQueue(fixture.sqs!, dlqUrl, 13);
    const run = await fixture.ops("dlq", "redrive", "--rate", "200/s", "--yes");
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/no StartMessageMoveTask \(the offline emulator\): moving the messages from here instead/);
    expect(run.out).toMatch(/Moved 13 message\(s\) from the DLQ to the factory queue/);
    expect(await visible(fixture.sqs!, dlqUrl)).toBe(0);
    expect(sorted(await drainBodies(fixture.sqs!, queueUrl))).toEqual(sorted(bodies));
  });

  it("stops at --max and leaves the rest in the DLQ", async () => {
    await fillQueue(fixture.sqs!, dlqUrl, 5);
    const run = await fixture.ops("--json", "dlq", "redrive", "--max", "2", "--rate", "100", "--yes");
    expect(run.code, run.err).toBe(0);
    expect(run.json()).toMatchObject({ mode: "loop", moved: 2, failed: 0, dlqDepthBefore: 5 });
    expect(await visible(fixture.sqs!, queueUrl)).toBe(2);
    expect(await visible(fixture.sqs!, dlqUrl)).toBe(3);
  });

  it("respects the rate: n messages at r/s take at least (n-1)/r seconds", async () => {
    await fillQueue(fixture.sqs!, dlqUrl, 6);
    const progress: number[] = [];
    const result = await redriveLoop(
      fixture.sqs!,
      { from: dlqUrl, to: queueUrl },
      { ratePerSecond: 5, waitSeconds: 0, onProgress: ({ moved }) => progress.push(moved) },
    );
    expect(result).toMatchObject({ moved: 6, failed: 0, errors: [] });
    expect(result.durationMs).toBeGreaterThanOrEqual(950);
    expect(result.durationMs).toBeLessThan(4000);
    // At 5/s no batch is larger than 5 messages.
    expect(progress).toEqual([5, 6]);
    expect(await visible(fixture.sqs!, queueUrl)).toBe(6);
  });

  it("stops instead of chasing messages that fail again and come back to the DLQ", async () => {
    // A target whose messages go back to our DLQ on their 2nd receive, and a consumer that always fails.
    const dlqArn = await queueArn(fixture.sqs!, dlqUrl);
    const { QueueUrl: bouncing } = await fixture.sqs!.send(
      new CreateQueueCommand({
        QueueName: `bounce-${Date.now()}`,
        Attributes: { VisibilityTimeout: "0", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) },
      }),
    );
    let consuming = true;
    const consumer = (async () => {
      while (consuming) {
        await fixture.sqs!.send(new ReceiveMessageCommand({ QueueUrl: bouncing, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        await sleep(20);
      }
    })();
    try {
      await fillQueue(fixture.sqs!, dlqUrl, 4);
      const result = await redriveLoop(fixture.sqs!, { from: dlqUrl, to: bouncing! }, { ratePerSecond: 2, waitSeconds: 0 });
      expect(result.stoppedBecause).toMatch(/came back to the source queue/);
      expect(result.moved).toBeLessThan(40);
    } finally {
      consuming = false;
      await consumer;
    }
  });

  it("from a script, says what it would move and refuses without --yes; at a terminal, asks", async () => {
    await fillQueue(fixture.sqs!, dlqUrl, 3);
    const script = await fixture.ops("dlq", "redrive", "--rate", "5/s");
    expect(script.code).toBe(2);
    expect(script.err).toBe(
      `error: About to move about 3 message(s) from the DLQ ${dlqUrl} to the factory queue ${queueUrl} at 5/s: the factory caller asks the factory again for each.\n` +
        "Not confirmed, nothing was changed: pass --yes to go ahead (no terminal to ask).",
    );
    const declined = await fixture.opsWith({ confirm: () => false }, "--json", "dlq", "redrive", "--max", "2");
    expect(declined.asked).toEqual([
      expect.stringMatching(/^About to move at most 2 message\(s\) from the DLQ .* at 10\/s: .*\nGo ahead\?$/),
    ]);
    expect(declined.code).toBe(1);
    expect(JSON.parse(declined.err)).toEqual({ error: { code: "CANCELLED", message: "Cancelled: nothing was changed." } });
    expect(await visible(fixture.sqs!, dlqUrl)).toBe(3);
    expect(await visible(fixture.sqs!, queueUrl)).toBe(0);

    const accepted = await fixture.opsWith({ confirm: () => true }, "dlq", "redrive", "--rate", "100");
    expect(accepted.code, accepted.err).toBe(0);
    expect(await visible(fixture.sqs!, dlqUrl)).toBe(0);
  });

  it("says so when the DLQ is empty", async () => {
    const run = await fixture.ops("dlq", "redrive");
    expect(run.code, run.err).toBe(0);
    expect(run.out).toBe("The DLQ is empty; nothing to redrive.");
  });

  it("validates --rate and --max", async () => {
    expect((await fixture.ops("dlq", "redrive", "--rate", "0")).code).toBe(2);
    expect((await fixture.ops("dlq", "redrive", "--rate", "fast")).err).toMatch(/--rate must be messages per second/);
    expect((await fixture.ops("dlq", "redrive", "--max", "-1")).code).toBe(2);
    expect(parseRate("5/s")).toBe(5);
    expect(parseRate("0.5")).toBe(0.5);
    expect(parseRate("12 / sec")).toBe(12);
  });
});

describe("queues and helpers", () => {
  it("ops queues shows both depths", async () => {
    await fillQueue(fixture.sqs!, dlqUrl, 3);
    const run = await fixture.ops("--json", "queues");
    expect(run.code, run.err).toBe(0);
    expect(run.json<{ queues: unknown[] }>().queues).toEqual([
      expect.objectContaining({ name: "factory queue", visible: 0, inFlight: 0 }),
      expect.objectContaining({ name: "DLQ", visible: 3, inFlight: 0 }),
    ]);
  });

  it("recognises 'not implemented here' errors and reads bodies defensively", () => {
    expect(isUnsupportedOperation(Object.assign(new Error("Unknown action: StartMessageMoveTask"), { name: "InvalidAction" }))).toBe(true);
    expect(isUnsupportedOperation(Object.assign(new Error("nope"), { name: "UnsupportedOperation" }))).toBe(true);
    expect(isUnsupportedOperation(Object.assign(new Error("denied"), { name: "AccessDenied" }))).toBe(false);
    expect(describeBody("not json")).toEqual({});
    expect(describeBody(JSON.stringify({ restockId: "R1", sku: "CP-1" }))).toMatchObject({ restockId: "R1", sku: "CP-1" });
  });

  it("a stale stack file gives a clear SQS error, exit 1", async () => {
    const run = await fixture.ops("--dlq-url", "http://sqs.ap-northeast-2.localhost:1/000000000000/nope", "dlq", "peek");
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/queue does not exist/i);
  });
});
