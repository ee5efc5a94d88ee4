import * as Product from "@donut-states/core/product";
import { waitFor } from "@donut-states/emulators/testing";
import { eq } from "drizzle-orm";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStockLevel } from "./stock";
import { type OpsFixture, type OpsRun, opsFixture } from "./testing";

let fixture: OpsFixture;

beforeAll(async () => {
  fixture = await opsFixture({
    label: "ops_stock",
    products: [
      { sku: "CP-502101", stock: 12, name: "부산도너츠", restockQuantity: 100 },
      { sku: "CP-502102", stock: 0, name: "Honey Glazed" },
      { sku: "CP-501999", stock: 5 },
      { sku: "CP-501998", stock: 20 },
    ],
  });
});
afterAll(async () => {
  await fixture?.close();
});

const stockOf = async (sku: string) =>
  (
    await fixture.database.db
      .select({ stock: Product.productTable.stock })
      .from(Product.productTable)
      .where(eq(Product.productTable.sku, sku))
  )[0]?.stock;

const changesOf = async (sku: string) => (await fixture.ops("--json", "stock", "history", sku)).json<{ changes: unknown[] }>().changes;

/**
 * Statements on the product table running in this test's database, other than the caller's:
 * while the caller holds the row, such a statement is waiting for it. (The session list, not
 * INNODB_TRX: MariaDB does not always list a transaction whose first statement waits there.)
 */
async function waitingOnProducts(connection: mysql.Connection, database: string): Promise<number> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>(
    `SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST
      WHERE ID <> CONNECTION_ID() AND DB = ? AND COMMAND = 'Query' AND INFO LIKE '%product%'`,
    [database],
  );
  return Number(rows[0].waiting);
}

/** What the server says about transactions and sessions, for a failure message. */
async function lockReport(connection: mysql.Connection): Promise<string> {
  const [transactions] = await connection.query("SELECT trx_mysql_thread_id, trx_state, trx_query FROM information_schema.INNODB_TRX");
  const [sessions] = await connection.query("SELECT ID, USER, DB, COMMAND, STATE, INFO FROM information_schema.PROCESSLIST");
  return JSON.stringify({ transactions, sessions });
}

describe("ops stock", () => {
  it("lists every product's stock as a table", async () => {
    const run = await fixture.ops("stock");
    expect(run.code, run.err).toBe(0);
    const lines = run.out.split("\n");
    expect(lines[0]).toMatch(/^SKU\s+NAME\s+STOCK/);
    expect(lines.find((line) => line.startsWith("CP-502101"))).toMatch(/부산도너츠\s+12\s/);
    expect(lines.find((line) => line.startsWith("CP-502102"))).toMatch(/Honey Glazed\s+0\s/);
  });

  it("--json prints parseable JSON with the levels", async () => {
    const run = await fixture.ops("--json", "stock");
    expect(run.code, run.err).toBe(0);
    const { products } = run.json<{ products: Array<{ sku: string; stock: number; restock: unknown }> }>();
    expect(products.map(({ sku, stock, restock }) => ({ sku, stock, restock }))).toEqual([
      { sku: "CP-501998", stock: 20, restock: null },
      { sku: "CP-501999", stock: 5, restock: null },
      { sku: "CP-502101", stock: 12, restock: null },
      { sku: "CP-502102", stock: 0, restock: null },
    ]);
  });
});

