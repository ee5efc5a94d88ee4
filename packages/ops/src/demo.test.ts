import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Database } from "@donut-states/core/drizzle";
import { DEMO_PRODUCTS, seedDemoData } from "@donut-states/core/drizzle/seed";
import * as Order from "@donut-states/core/order";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, TEST_FACTORY } from "@donut-states/core/testing";
import { eq, inArray } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOps } from "./program";
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
  (await db().select({ id: Product.productTable.id }).from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0].id;

/** An order and an open restock request with its factory call, as a played-with demo leaves them. */
async function playWith(sku: string, stock: number) {
  const id = await productId(sku);
  const restockId = ulid();
  await db().update(Product.productTable).set({ stock }).where(eq(Product.productTable.id, id));
  await db()
    .insert(Order.orderTable)
    .values({ id: ulid(), productId: id, sku, quantity: 1, unitPrice: 100, stockAfter: stock, idempotencyKey: `k-${sku}` });
  await db()
    .insert(Restock.restockRequestTable)
    .values({ id: restockId, productId: id, sku, factoryId: TEST_FACTORY.id, quantity: 30, status: "requested" });
  await db().insert(Restock.restockAttemptTable).values({ restockId, attempt: 1, outcome: "accepted" });
}

it("puts the demo products back as a fresh start seeds them, and leaves other products alone", async () => {
  await playWith("CP-502104", 0);
  await playWith("CP-502101", 42);
  await playWith("XX-1", 0);

  const run = await fixture.ops("--json", "demo", "reset", "--yes");
  expect(run.code, run.err).toBe(0);
  expect(run.json()).toEqual({
    products: DEMO_PRODUCTS.map(({ sku, stock }) => ({ sku, stock })),
    removed: { orders: 2, restockRequests: 2 },
    factoryLogCleared: false,
  });

  const products = await db().select({ sku: Product.productTable.sku, stock: Product.productTable.stock }).from(Product.productTable);
  expect(Object.fromEntries(products.map(({ sku, stock }) => [sku, stock]))).toEqual({
    ...Object.fromEntries(DEMO_PRODUCTS.map(({ sku, stock }) => [sku, stock])),
    "XX-1": 0,
  });
  const demoIds = await Promise.all(DEMO_PRODUCTS.map(({ sku }) => productId(sku)));
  expect(await db().select().from(Order.orderTable).where(inArray(Order.orderTable.productId, demoIds))).toEqual([]);
  expect(await db().select().from(Restock.restockRequestTable).where(inArray(Restock.restockRequestTable.productId, demoIds))).toEqual([]);
  expect(await db().select({ sku: Order.orderTable.sku }).from(Order.orderTable)).toEqual([{ sku: "XX-1" }]);
  expect(await db().select({ sku: Restock.restockRequestTable.sku }).from(Restock.restockRequestTable)).toEqual([{ sku: "XX-1" }]);

  const human = await fixture.ops("demo", "reset", "--yes");
  expect(human.code, human.err).toBe(0);
  expect(human.out).toBe(
    `Demo data reset: ${DEMO_PRODUCTS.map(({ sku, stock }) => `${sku} ${stock}`).join(", ")}.\n` +
      "Removed 0 order(s) and 0 restock request(s) of these products.",
  );
});

it("refuses a deployed stage: its data is never a demo", async () => {
  const run = await fixture.ops("--stage", "staging", "--region", "ap-northeast-2", "demo", "reset", "--yes");
  expect(run.code).toBe(2);
  expect(run.err).toContain("demo reset works on the offline stack only");
});

