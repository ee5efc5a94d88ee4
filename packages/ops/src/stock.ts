/** `ops stock` (levels per SKU) and `ops stock set <sku> <n>`. */
import type { Command } from "commander";
import { eq } from "drizzle-orm";
import { transaction, type Database } from "@donut-states/core/drizzle";
import { Product, productTable } from "@donut-states/core/product";
import type { Kit } from "./kit";
import { emit, OpsError, table, usageError } from "./output";

/** INT UNSIGNED, the column's type. */
const MAX_STOCK = 4_294_967_295;

export type StockRow = Product.StockLevel;

export async function listStock(db: Database): Promise<StockRow[]> {
  return Product.stockLevels(db);
}

/** Parse the `<n>` of `stock set`: a whole number from 0 to the column's maximum. */
export function parseStockLevel(raw: string): number {
  const text = raw.trim();
  if (/^-\d+$/.test(text)) throw usageError(`Stock cannot be negative (got ${text})`);
  if (!/^\d+$/.test(text)) throw usageError(`Stock must be a whole number (got ${JSON.stringify(raw)})`);
  const value = Number(text);
  if (value > MAX_STOCK) throw usageError(`Stock must be at most ${MAX_STOCK} (got ${text})`);
  return value;
}

export function parseSku(raw: string): string {
  const parsed = Product.Sku.safeParse(raw);
  if (!parsed.success) throw usageError(`Invalid SKU ${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export interface SetStockResult {
  sku: string;
  previous: number;
  stock: number;
}

/**
 * Set a product's stock to an absolute level (a stock count, a correction). Locks the row so
 * the reported previous level is the one replaced. Does not open or close restock requests:
 * orders do that as they see the new level.
 */
export async function setStock(db: Database, sku: string, level: number): Promise<SetStockResult> {
  const validSku = parseSku(sku);
  if (!Number.isInteger(level) || level < 0 || level > MAX_STOCK) throw usageError(`Stock must be a whole number from 0 to ${MAX_STOCK} (got ${level})`);
  return transaction(
    async (tx) => {
      const [product] = await tx.select({ stock: productTable.stock }).from(productTable).where(eq(productTable.sku, validSku)).for("update");
      if (!product) throw new OpsError(`No product has SKU ${validSku} (see \`npm run ops -- stock\`)`, 1, "PRODUCT_NOT_FOUND");
      await tx.update(productTable).set({ stock: level }).where(eq(productTable.sku, validSku));
      return { sku: validSku, previous: product.stock, stock: level };
    },
    { db },
  );
}

export function registerStock(program: Command, kit: Kit): void {
  const stock = program.command("stock").description("stock levels per SKU (default: list)");

  stock
    .command("list", { isDefault: true })
    .description("stock level, reorder point and open restock request of every product")
    .action(
      kit.action(async (ctx, io) => {
        const rows = await listStock(await ctx.db());
        emit(io, ctx.json, { products: rows }, () =>
          rows.length === 0
            ? "No products."
            : table(rows, [
                { header: "SKU", value: (row) => row.sku },
                { header: "NAME", value: (row) => row.name, maxWidth: 28 },
                { header: "STOCK", value: (row) => row.stock, align: "right" },
                { header: "REORDER AT", value: (row) => row.reorderPoint, align: "right" },
                { header: "RESTOCK QTY", value: (row) => row.restockQuantity, align: "right" },
                { header: "OPEN RESTOCK", value: (row) => (row.restock ? `${row.restock.id} ${row.restock.status}` : "") },
              ]),
        );
      }),
    );

  stock
    .command("set")
    .description("set a product's stock to <n> units (a stock count or a correction)")
    .argument("<sku>", "product SKU, e.g. CP-502101")
    .argument("<n>", "the new stock level, a whole number >= 0")
    .action(
      kit.action(async (ctx, io, sku: string, n: string) => {
        const level = parseStockLevel(n);
        parseSku(sku);
        const result = await setStock(await ctx.db(), sku, level);
        emit(io, ctx.json, result, () => `${result.sku}: stock ${result.previous} -> ${result.stock}`);
      }),
    );
}
