import { productTable } from "@donut-states/core/product";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStockLevel } from "./stock";
import { type OpsFixture, opsFixture } from "./testing";

let fixture: OpsFixture;

beforeAll(async () => {
  fixture = await opsFixture({
    label: "ops_stock",
    products: [
      { sku: "CP-502101", stock: 12, name: "부산도너츠", restockQuantity: 100 },
      { sku: "CP-502102", stock: 0, name: "Honey Glazed" },
    ],
  });
});
afterAll(async () => {
  await fixture?.close();
});

const stockOf = async (sku: string) =>
  (await fixture.database.db.select({ stock: productTable.stock }).from(productTable).where(eq(productTable.sku, sku)))[0]?.stock;

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
      { sku: "CP-502101", stock: 12, restock: null },
      { sku: "CP-502102", stock: 0, restock: null },
    ]);
  });
});

describe("ops stock set", () => {
  it("sets the level over the signed admin API, and records who, the previous level and why", async () => {
    const run = await fixture.ops("--json", "stock", "set", "CP-502102", "40", "--reason", "stock count");
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

    const human = await fixture.ops("stock", "set", "CP-502102", "7", "--reason", "broken in transit");
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
    const run = await fixture.ops("stock", "set", "CP-502101", "3");
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
    const unknown = await fixture.ops("stock", "set", "CP-999999", "5", "--reason", "count");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/No product has SKU CP-999999/);

    const malformed = await fixture.ops("--json", "stock", "set", "CP 1; DROP TABLE product", "5", "--reason", "count");
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.err)).toMatchObject({ error: { code: "INVALID_INPUT", message: expect.stringMatching(/Invalid SKU/) } });
    expect(await stockOf("CP-502101")).toBe(12);
  });

  it("needs both arguments", async () => {
    const run = await fixture.ops("stock", "set", "CP-502101");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/missing required argument 'n'/);
  });

  it("parseStockLevel accepts whole numbers only", () => {
    expect(parseStockLevel("0")).toBe(0);
    expect(parseStockLevel(" 250 ")).toBe(250);
    expect(() => parseStockLevel("-1")).toThrow(/negative/);
    expect(() => parseStockLevel("4294967296")).toThrow(/at most/);
  });
});
