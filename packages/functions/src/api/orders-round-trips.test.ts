import { closeDatabase } from "@donut-states/core/drizzle";
import { Events } from "@donut-states/core/event";
import * as Order from "@donut-states/core/order";
import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { routes } from "@donut-states/core/topology";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import { type MysqlProxy, startMysqlProxy } from "@donut-states/local/testing/mysql-proxy";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

/**
 * Round trips of the order path, counted on the wire: the API reaches MariaDB through a proxy
 * that counts client commands. Every outcome of POST /orders is ONE command (a CALL), the
 * restock request and its outbox row included.
 */
let database: TestDatabase;
let gateway: Gateway;
let proxy: MysqlProxy;

beforeAll(async () => {
  database = await createTestDatabase("round_trips");
  const url = new URL(database.appUrl);
  proxy = await startMysqlProxy({ targetHost: url.hostname, targetPort: Number(url.port || 3306) });
  url.port = String(proxy.port);
  process.env.DATABASE_URL = url.toString();
  // No event bus here: the after-commit publish (its own unit of work, once the answer is
  // decided) sends nothing, so every statement the proxy sees belongs to the order itself.
  delete process.env.EVENT_BUS_NAME;
  gateway = await startGateway({ routes, port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await closeDatabase();
  await proxy?.close();
  await database?.drop();
});

beforeEach(() => proxy.resetCount());

async function order(sku: string, quantity: number, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ sku, quantity }),
  });
  return { status: response.status, json: (await response.json()) as any };
}

/** One order, and the statements it sent to the database. */
async function measured(sku: string, quantity: number, headers: Record<string, string> = {}) {
  proxy.resetCount();
  const result = await order(sku, quantity, headers);
  return { ...result, commands: proxy.commands, statements: [...proxy.statements] };
}

const ONE_CALL = [expect.stringMatching(/^CALL place_order\(/)];

describe("POST /orders takes one database round trip", () => {
  it("confirms an order in one CALL", async () => {
    await seedProducts(database.db, [{ sku: "RT-1", stock: 100 }]);
    await order("RT-1", 1); // warm-up: the pool has its connection from here on
    const confirmed = await measured("RT-1", 2);
    expect(confirmed.status).toBe(201);
    expect(confirmed.json.stock).toBe(97);
    expect(confirmed.statements).toEqual(ONE_CALL);
    expect(confirmed.commands).toBe(1);
  });

  it("opens the restock request with its OutOfStock outbox row inside that one round trip at the reorder point", async () => {
    await seedProducts(database.db, [{ sku: "RT-REORDER", stock: 6, reorderPoint: 3, restockQuantity: 40 }]);
    expect((await order("RT-REORDER", 1)).status).toBe(201); // stock 5: above the reorder point

    const reaching = await measured("RT-REORDER", 2); // stock 3: at the reorder point
    expect(reaching.status).toBe(201);
    expect(reaching.json.stock).toBe(3);
    expect(reaching.statements).toEqual(ONE_CALL);
    expect(reaching.commands).toBe(1);

    const requests = await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, "RT-REORDER"));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ status: "pending", quantity: 40, factoryId: "FF-500293" });
    const events = (await database.db.select().from(Outbox.outboxTable)).filter((row) => JSON.parse(row.detail).sku === "RT-REORDER");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: Events.OutOfStock.source, detailType: Events.OutOfStock.type });
    // The same event the Restock module writes anywhere else: it passes the event's schema.
    expect(Events.OutOfStock.schema.parse(JSON.parse(events[0].detail))).toEqual({
      restockId: requests[0].id,
      sku: "RT-REORDER",
      quantity: 40,
      factoryId: "FF-500293",
      occurredAt: expect.any(String),
    });
    const [row] = await database.db.select().from(Order.orderTable).where(eq(Order.orderTable.id, reaching.json.order.id));
    expect(row.stockAfter).toBe(3);
    expect(events[0].createdAt.getTime()).toBe(row.createdAt.getTime()); // one commit, one clock

    // Below the reorder point the open request is reused: still one request, one event.
    expect((await measured("RT-REORDER", 1)).commands).toBe(1);
    expect(
      await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, "RT-REORDER")),
    ).toHaveLength(1);
  });

  it("refuses in one round trip that only reads once the restock request is open, and changes nothing", async () => {
    await seedProducts(database.db, [{ sku: "RT-GONE", stock: 1 }]);
    expect((await order("RT-GONE", 1)).status).toBe(201); // stock 0: the restock request opens
    const [before] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, "RT-GONE"));

    const refused = await measured("RT-GONE", 1);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "OUT_OF_STOCK", available: 0, restock: { status: "pending" } });
    expect(refused.statements).toEqual(ONE_CALL);
    const [after] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, "RT-GONE"));
    expect(after.updatedAt.getTime()).toBe(before.updatedAt.getTime());
  });

  it("opens the restock request in the refusing round trip when none is open yet, even the first time this SKU is seen", async () => {
    await seedProducts(database.db, [{ sku: "RT-EMPTY", stock: 0, restockQuantity: 25 }]);
    const refused = await order("RT-EMPTY", 1);
    expect(refused.status).toBe(409);
    expect(refused.json.error.restock).toMatchObject({ status: "pending", quantity: 25 });
    const requests = await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, "RT-EMPTY"));
    expect(requests.map((request) => request.id)).toEqual([refused.json.error.restock.id]);
  });

  it("answers a keyed retry from the stored order in one round trip", async () => {
    await seedProducts(database.db, [{ sku: "RT-KEY", stock: 10 }]);
    const headers = { "Idempotency-Key": "rt-key-1" };
    const first = await measured("RT-KEY", 1, headers);
    const retry = await measured("RT-KEY", 1, headers);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual(first.json);
    expect([first.commands, retry.commands]).toEqual([1, 1]);
  });

  it("lets exactly one of two racing retries order; the other answers with the same order", async () => {
    await seedProducts(database.db, [{ sku: "RT-RACE", stock: 50 }]);
    for (let round = 0; round < 20; round++) {
      const headers = { "Idempotency-Key": `rt-race-${round}` };
      const [a, b] = await Promise.all([order("RT-RACE", 1, headers), order("RT-RACE", 1, headers)]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.json.order.id).toBe(b.json.order.id);
    }
    const [product] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, "RT-RACE"));
    expect(product.stock).toBe(30);
    expect(await database.db.select().from(Order.orderTable).where(eq(Order.orderTable.sku, "RT-RACE"))).toHaveLength(20);
  });

  it("answers 503 'outcome unknown' when the answer to a committed CALL is lost, and a retry with the key gets that order", async () => {
    await seedProducts(database.db, [{ sku: "RT-LOST", stock: 10 }]);
    const headers = { "Idempotency-Key": "rt-lost-1" };
    await order("RT-LOST", 1); // a pooled connection exists; the next command is the CALL

    proxy.loseNextAnswer();
    const lost = await order("RT-LOST", 2, headers);
    expect(lost.status).toBe(503);
    expect(lost.json.error).toMatchObject({ code: "SERVICE_UNAVAILABLE", outcomeUnknown: true });
    expect(lost.json.error.message).toMatch(/may or may not have been applied/);
    const stored = await database.db.select().from(Order.orderTable).where(eq(Order.orderTable.idempotencyKey, "rt-lost-1"));
    expect(stored).toHaveLength(1); // it was committed: only the answer was lost

    const retry = await order("RT-LOST", 2, headers);
    expect(retry.status).toBe(201);
    expect(retry.json.order.id).toBe(stored[0].id);
    const [product] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, "RT-LOST"));
    expect(product.stock).toBe(7);
  });
});
