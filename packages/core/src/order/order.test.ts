/**
 * Order.place against MariaDB alone: no emulator runs. The event bus is a port nothing listens
 * on, so every after-commit publish fails the way an EventBridge outage does, through the real
 * SDK client: the sale must not notice, and the event must wait in the outbox.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Outbox from "../outbox";
import * as Product from "../product";
import * as Restock from "../restock";
import { closedPortUrl, createTestDatabase, seedProducts, type TestDatabase, useLocalAwsCredentials } from "../testing";
import * as Order from "./index";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("core_order");
  useLocalAwsCredentials();
  process.env.EVENT_BUS_NAME = "default";
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = await closedPortUrl();
});
afterAll(() => database?.drop());

const stockOf = async (sku: string) =>
  (await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0].stock;

describe("Order.place", () => {
  it("sells exactly the stock to racing buyers, opens one restock request and keeps its event in the outbox", async () => {
    const [sku] = await seedProducts(database.db, [{ sku: "CO-000001", stock: 10, restockQuantity: 40 }]);
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, () => Order.place({ sku, quantity: 1 })));

    const confirmed = outcomes.filter((outcome) => outcome.status === "fulfilled");
    const refused = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason] : []));
    expect(confirmed).toHaveLength(10);
    expect(refused).toHaveLength(20);
    for (const error of refused) expect(error).toBeInstanceOf(Order.OutOfStockError);
    expect(await stockOf(sku)).toBe(0);
    expect(await database.db.select().from(Order.orderTable).where(eq(Order.orderTable.sku, sku))).toHaveLength(10);

    const requests = await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku));
    expect(requests).toMatchObject([{ status: "pending", quantity: 40 }]);
    const events = await database.db.select().from(Outbox.outboxTable);
    const ours = events.filter((event) => JSON.parse(event.detail).restockId === requests[0].id);
    expect(ours).toHaveLength(1);
    expect(ours[0].publishedAt).toBeNull();
    expect(ours[0].lastError).toMatch(/ECONNREFUSED|connect/i);
  });

  it("answers a retry with the same Idempotency-Key with the same order, and refuses the key for another body", async () => {
    const [sku] = await seedProducts(database.db, [{ sku: "CO-000002", stock: 5 }]);
    const first = await Order.place({ sku, quantity: 2 }, "core-key-1");
    const again = await Order.place({ sku, quantity: 2 }, "core-key-1");
    expect(first.replayed).toBe(false);
    expect(again).toEqual({ ...first, replayed: true });
    expect(await stockOf(sku)).toBe(3);
    await expect(Order.place({ sku, quantity: 3 }, "core-key-1")).rejects.toBeInstanceOf(Order.IdempotencyKeyReusedError);
    expect(await stockOf(sku)).toBe(3);
  });

  it("refuses from the fast path once the product refused, and sells again as soon as stock is back", async () => {
    const [sku] = await seedProducts(database.db, [{ sku: "CO-000003", stock: 1 }]);
    await Order.place({ sku, quantity: 1 });
    // The first refusal here goes through the transaction (nothing said a refusal was likely) and
    // opens the restock; the second is the fast path's plain read. Both refuse the same way.
    for (let i = 0; i < 2; i++)
      await expect(Order.place({ sku, quantity: 1 })).rejects.toMatchObject({ status: 409, code: "OUT_OF_STOCK" });
    expect(await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku))).toHaveLength(1);

    await Product.setStock(sku, { stock: 2, reason: "count" }, { who: "core test" });
    const order = await Order.place({ sku, quantity: 2 });
    expect(order).toMatchObject({ order: { sku, quantity: 2 }, stock: 0 });
    expect(await stockOf(sku)).toBe(0);
  });

  it("refuses an unknown SKU without changing anything", async () => {
    await expect(Order.place({ sku: "CO-999999", quantity: 1 })).rejects.toMatchObject({ status: 404, code: "PRODUCT_NOT_FOUND" });
  });
});
