import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqsSnsEmulator, startSqsSns } from "../aws/emulator";
import { clientsBehindProxy, recordUnhandledRejections, testQueue, waitFor } from "../testing/aws";
import { type AnyHandler, createHandlerPool } from "./handlers";
import { startSqsPoller } from "./sqs-poller";

const REGION = "ap-northeast-2";
let emulator: SqsSnsEmulator;

beforeAll(async () => {
  emulator = await startSqsSns({ port: 0, region: REGION });
});
afterAll(async () => {
  await emulator?.close();
});

async function depth(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await emulator.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

async function setup(maxReceiveCount: number) {
  const dlq = await testQueue(emulator.sqs, "poller-dlq");
  const queue = await testQueue(emulator.sqs, "poller", {
    VisibilityTimeout: "1",
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });
  const topology = { queueUrl: queue.url, queueArn: queue.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  await emulator.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: topology.queueUrl,
      Entries: ["good-1", "bad", "good-2"].map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  return topology;
}

type Topology = Awaited<ReturnType<typeof setup>>;
/** Execution environments that all run the given function. */
const pool = (functionName: string, handler: AnyHandler) => createHandlerPool({ functionName, load: async () => handler });
const pollerFor = (topology: Topology, handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>) =>
  startSqsPoller({
    sqs: emulator.sqs,
    queueUrl: topology.queueUrl,
    queueArn: topology.queueArn,
    region: REGION,
    batchSize: 10,
    timeoutMs: 5000,
    concurrency: 1,
    waitTimeSeconds: 1,
    handler: pool("test-consumer", handler),
  });

describe("SQS event source poller", () => {
  it("deletes the records that succeeded and redelivers only the failed one until it reaches the DLQ", async () => {
    const topology = await setup(3);
    const seen: Array<{ body: string; receiveCount: string }> = [];
    const poller = pollerFor(topology, async (event) => {
      for (const record of event.Records) seen.push({ body: record.body, receiveCount: record.attributes.ApproximateReceiveCount });
      expect(event.Records[0].eventSource).toBe("aws:sqs");
      expect(event.Records[0].eventSourceARN).toBe(topology.queueArn);
      return { batchItemFailures: event.Records.filter((r) => r.body === "bad").map((r) => ({ itemIdentifier: r.messageId })) };
    });
    try {
      await waitFor("the failed record in the DLQ", async () => (await depth(topology.dlqUrl)) === 1, 15_000);
      expect(await depth(topology.queueUrl)).toBe(0);
      expect(seen.filter((s) => s.body === "good-1")).toHaveLength(1);
      expect(seen.filter((s) => s.body === "good-2")).toHaveLength(1);
      expect(seen.filter((s) => s.body === "bad").map((s) => s.receiveCount)).toEqual(["1", "2", "3"]);
      expect(poller.stats).toMatchObject({ succeeded: 2, failed: 3 });
    } finally {
      await poller.stop();
    }
  });

  it("treats a thrown error as a failure of the whole batch", async () => {
    const topology = await setup(2);
    let calls = 0;
    const poller = pollerFor(topology, async () => {
      calls++;
      throw new Error("consumer crashed");
    });
    try {
      await waitFor("all three messages in the DLQ", async () => (await depth(topology.dlqUrl)) === 3, 15_000);
      expect(await depth(topology.queueUrl)).toBe(0);
      expect(calls).toBeGreaterThanOrEqual(2);
    } finally {
      await poller.stop();
    }
  });

  it("stops promptly even while long-polling", async () => {
    const topology = await setup(5);
    const poller = startSqsPoller({
      sqs: emulator.sqs,
      queueUrl: topology.dlqUrl,
      queueArn: topology.dlqArn,
      region: REGION,
      batchSize: 10,
      timeoutMs: 1000,
      concurrency: 2,
      waitTimeSeconds: 20,
      handler: pool("idle", async () => ({ batchItemFailures: [] })),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await poller.stop();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("an SQS outage", () => {
  it("keeps polling through refused connections and unanswered calls, and resumes once SQS is back", async () => {
    const unhandled = recordUnhandledRejections();
    // The request timeout outlasts the 1 s long poll; one attempt per call keeps the test short.
    const { proxy, sqs, close } = await clientsBehindProxy(emulator.endpoint, REGION, { requestTimeoutMs: 2_500, maxAttempts: 1 });
    // A message fauxqs hands to a long poll whose connection was cut comes back after the visibility timeout.
    const queue = await testQueue(emulator.sqs, "poller-outage", { VisibilityTimeout: "1" });
    const bodies: string[] = [];
    const lines: string[] = [];
    const poller = startSqsPoller({
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: REGION,
      batchSize: 10,
      timeoutMs: 5000,
      concurrency: 2,
      waitTimeSeconds: 1,
      handler: pool("outage-consumer", async (event: SQSEvent) => {
        for (const record of event.Records) bodies.push(record.body);
      }),
      log: (line) => lines.push(line),
    });
    const send = (body: string) => emulator.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const logged = (pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;
    try {
      proxy.setAvailable(false);
      await waitFor("a refused receive, logged", () => logged(/failed, retrying in \d+ ms/) >= 1, 10_000);
      proxy.setAvailable(true);
      await send("after the refusals");
      await waitFor("the message sent after the refusals", () => bodies.includes("after the refusals"), 15_000);
      await waitFor("the recovery, logged", () => logged(/works again/) >= 1, 10_000);

      const beforeSilence = lines.length;
      proxy.setSilent(true);
      await waitFor(
        "an unanswered receive timing out, logged",
        () => lines.slice(beforeSilence).some((line) => /requestTimeout/.test(line)),
        15_000,
      );
      proxy.setSilent(false);
      await send("after the silence");
      await waitFor("the message sent after the silence", () => bodies.includes("after the silence"), 15_000);
      expect(unhandled.rejections).toEqual([]);
    } finally {
      await poller.stop();
      await close();
      unhandled.stop();
    }
  });
});
