/**
 * Test fixture for the ops CLI: a fresh database on the test MySQL server, real fauxqs queues
 * and (optionally) the EventBridge emulator routing OutOfStock to the factory queue, described
 * by a stack.json like the one `npm start` writes; plus an in-process runner for the CLI.
 * Used by the *.test.ts files next to it (not a test itself).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { closeDatabase } from "@donut-states/core/drizzle";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { adminRoutes, backInStockRule, DEFAULT_REGION, offlineCredentials, outOfStockRule } from "@donut-states/core/topology";
import { queueDepth } from "@donut-states/core/util/sqs";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { type EventBridgeEmulator, type EventEnvelope, sqsTarget, startEventBridge } from "@donut-states/emulators/eventbridge";
import { createIamVerifier } from "@donut-states/emulators/gateway";
import { drain, uniqueName } from "@donut-states/emulators/testing";
import { type ProvisionedTopology, provisionTopology } from "@donut-states/local/aws";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import type { StackFile } from "./context";
import { runOps } from "./program";

/** What a terminal acts on instead of printing (newline aside): none of it may reach the CLI's output. */
export { ACTIVE_CHARACTER } from "./output";

export const REGION = DEFAULT_REGION;

export interface OpsRun {
  code: number;
  out: string;
  err: string;
  /** The questions the operator was asked (opsWith with `confirm`). */
  asked: string[];
  /** stdout parsed as JSON (fails the test with the output if it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

export interface OpsFixture {
  database: TestDatabase;
  emulator?: SqsSnsEmulator;
  topology?: ProvisionedTopology;
  eventBridge?: EventBridgeEmulator;
  /** What the back-in-stock rule received on the bus (RestockFulfilled), in order. */
  restockFulfilled: EventEnvelope[];
  /** An SQS client of the ops package's SDK, pointed at the emulator. */
  sqs?: SQSClient;
  /** The offline gateway serving the admin routes (SigV4-checked) with the real handlers, in this process. */
  gateway: Gateway;
  stackFile: string;
  /** `npm run ops -- <args>`, in-process, against this fixture's stack file, as from a script (no terminal to ask). */
  ops(...args: string[]): Promise<OpsRun>;
  /** The same with another environment (merged over this process's) or an operator at a terminal who answers `confirm`. */
  opsWith(
    options: { env?: Record<string, string | undefined>; confirm?: (question: string) => boolean },
    ...args: string[]
  ): Promise<OpsRun>;
  close(): Promise<void>;
}

