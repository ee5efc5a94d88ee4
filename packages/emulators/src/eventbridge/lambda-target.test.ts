import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqsSnsEmulator, startSqsSns } from "../aws";
import { type AnyHandler, createHandlerPool } from "../runtime/handlers";
import { drain, testQueue } from "../testing/aws";
import type { EventEnvelope } from "./emulator";
import { type AsyncInvocationFailureRecord, lambdaTarget } from "./lambda-target";

/**
 * A rule's Lambda target: Lambda's two retries of an asynchronous invocation, then the
 * function's on-failure destination (a real SQS queue in the emulator) gets Lambda's invocation
 * record, or the event is dropped when there is none.
 */
let emulator: SqsSnsEmulator;
beforeAll(async () => {
  emulator = await startSqsSns({ port: 0, region: "ap-northeast-2" });
});
afterAll(async () => {
  await emulator?.close();
});

const event: EventEnvelope = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "RestockFulfilled",
  source: "donut-states.sales",
  account: "000000000000",
  time: "2026-12-02T10:00:00Z",
  region: "ap-northeast-2",
  resources: [],
  detail: { sku: "CP-502101" },
};

/** A function that fails its first `failures` invocations (as a publish to an SNS outage would). */
function flaky(failures: number) {
  const seen: unknown[] = [];
  const handler: AnyHandler = async (received: unknown) => {
    seen.push(received);
    if (seen.length <= failures) throw new TypeError(`SNS unreachable (invocation ${seen.length})`);
    return "ok";
  };
  return { pool: createHandlerPool({ functionName: "notifier", load: async () => handler }), seen };
}

async function failureQueue() {
  const queue = await testQueue(emulator.sqs, "failed-events");
  const send = async (record: AsyncInvocationFailureRecord) => {
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(record) }));
  };
  return { queue, onFailure: { functionArn: "arn:aws:lambda:ap-northeast-2:000000000000:function:notifier", send } };
}

describe("EventBridge -> Lambda target", () => {
  it("invokes three times in all, then sends Lambda's invocation record with the event to the on-failure destination", async () => {
    const { pool, seen } = flaky(Number.POSITIVE_INFINITY);
    const { queue, onFailure } = await failureQueue();
    const log: string[] = [];
    await lambdaTarget(pool, 5_000, { retryDelaysMs: [10, 10], onFailure, log: (line) => log.push(line) })(event);

    expect(seen).toEqual([event, event, event]);
    const messages = await drain(emulator.sqs, queue.url);
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0].Body!)).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestContext: {
        requestId: expect.any(String),
        functionArn: "arn:aws:lambda:ap-northeast-2:000000000000:function:notifier:$LATEST",
        condition: "RetriesExhausted",
        approximateInvokeCount: 3,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "TypeError", errorMessage: "SNS unreachable (invocation 3)" },
    });
    expect(log.at(-1)).toMatch(/sent to its on-failure destination after 3 failed invocation/);
  });

  it("sends nothing when a retry succeeds", async () => {
    const { pool, seen } = flaky(2);
    const { queue, onFailure } = await failureQueue();
    await lambdaTarget(pool, 5_000, { retryDelaysMs: [10, 10], onFailure })(event);
    expect(seen).toHaveLength(3);
    expect(await drain(emulator.sqs, queue.url)).toEqual([]);
  });

  it("drops the event, and says so, without an on-failure destination or when the destination refuses it", async () => {
    const withoutDestination: string[] = [];
    await lambdaTarget(flaky(Number.POSITIVE_INFINITY).pool, 5_000, {
      retryDelaysMs: [10, 10],
      log: (line) => withoutDestination.push(line),
    })(event);
    expect(withoutDestination.at(-1)).toMatch(/dropped after 3 failed invocation\(s\): SNS unreachable/);

    const refused: string[] = [];
    const onFailure = {
      functionArn: "arn:aws:lambda:ap-northeast-2:000000000000:function:notifier",
      send: async () => Promise.reject(new Error("queue gone")),
    };
    await lambdaTarget(flaky(Number.POSITIVE_INFINITY).pool, 5_000, {
      retryDelaysMs: [10, 10],
      onFailure,
      log: (line) => refused.push(line),
    })(event);
    expect(refused.at(-1)).toMatch(/on-failure destination refused it, so it is dropped: queue gone/);
  });
});
