/**
 * `transaction()` against MariaDB: a real deadlock (two transactions locking two rows in
 * opposite orders) is re-run, and after-commit effects run once per commit, never for the
 * rolled-back try. Other errors are not retried.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { afterCommit, isRetryable, type Transaction, transaction } from "../drizzle";
import * as Product from "../product";
import { createTestDatabase, seedProducts, type TestDatabase } from "../testing";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("core_tx");
});
afterAll(() => database?.drop());

/** Resolves when `count` parties have arrived; later arrivals (a retry) pass straight through. */
function barrier(count: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived >= count) open();
    return opened;
  };
}

const lock = (tx: Transaction, sku: string) =>
  tx.select().from(Product.productTable).where(eq(Product.productTable.sku, sku)).for("update");
const take = (tx: Transaction, sku: string) =>
  tx
    .update(Product.productTable)
    .set({ stock: sql`${Product.productTable.stock} - 1` })
    .where(eq(Product.productTable.sku, sku));

describe("transaction()", () => {
  it("re-runs the transaction a deadlock rolled back; effects run once per commit", async () => {
    const [a, b] = await seedProducts(database.db, [
      { sku: "CT-00000A", stock: 10 },
      { sku: "CT-00000B", stock: 10 },
    ]);
    const bothHoldOneRow = barrier(2);
    const runs = { ab: 0, ba: 0 };
    const effects: string[] = [];
    const crossing = (first: string, second: string, name: "ab" | "ba") =>
      transaction(
        async (tx) => {
          runs[name] += 1;
          await lock(tx, first);
          await bothHoldOneRow();
          await lock(tx, second);
          await take(tx, first);
          await take(tx, second);
          await afterCommit(() => effects.push(name));
          return name;
        },
        { db: database.db },
      );

    expect(await Promise.all([crossing(a, b, "ab"), crossing(b, a, "ba")])).toEqual(["ab", "ba"]);
    // InnoDB rolled one of them back (the deadlock victim), and it ran again.
    expect(runs.ab + runs.ba).toBe(3);
    expect(effects.sort()).toEqual(["ab", "ba"]);
    const stock = await database.db.select({ sku: Product.productTable.sku, stock: Product.productTable.stock }).from(Product.productTable);
    expect(stock.filter((row) => row.sku === a || row.sku === b).map((row) => row.stock)).toEqual([8, 8]);
  });

  it("does not re-run a transaction that failed for another reason, and runs none of its effects", async () => {
    let runs = 0;
    let effectRan = false;
    const failure = transaction(
      async (tx) => {
        runs += 1;
        await afterCommit(() => (effectRan = true));
        await tx.execute(sql`SELECT * FROM no_such_table`);
      },
      { db: database.db },
    );
    await expect(failure).rejects.toThrow(/no_such_table/);
    expect(runs).toBe(1);
    expect(effectRan).toBe(false);
  });

  it("tells deadlocks and lock-wait timeouts from other errors", () => {
    expect(isRetryable(Object.assign(new Error("Deadlock found"), { errno: 1213 }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("Lock wait timeout exceeded"), { errno: 1205 }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("Duplicate entry"), { errno: 1062 }))).toBe(false);
  });
});