describe("ops stock set", () => {
  it("sets the level over the signed admin API, and records who, the previous level and why", async () => {
    const run = await fixture.ops("--json", "stock", "set", "CP-502102", "40", "--expect", "0", "--reason", "stock count");
    expect(run.code, run.err).toBe(0);
    const who = "arn:aws:iam::000000000000:user/local";
    expect(run.json()).toEqual({
      id: expect.any(String),
      sku: "CP-502102",
      previous: 0,
      stock: 40,
      who,
      reason: "stock count",
      changedAt: expect.any(String),
    });
    expect(await stockOf("CP-502102")).toBe(40);

    const human = await fixture.ops("stock", "set", "CP-502102", "7", "--expect", "40", "--reason", "broken in transit");
    expect(human.code, human.err).toBe(0);
    expect(human.out).toBe(`CP-502102: stock 40 -> 7 (by ${who}: broken in transit)`);
    expect(await stockOf("CP-502102")).toBe(7);

    const history = await fixture.ops("--json", "stock", "history", "CP-502102");
    expect(history.code, history.err).toBe(0);
    expect(history.json()).toMatchObject({
      sku: "CP-502102",
      stock: 7,
      changes: [
        { previous: 40, stock: 7, who, reason: "broken in transit" },
        { previous: 0, stock: 40, who, reason: "stock count" },
      ],
    });
  });

  it("needs a reason, and changes nothing without one", async () => {
    const run = await fixture.ops("stock", "set", "CP-502101", "3", "--expect", "12");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--reason is required/);
    expect(await stockOf("CP-502101")).toBe(12);
  });

  it("refuses a negative level with exit 2 and changes nothing", async () => {
    const run = await fixture.ops("stock", "set", "CP-502101", "-5");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/cannot be negative/);
    expect(await stockOf("CP-502101")).toBe(12);
  });

  it.each([["abc"], ["1.5"], ["1e3"], ["99999999999"], [""]])("refuses the level %j with exit 2", async (level) => {
    const run = await fixture.ops("stock", "set", "CP-502101", level);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^error: Stock must/);
    expect(await stockOf("CP-502101")).toBe(12);
  });

  it("fails with exit 1 for an unknown SKU, and with exit 2 for a malformed one", async () => {
    const unknown = await fixture.ops("stock", "set", "CP-999999", "5", "--expect", "0", "--reason", "count");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/No product has SKU CP-999999/);

    const malformed = await fixture.ops("--json", "stock", "set", "CP 1; DROP TABLE product", "5", "--expect", "0", "--reason", "count");
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.err)).toMatchObject({ error: { code: "INVALID_INPUT", message: expect.stringMatching(/Invalid SKU/) } });
    expect(await stockOf("CP-502101")).toBe(12);
  });

  it("needs both arguments", async () => {
    const run = await fixture.ops("stock", "set", "CP-502101");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/missing required argument 'n'/);
  });

  it("needs --expect, the level the operator saw, and changes nothing without it", async () => {
    const run = await fixture.ops("stock", "set", "CP-502101", "30", "--reason", "stock count");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/--expect is required/);
    expect(await stockOf("CP-502101")).toBe(12);
    expect((await fixture.ops("stock", "set", "CP-502101", "30", "--expect", "many", "--reason", "x")).err).toMatch(
      /^error: --expect must/,
    );
  });

  it("refuses when the stock is not the level expected, and records nothing", async () => {
    const changes = await changesOf("CP-501999");
    const run = await fixture.ops("--json", "stock", "set", "CP-501999", "30", "--expect", "7", "--reason", "stock count");
    expect(run.code).toBe(1);
    expect(JSON.parse(run.err)).toEqual({
      error: { code: "STOCK_NOT_AS_EXPECTED", message: "CP-501999 has 5 in stock, not the 7 expected: nothing was changed" },
    });
    expect(await stockOf("CP-501999")).toBe(5);
    expect(await changesOf("CP-501999")).toEqual(changes);
  });

  it("compares and sets under the row's lock: a sale committed while it waited makes it refuse", async () => {
    // A sale holds the product row (as place_order does) and takes 2 units while `stock set` waits for it.
    const holder = await mysql.createConnection({ uri: fixture.database.url });
    try {
      await holder.beginTransaction();
      await holder.query("SELECT stock FROM product WHERE sku = 'CP-501998' FOR UPDATE");
      await holder.query("UPDATE product SET stock = stock - 2 WHERE sku = 'CP-501998'");
      let finished: OpsRun | undefined;
      const setting = fixture.ops("stock", "set", "CP-501998", "50", "--expect", "20", "--reason", "stock count").then((run) => {
        finished = run;
        return run;
      });
      await waitFor(
        "stock set to wait for the product's row lock",
        async () => {
          if (finished)
            throw new Error(`stock set ended without waiting for the lock: ${finished.code} ${finished.err}\n${await lockReport(holder)}`);
          return (await waitingOnProducts(holder, fixture.database.name)) > 0;
        },
        60_000,
      );
      await holder.commit();
      const run = await setting;
      expect(run.code).toBe(1);
      expect(run.err).toBe("error: CP-501998 has 18 in stock, not the 20 expected: nothing was changed");
      expect(await stockOf("CP-501998")).toBe(18);
    } finally {
      await holder.end();
    }
  });

  it("parseStockLevel accepts whole numbers only", () => {
    expect(parseStockLevel("0")).toBe(0);
    expect(parseStockLevel(" 250 ")).toBe(250);
    expect(() => parseStockLevel("-1")).toThrow(/negative/);
    expect(() => parseStockLevel("4294967296")).toThrow(/at most/);
  });
});
