import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import * as Factory from "@donut-states/core/factory";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import { functions } from "@donut-states/core/topology";
import { queueDepth } from "@donut-states/core/util/sqs";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { createHandlerPool, type HandlerPool, startSqsPoller } from "@donut-states/emulators/runtime";
import { uniqueName, waitFor } from "@donut-states/emulators/testing";
import { type FactorySimulator, startFactorySimulator } from "@donut-states/factory";
import { eq } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, expect, it } from "vitest";
import { provisionTopology } from "../aws/topology";
import { handlerPool, loadHandler } from "./index";

const REGION = "ap-northeast-2";
let emulator: SqsSnsEmulator;
let database: TestDatabase;
const factories: FactorySimulator[] = [];

beforeAll(async () => {
  database = await createTestDatabase("factory_caller");
  emulator = await startSqsSns({ port: 0, region: REGION });
  Object.assign(process.env, {
    PUBLIC_API_URL: "http://127.0.0.1:9/",
    FACTORY_CALLBACK_SECRET: "test-secret-that-is-long-enough",
    // The hanging factory's call fails after this long: the window in which the second batch runs.
    FACTORY_TIMEOUT_MS: "4000",
  });
});
afterAll(async () => {
  await Promise.all(factories.map((factory) => factory.close()));
  await emulator?.close();
  await database?.drop();
});

/** A factory row of its own, served by a simulator with fixed behaviour (no dice). */
async function factory(id: string, options: Parameters<typeof startFactorySimulator>[0]) {
  const simulator = await startFactorySimulator({ port: 0, callback: "never", ...options });
  factories.push(simulator);
  await database.db.insert(Factory.factoryTable).values({ id, name: id, managerEmail: `${id}@test.local`, apiUrl: simulator.url });
  return simulator;
}

/** A product of that factory with a pending restock request, and its OutOfStock message body. */
async function pendingRequest(sku: string, factoryId: string) {
  await database.db.insert(Product.productTable).values({ sku, name: sku, price: 100, stock: 0, factoryId, restockQuantity: 10 });
  const [product] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku));
  const id = ulid();
  await database.db.insert(Restock.restockRequestTable).values({ id, productId: product.id, sku, factoryId, quantity: 10 });
  const detail = { restockId: id, sku, quantity: 10, factoryId, occurredAt: new Date().toISOString() };
  const envelope = {
    version: "0",
    id: ulid(),
    "detail-type": "OutOfStock",
    source: "donut-states.sales",
    account: "000000000000",
    time: new Date().toISOString(),
    region: REGION,
    resources: [],
    detail,
  };
  return { id, body: JSON.stringify(envelope) };
}

const requestRow = async (id: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.id, id)))[0];

/**
 * Two SQS batches of the factory caller in flight at once, as the event source mapping does
 * with two concurrent pollers. Batch A: one record whose factory call fails at once and one
 * whose call hangs until the factory timeout. While A waits, batch B (a factory that accepts)
 * runs. A must still report its fast failure, so that record stays on the queue to be retried
 * (and, on its last delivery, reaches the DLQ). Before each invocation had its own state, B's
 * start wiped A's recorded failure and the poller deleted A's failed message: lost for good.
 */
async function overlappingBatches(caller: HandlerPool, label: string) {
  const fails = await pendingRequest(`${label}-FAIL`, "FF-FAILS");
  const hangs = await pendingRequest(`${label}-HANG`, "FF-HANGS");
  const accepts = await pendingRequest(`${label}-OK`, "FF-ACCEPTS");

  const topology = await provisionTopology({
    sqs: emulator.sqs,
    sns: emulator.sns,
    settings: {
      // Long enough that nothing is redelivered while the test looks at the queue.
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 5,
      factoryQueueName: uniqueName("overlap"),
      dlqName: uniqueName("overlap-dlq"),
      alertsTopicName: uniqueName("overlap-alerts"),
    },
  });
  // Batch A: both records are visible before the poller starts, so the first receive takes both.
  await emulator.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: topology.factoryQueueUrl,
      Entries: [fails, hangs].map((request, index) => ({ Id: String(index), MessageBody: request.body })),
    }),
  );
  const poller = startSqsPoller({
    sqs: emulator.sqs,
    queueUrl: topology.factoryQueueUrl,
    queueArn: topology.factoryQueueArn,
    region: REGION,
    handler: caller,
    batchSize: 10,
    timeoutMs: 30_000,
    concurrency: 2,
    waitTimeSeconds: 1,
  });
  try {
    // A's first record has failed; its second is still waiting on the hanging factory.
    await waitFor("the failing factory call recorded", async () => (await requestRow(fails.id)).lastError, 15_000);
    expect((await requestRow(hangs.id)).lastError).toBeNull();
    // Batch B arrives and is handled while A is still in flight.
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: topology.factoryQueueUrl, MessageBody: accepts.body }));
    await waitFor("batch B handled", async () => (await requestRow(accepts.id)).status === "requested", 15_000);
    expect((await requestRow(hangs.id)).lastError).toBeNull();
    await waitFor("batch A handled", () => poller.stats.batches === 2, 20_000);

    // B's record was deleted; both of A's records failed and stay on the queue for a retry.
    expect(poller.stats).toMatchObject({ batches: 2, succeeded: 1, failed: 2 });
    const depth = await queueDepth(emulator.sqs, topology.factoryQueueUrl);
    expect(depth.visible + depth.inFlight + depth.delayed).toBe(2);
  } finally {
    await poller.stop();
  }
}

beforeAll(async () => {
  await factory("FF-FAILS", { failureRate: 1 });
  await factory("FF-HANGS", { timeoutRate: 1, hangMs: 30_000 });
  await factory("FF-ACCEPTS", {});
});

it("keeps a failed record of one batch on the queue while another batch overlaps it", async () => {
  const caller = handlerPool(functions.factoryCaller.handler);
  await overlappingBatches(caller, "OVERLAP");
  // Each batch in flight ran in an execution environment of its own.
  expect(caller.instances.loaded).toBe(2);
}, 60_000);

/**
 * Where one environment does serve several invocations at once (Lambda managed instances with
 * multi-concurrency), the consumer itself must keep each batch's failures apart.
 */
it("keeps each batch's failures apart when one handler instance serves both batches", async () => {
  const shared = await loadHandler(functions.factoryCaller.handler);
  const caller = createHandlerPool({ functionName: "factory-caller-shared", load: async () => shared });
  await overlappingBatches(caller, "SHARED");
}, 60_000);

it("fails a record that is not an OutOfStock event and still handles the rest of its batch", async () => {
  const caller = (await loadHandler(functions.factoryCaller.handler)) as (event: unknown, context: unknown) => Promise<unknown>;
  const accepted = await pendingRequest("NOT-AN-EVENT-OK", "FF-ACCEPTS");
  const record = (messageId: string, body: string) => ({
    messageId,
    receiptHandle: messageId,
    body,
    attributes: { ApproximateReceiveCount: "1" },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:${REGION}:000000000000:factory`,
    awsRegion: REGION,
  });
  const detailOnly = JSON.stringify(JSON.parse(accepted.body).detail);
  const response = await caller(
    { Records: [record("not-json", "{"), record("detail-only", detailOnly), record("accepted", accepted.body)] },
    { functionName: "factory-caller", getRemainingTimeInMillis: () => 30_000 },
  );
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "not-json" }, { itemIdentifier: "detail-only" }] });
  expect((await requestRow(accepted.id)).status).toBe("requested");
}, 60_000);
