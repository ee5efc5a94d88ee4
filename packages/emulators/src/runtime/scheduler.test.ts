import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SqsSnsEmulator, startSqsSns } from "../aws/emulator";
import { clientsBehindProxy, drain, recordUnhandledRejections, testQueue, waitFor } from "../testing/aws";
import { createHandlerPool } from "./handlers";
import { startScheduler } from "./scheduler";

const REGION = "ap-northeast-2";
let emulator: SqsSnsEmulator;

beforeAll(async () => {
  emulator = await startSqsSns({ region: REGION });
});
afterAll(async () => {
  await emulator?.close();
});

describe("startScheduler", () => {
  it("logs a run whose emulator call fails and keeps running the job on its interval", async () => {
    const unhandled = recordUnhandledRejections();
    const { proxy, sqs, close } = await clientsBehindProxy(emulator.endpoint, REGION, { maxAttempts: 1 });
    const queue = await testQueue(emulator.sqs, "scheduled");
    let runs = 0;
    // A scheduled function that reports each run to a queue, through an endpoint that can go away.
    const handler = createHandlerPool({
      functionName: "reporter",
      load: async () => async () => {
        runs++;
        await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `run ${runs}` }));
      },
    });
    const lines: string[] = [];
    const scheduler = startScheduler([{ name: "reporter", intervalMs: 50, handler }], (line) => lines.push(line));
    try {
      proxy.setAvailable(false);
      await scheduler.runNow("reporter");
      await waitFor("a failed run, logged", () => lines.some((line) => line.startsWith("reporter failed")));
      const runsDuringOutage = runs;
      await waitFor("runs on the interval during the outage", () => runs > runsDuringOutage + 2);
      proxy.setAvailable(true);
      await waitFor("a run reported after the outage", async () => (await drain(emulator.sqs, queue.url)).length > 0, 10_000);
      expect(unhandled.rejections).toEqual([]);
    } finally {
      await scheduler.stop();
      await close();
      unhandled.stop();
    }
  });
});
