/** `ops stock` (levels per SKU), `ops stock set <sku> <n> --expect <seen> --reason …` and `ops stock history <sku>`, over the admin API. */

import * as Product from "@donut-states/core/product";
import type { Command } from "commander";
import type { AdminApi } from "./admin-api";
import type { CommandRunner } from "./command-runner";
import { emit, table, usageError } from "./output";

export type StockRow = Product.StockLevel;

export async function listStock(api: AdminApi): Promise<StockRow[]> {
  return (await api.request<{ products: StockRow[] }>("GET", "/admin/products")).products;
}

/** Parse the `<n>` of `stock set`: a whole number from 0 to the column's maximum. */
export function parseStockLevel(raw: string): number {
  const text = raw.trim();
  if (/^-\d+$/.test(text)) throw usageError(`Stock cannot be negative (got ${text})`);
  if (!/^\d+$/.test(text)) throw usageError(`Stock must be a whole number (got ${JSON.stringify(raw)})`);
  const value = Number(text);
  if (value > Product.MAX_UNSIGNED_INT) throw usageError(`Stock must be at most ${Product.MAX_UNSIGNED_INT} (got ${text})`);
  return value;
}

export function parseSku(raw: string): string {
  const parsed = Product.Sku.safeParse(raw);
  if (!parsed.success) throw usageError(`Invalid SKU ${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function parseReason(raw: string | undefined): string {
  const parsed = Product.Reason.safeParse(raw ?? "");
  if (!parsed.success)
    throw usageError(`--reason is required: say why the stock is set (a count, a correction), e.g. --reason "stock count"`);
  return parsed.data;
}

/** What `stock set` prints with --json: the recorded change. */
export type SetStockResult = Product.StockChange;

/**
 * Set a product's stock to an absolute level (a stock count, a correction). The admin API
 * records who (the IAM caller), when, the level replaced and why, with the change.
 */
export async function setStock(api: AdminApi, sku: string, level: number, reason: string, expected: number): Promise<SetStockResult> {
  const { change } = await api.request<{ change: SetStockResult }>("PUT", `/admin/products/${encodeURIComponent(sku)}/stock`, {
    body: { stock: level, reason, expect: expected },
  });
  return change;
}

/** `--expect <n>`: the level the operator saw (`ops stock`); required, so a count never overwrites sales it did not see. */
export function parseExpected(raw: string | undefined): number {
  if (raw === undefined)
    throw usageError("--expect is required: the stock you saw (`npm run ops -- stock`); the change is refused if it moved since");
  try {
    return parseStockLevel(raw);
  } catch {
    throw usageError(`--expect must be a whole number >= 0, the stock you saw (got ${JSON.stringify(raw)})`);
  }
}

export function registerStock(program: Command, runner: CommandRunner): void {
  const stock = program.command("stock").description("stock levels per SKU (default: list)");

  stock
    .command("list", { isDefault: true })
    .description("stock level, reorder point and open restock request of every product")
    .action(
      runner.action(async (ctx, io) => {
        const rows = await listStock(ctx.api());
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
    .description("set a product's stock to <n> units (a stock count or a correction) if it is still --expect; recorded with who and why")
    .argument("<sku>", "product SKU, e.g. CP-502101")
    .argument("<n>", "the new stock level, a whole number >= 0")
    .option("-e, --expect <n>", "the stock level you saw (required): refused, changing nothing, if the stock is not n any more")
    .option("-r, --reason <text>", 'why (kept with the change), e.g. "stock count"')
    .action(
      runner.action(async (ctx, io, sku: string, n: string, options: { reason?: string; expect?: string }) => {
        const level = parseStockLevel(n);
        const validSku = parseSku(sku);
        const expected = parseExpected(options.expect);
        const reason = parseReason(options.reason);
        const result = await setStock(ctx.api(), validSku, level, reason, expected);
        emit(io, ctx.json, result, () => `${result.sku}: stock ${result.previous} -> ${result.stock} (by ${result.who}: ${result.reason})`);
      }),
    );

  stock
    .command("history")
    .description("a product's stock changes made by hand: who, when, old -> new, why (newest first)")
    .argument("<sku>", "product SKU, e.g. CP-502101")
    .option("-n, --limit <n>", "at most n changes (default 20)")
    .action(
      runner.action(async (ctx, io, sku: string, options: { limit?: string }) => {
        const validSku = parseSku(sku);
        const result = await ctx
          .api()
          .request<{ sku: string; stock: number; changes: Product.StockChange[] }>(
            "GET",
            `/admin/products/${encodeURIComponent(validSku)}/stock`,
            {
              query: { limit: options.limit },
            },
          );
        emit(io, ctx.json, result, () =>
          [
            `${result.sku}: stock ${result.stock} now.`,
            result.changes.length === 0
              ? "No stock changes by hand."
              : table(result.changes, [
                  { header: "WHEN", value: (row) => new Date(row.changedAt) },
                  { header: "OLD", value: (row) => row.previous, align: "right" },
                  { header: "NEW", value: (row) => row.stock, align: "right" },
                  { header: "WHO", value: (row) => row.who, maxWidth: 60 },
                  { header: "WHY", value: (row) => row.reason, maxWidth: 60 },
                ]),
          ].join("\n"),
        );
      }),
    );
}