describe("runs only on the offline stack's own database, and only once confirmed", () => {
  /** What a reset would change: the demo products' stock, their orders and restock requests. */
  const stateOf = async (database: Database) => ({
    products: await database
      .select({ sku: Product.productTable.sku, stock: Product.productTable.stock })
      .from(Product.productTable)
      .orderBy(Product.productTable.sku),
    orders: (await database.select({ id: Order.orderTable.id }).from(Order.orderTable)).length,
    restocks: (await database.select({ id: Restock.restockRequestTable.id }).from(Restock.restockRequestTable)).length,
  });

  it("refuses a database the offline stack does not name (DATABASE_URL pointing elsewhere), even with --yes, and changes nothing", async () => {
    // Another database on the same server, as a stage's database behind a tunnel would be.
    const other = await createTestDatabase("ops_demo_other");
    process.env.DATABASE_URL = fixture.database.appUrl; // createTestDatabase pointed it at the other one
    try {
      await seedDemoData(other.db);
      await other.db.update(Product.productTable).set({ stock: 1 }).where(eq(Product.productTable.sku, "CP-502104"));
      await other.db.insert(Order.orderTable).values({
        id: ulid(),
        productId: (
          await other.db.select({ id: Product.productTable.id }).from(Product.productTable).where(eq(Product.productTable.sku, "CP-502104"))
        )[0].id,
        sku: "CP-502104",
        quantity: 1,
        unitPrice: 100,
        stockAfter: 1,
        idempotencyKey: "k-other",
      });
      const before = await stateOf(other.db);

      const run = await fixture.opsWith({ env: { DATABASE_URL: other.url } }, "demo", "reset", "--yes");
      expect(run.code).toBe(2);
      expect(run.err).toContain(`DATABASE_URL names ${other.url}, not the offline stack's database`);
      expect(run.err).toContain("Nothing was changed");
      expect(await stateOf(other.db)).toEqual(before);
    } finally {
      await other.drop();
      process.env.DATABASE_URL = fixture.database.appUrl;
    }
  });

  it("refuses when the offline stack's database is not on this machine, or there is no offline stack", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ops-demo-"));
    try {
      const remote = path.join(dir, "remote-stack.json");
      await writeFile(remote, JSON.stringify({ region: "ap-northeast-2", databaseUrl: "mysql://admin@10.20.30.40:3306/donut_states" }));
      const far = await fixture.opsWith({ env: { DATABASE_URL: undefined } }, "--stack-file", remote, "demo", "reset", "--yes");
      expect(far.code).toBe(2);
      expect(far.err).toContain("is not on this machine (10.20.30.40)");

      const noneErr: string[] = [];
      const none = await runOps(["demo", "reset", "--yes"], {
        io: { out: () => {}, err: (text) => noneErr.push(text) },
        env: { ...process.env, LOCAL_DIR: dir, OPS_STACK_FILE: undefined, DATABASE_URL: fixture.database.url },
      });
      expect(none).toBe(2);
      expect(noneErr.join("\n")).toContain("no offline stack file");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("from a script, says what it would do and refuses without --yes; at a terminal, asks", async () => {
    await playWith("CP-502101", 3);
    const before = await stateOf(db());

    const script = await fixture.ops("demo", "reset");
    expect(script.code).toBe(2);
    expect(script.err).toMatch(
      /^error: About to reset the demo data of .*ds_ops_demo_.*: CP-502101, .* back to their starting stock; their orders and restock requests are deleted\.\n/,
    );
    expect(script.err).toContain("Not confirmed, nothing was changed: pass --yes");
    expect(await stateOf(db())).toEqual(before);

    const declined = await fixture.opsWith({ confirm: () => false }, "demo", "reset");
    expect(declined.asked).toEqual([expect.stringContaining("About to reset the demo data of")]);
    expect(declined.code).toBe(1);
    expect(declined.err).toBe("error: Cancelled: nothing was changed.");
    expect(await stateOf(db())).toEqual(before);

    const accepted = await fixture.opsWith({ confirm: () => true }, "demo", "reset");
    expect(accepted.code, accepted.err).toBe(0);
    expect(accepted.asked).toHaveLength(1);
    expect((await stateOf(db())).orders).toBeLessThan(before.orders);
  });
});