export async function opsFixture({
  label,
  products = [],
  queues = false,
  eventBridge: withEventBridge = false,
  visibilityTimeoutSeconds = 30,
  maxReceiveCount = 5,
}: {
  label: string;
  products?: Parameters<typeof seedProducts>[1];
  queues?: boolean;
  eventBridge?: boolean;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}): Promise<OpsFixture> {
  const database = await createTestDatabase(label);
  if (products.length) await seedProducts(database.db, products);
  const dir = await mkdtemp(path.join(os.tmpdir(), "ops-test-"));
  const stack: StackFile = { region: REGION, databaseUrl: database.url };

  let emulator: SqsSnsEmulator | undefined;
  let topology: ProvisionedTopology | undefined;
  let eventBridge: EventBridgeEmulator | undefined;
  let sqs: SQSClient | undefined;
  if (queues || withEventBridge) {
    emulator = await startSqsSns({ port: 0, region: REGION });
    topology = await provisionTopology({
      sqs: emulator.sqs,
      sns: emulator.sns,
      settings: {
        visibilityTimeoutSeconds,
        maxReceiveCount,
        factoryQueueName: uniqueName(`${label}-q`),
        dlqName: uniqueName(`${label}-dlq`),
        alertsTopicName: uniqueName(`${label}-alerts`),
      },
    });
    sqs = new SQSClient({
      endpoint: emulator.endpoint,
      region: REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      useQueueUrlAsEndpoint: false,
    });
    Object.assign(stack, {
      sqsEndpoint: emulator.endpoint,
      factoryQueueUrl: topology.factoryQueueUrl,
      dlqUrl: topology.dlqUrl,
      backInStockFailedEventsQueueUrl: topology.failedEventsQueueUrls[backInStockRule.name],
    });
  }
  const restockFulfilled: EventEnvelope[] = [];
  if (withEventBridge && emulator && topology) {
    eventBridge = await startEventBridge({
      port: 0,
      region: REGION,
      accountId: emulator.accountId,
      rules: [
        {
          name: outOfStockRule.name,
          pattern: outOfStockRule.pattern,
          targets: [{ id: "factory", deliver: sqsTarget(emulator.sqs, topology.factoryQueueUrl) }],
        },
        {
          name: backInStockRule.name,
          pattern: backInStockRule.pattern,
          targets: [{ id: "notifier", deliver: async (event) => void restockFulfilled.push(event) }],
        },
      ],
      log: () => {},
    });
    Object.assign(stack, { eventBridgeEndpoint: eventBridge.url, eventBusName: "default" });
  }
  // The admin handlers run in this process, configured as the offline stack configures them.
  Object.assign(process.env, {
    // As the functions connect: the DML-only application user.
    DATABASE_URL: database.appUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: offlineCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: offlineCredentials.secretAccessKey,
    EVENT_BUS_NAME: "default",
    ...(eventBridge ? { AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url } : {}),
    ...(emulator && topology ? { AWS_ENDPOINT_URL_SQS: emulator.endpoint, FACTORY_DLQ_URL: topology.dlqUrl } : {}),
  });
  const gateway = await startGateway({
    routes: adminRoutes,
    iam: { routes: Object.keys(adminRoutes), verify: createIamVerifier({ credentials: offlineCredentials, region: REGION }) },
    port: 0,
  });
  stack.apiUrl = gateway.url;
  const stackFile = path.join(dir, "stack.json");
  await writeFile(stackFile, JSON.stringify(stack, null, 2));

  const opsWith: OpsFixture["opsWith"] = async ({ env, confirm }, ...args) => {
    const out: string[] = [];
    const err: string[] = [];
    const asked: string[] = [];
    const code = await runOps(["--stack-file", stackFile, ...args], {
      io: {
        out: (text) => out.push(text),
        err: (text) => err.push(text),
        ...(confirm
          ? {
              confirm: async (question: string) => {
                asked.push(question);
                return confirm(question);
              },
            }
          : {}),
      },
      env: env ? { ...process.env, ...env } : process.env,
    });
    const result: OpsRun = {
      code,
      out: out.join("\n"),
      err: err.join("\n"),
      asked,
      json<T>() {
        try {
          return JSON.parse(result.out) as T;
        } catch {
          throw new Error(`ops ${args.join(" ")} did not print JSON (exit ${code}):\n${result.out}\n${result.err}`);
        }
      },
    };
    return result;
  };

  return {
    database,
    emulator,
    topology,
    eventBridge,
    restockFulfilled,
    sqs,
    gateway,
    stackFile,
    ops: (...args) => opsWith({}, ...args),
    opsWith,
    async close() {
      await gateway.close();
      await closeDatabase();
      sqs?.destroy();
      await eventBridge?.close();
      await emulator?.close();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An event of ours as a rule delivers it (the EventBridge envelope), for a restock request. */
export function restockEnvelope<Detail extends { restockId: string }>(detailType: string, detail: Detail) {
  return {
    version: "0",
    id: `evt-${detail.restockId}`,
    "detail-type": detailType,
    source: "donut-states.sales",
    account: "000000000000",
    time: new Date().toISOString(),
    region: REGION,
    resources: [],
    detail,
  };
}

/** An EventBridge envelope as the OutOfStock rule delivers it to the factory queue. */
export function outOfStockEnvelope(restockId: string, sku: string, quantity = 30) {
  return restockEnvelope("OutOfStock", { restockId, sku, quantity, factoryId: "FF-500293", occurredAt: new Date().toISOString() });
}

/** Put n OutOfStock envelopes straight into a queue; returns their bodies in order. */
export async function fillQueue(sqs: SQSClient, queueUrl: string, count: number, prefix = "R"): Promise<string[]> {
  const bodies = Array.from({ length: count }, (_, index) =>
    JSON.stringify(outOfStockEnvelope(`${prefix}${String(index).padStart(25, "0")}`.slice(0, 26), `CP-${500000 + index}`)),
  );
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
  return bodies;
}

/** Receive (and leave in flight for 60 s) everything visible: the bodies really in the queue. */
export async function drainBodies(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  return (await drain(sqs, queueUrl)).map((message) => message.Body ?? "");
}

export const visible = async (sqs: SQSClient, queueUrl: string) => (await queueDepth(sqs, queueUrl)).visible;
