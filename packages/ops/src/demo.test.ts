import { DEMO_PRODUCTS, seedDemoData } from "@donut-states/core/drizzle/seed";
import { orderTable } from "@donut-states/core/order";
import { productTable } from "@donut-states/core/product";
import { restockAttemptTable, restockRequestTable } from "@donut-states/core/restock";
import { TEST_FACTORY } from "@donut-states/core/testing";
import { eq, inArray } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type OpsFixture, opsFixture } from "./testing";

let fixture: OpsFixture;

beforeAll(async () => {
  fixture = await opsFixture({ label: "ops_demo", products: [{ sku: "XX-1", stock: 3 }] });
  await seedDemoData(fixture.database.db);
});
afterAll(async () => {
  await fixture?.close();
});

const db = () => fixture.database.db;
const productId = async (sku: string) =>
  (await db().select({ id: productTable.id }).from(productTable).where(eq(productTable.sku, sku)))[0].id;

/** An order and an open restock request with its factory call, as a played-with demo leaves them. */
async function playWith(sku: string, stock: number) {
  const id = await productId(sku);
  const restockId = ulid();
  await db().update(productTable).set({ stock }).where(eq(productTable.id, id));
  await db()
    .insert(orderTable)
    .values({ id: ulid(), productId: id, sku, quantity: 1, unitPrice: 100, stockAfter: stock, idempotencyKey: `k-${sku}` });
  await db()
    .insert(restockRequestTable)
    .values({ id: restockId, productId: id, sku, factoryId: TEST_FACTORY.id, quantity: 30, status: "requested" });
  await db().insert(restockAttemptTable).values({ restockId, attempt: 1, outcome: "accepted" });
}

it("puts the demo products back as a fresh start seeds them, and leaves other products alone", async () => {
  await playWith("CP-502104", 0);
  await playWith("CP-502101", 42);
  await playWith("XX-1", 0);

  const run = await fixture.ops("--json", "demo", "reset");
  expect(run.code, run.err).toBe(0);
  expect(run.json()).toEqual({
    products: DEMO_PRODUCTS.map(({ sku, stock }) => ({ sku, stock })),
    removed: { orders: 2, restockRequests: 2 },
    factoryLogCleared: false,
  });

  const products = await db().select({ sku: productTable.sku, stock: productTable.stock }).from(productTable);
  expect(Object.fromEntries(products.map(({ sku, stock }) => [sku, stock]))).toEqual({
    ...Object.fromEntries(DEMO_PRODUCTS.map(({ sku, stock }) => [sku, stock])),
    "XX-1": 0,
  });
  const demoIds = await Promise.all(DEMO_PRODUCTS.map(({ sku }) => productId(sku)));
  expect(await db().select().from(orderTable).where(inArray(orderTable.productId, demoIds))).toEqual([]);
  expect(await db().select().from(restockRequestTable).where(inArray(restockRequestTable.productId, demoIds))).toEqual([]);
  expect(await db().select({ sku: orderTable.sku }).from(orderTable)).toEqual([{ sku: "XX-1" }]);
  expect(await db().select({ sku: restockRequestTable.sku }).from(restockRequestTable)).toEqual([{ sku: "XX-1" }]);

  const human = await fixture.ops("demo", "reset");
  expect(human.code, human.err).toBe(0);
  expect(human.out).toBe(
    `Demo data reset: ${DEMO_PRODUCTS.map(({ sku, stock }) => `${sku} ${stock}`).join(", ")}.\n` +
      "Removed 0 order(s) and 0 restock request(s) of these products.",
  );
});

it("refuses a deployed stage: its data is never a demo", async () => {
  const run = await fixture.ops("--stage", "staging", "--region", "ap-northeast-2", "demo", "reset");
  expect(run.code).toBe(2);
  expect(run.err).toContain("demo reset works on the offline stack only");
});
