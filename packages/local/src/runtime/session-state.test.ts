import { closeDatabase } from "@donut-states/core/drizzle";
import { Events } from "@donut-states/core/event";
import * as Outbox from "@donut-states/core/outbox";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { functions, routes } from "@donut-states/core/topology";
import { type EventBridgeEmulator, type EventEnvelope, startEventBridge } from "@donut-states/emulators/eventbridge";
import { lambdaContext, toSqsRecord } from "@donut-states/emulators/runtime";
import { waitFor } from "@donut-states/emulators/testing";
import { type FactorySimulator, startFactorySimulator } from "@donut-states/factory";
import type { SQSEvent } from "aws-lambda";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../gateway";
import { type MysqlProxy, startMysqlProxy } from "../testing/mysql-proxy";
import { loadHandler } from "./index";

/**
 * Nothing the functions send would make RDS Proxy pin a connection (docs/deploy.md, "No proxy
 * pinning"): the order path (201, 409 opening a restock request, 409 from the fast path), the
 * outbox relay, the factory caller and the factory's callback reach MariaDB through a proxy that
 * records every command on the wire, from the pool's first connection on. None of it is a SET
 * (session variables, the time zone, a transaction's isolation level), a user variable, a
 * server-side prepared statement, a named lock, a temporary table, or a statement over 16 KB.
 * The recording is what the server received, so it cannot miss a statement a library adds.
 */
let database: TestDatabase;
let proxy: MysqlProxy;
let gateway: Gateway;
let eventBridge: EventBridgeEmulator;
let factory: FactorySimulator;
const delivered: EventEnvelope[] = [];

beforeAll(async () => {
  database = await createTestDatabase("session_state");
  const url = new URL(process.env.DATABASE_URL!);
  proxy = await startMysqlProxy({ targetHost: url.hostname, targetPort: Number(url.port || 3306) });
  url.port = String(proxy.port);
  eventBridge = await startEventBridge({
    region: "ap-northeast-2",
    accountId: "000000000000",
    rules: [
      {
        name: "out-of-stock",
        pattern: { "detail-type": [Events.OutOfStock.type] },
        targets: [{ id: "capture", deliver: async (event) => void delivered.push(event) }],
      },
    ],
    log: () => {},
  });
  factory = await startFactorySimulator({ port: 0, delayMs: 50, failureRate: 0, timeoutRate: 0, callback: "once" });
  gateway = await startGateway({ routes, port: 0 });
  Object.assign(process.env, {
    DATABASE_URL: url.toString(),
    AWS_REGION: "ap-northeast-2",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
    EVENT_BUS_NAME: "default",
    FACTORY_API_URL: factory.url,
    FACTORY_CALLBACK_SECRET: "session-state-callback-secret-0123456789",
    PUBLIC_API_URL: gateway.url,
  });
  // A fresh pool: the recording starts before its first connection, so connection set-up counts.
  await closeDatabase();
  proxy.resetCount();
});

afterAll(async () => {
  await gateway?.close();
  await factory?.close();
  await eventBridge?.close();
  await closeDatabase();
  await proxy?.close();
  await database?.drop();
});

const order = (sku: string, quantity: number) =>
  fetch(`${gateway.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sku, quantity }),
  }).then(async (response) => ({ status: response.status, json: (await response.json()) as any }));

const requestOf = async (sku: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku)))[0];

describe("what the functions send to the database", () => {
  it("changes no session state on the order path, the relay, the factory caller and the callback", async () => {
    await seedProducts(database.db, [{ sku: "PIN-1", stock: 2, restockQuantity: 20 }]);

    expect((await order("PIN-1", 1)).status).toBe(201);
    // The last unit opens the restock request; its event waits in the outbox while the bus is down.
    eventBridge.setAvailable(false);
    expect((await order("PIN-1", 1)).status).toBe(201);
    // The first refusal goes through the transaction (this process has not seen PIN-1 refuse);
    // the second is the fast path's plain read.
    for (let i = 0; i < 2; i++) {
      const refused = await order("PIN-1", 1);
      expect(refused.status).toBe(409);
      expect(refused.json.error.restock).toMatchObject({ status: "pending" });
    }
    const [unpublished] = await database.db.select().from(Outbox.outboxTable);
    expect(unpublished?.publishedAt).toBeNull();

    eventBridge.setAvailable(true);
    const relayOutbox = await loadHandler(functions.outboxRelay.handler);
    await relayOutbox({}, lambdaContext("outbox-relay", 60_000));
    await eventBridge.idle();
    expect(delivered).toHaveLength(1);

    const record = toSqsRecord(
      { MessageId: "m-1", ReceiptHandle: "r-1", Body: JSON.stringify(delivered[0]) },
      "arn:aws:sqs:ap-northeast-2:000000000000:factory",
      "ap-northeast-2",
    );
    const callFactory = await loadHandler(functions.factoryCaller.handler);
    const result = await callFactory({ Records: [record] } satisfies SQSEvent, lambdaContext("factory-caller", 60_000));
    expect(result).toEqual({ batchItemFailures: [] });
    // The simulator calls back the callback route, which adds the stock.
    await waitFor("the factory's callback to be applied", async () => (await requestOf("PIN-1")).status === "fulfilled", 60_000);
    // And answered: the callback's after-commit publish is done, so nothing touches the database
    // once the test is over.
    await waitFor("the factory to have the callback's answer", () => factory.callbacks.some((callback) => callback.status === 200), 60_000);

    const statements = [...proxy.statements];
    // The recording saw all of it: the order CALLs, the relay's and the caller's transactions.
    expect(statements.filter((text) => /^CALL place_order\(/.test(text))).toHaveLength(4);
    expect(statements.some((text) => /^begin/i.test(text))).toBe(true);
    expect(statements.some((text) => /^commit/i.test(text))).toBe(true);

    expect(statements.filter((text) => /^\s*SET\b/i.test(text))).toEqual([]);
    expect(statements.filter((text) => /(^|[\s(,=])@{1,2}\w/.test(text))).toEqual([]);
    expect(statements.filter((text) => /\bGET_LOCK\b|\bTEMPORARY\b|\bLOCK\s+TABLES?\b/i.test(text))).toEqual([]);
    expect(proxy.prepares).toBe(0);
    expect(proxy.longestCommand).toBeLessThan(16 * 1024);
  });
});
