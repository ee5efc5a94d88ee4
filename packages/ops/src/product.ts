/** `ops product create <sku> …` and `ops product update <sku> …`: the catalogue, over the admin API. */

import * as Product from "@donut-states/core/product";
import type { Command } from "commander";
import type { CommandRunner } from "./command-runner";
import { emit, usageError } from "./output";
import { parseSku } from "./stock";

interface ProductOptions {
  name?: string;
  price?: string;
  factory?: string;
  restockQuantity?: string;
  reorderPoint?: string;
  stock?: string;
}

function wholeNumber(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > Product.MAX_UNSIGNED_INT) {
    throw usageError(`${flag} must be a whole number from ${min} to ${Product.MAX_UNSIGNED_INT} (got ${JSON.stringify(raw)})`);
  }
  return Number(text);
}

/** The request body from the flags; the admin API validates it again (and is the authority). */
function fields(options: ProductOptions) {
  return {
    name: options.name,
    price: wholeNumber("--price", options.price, 0),
    factoryId: options.factory,
    restockQuantity: wholeNumber("--restock-quantity", options.restockQuantity, 1),
    reorderPoint: wholeNumber("--reorder-point", options.reorderPoint, 0),
  };
}

const describe = (product: Product.ProductDetails) =>
  `${product.sku} "${product.name}": price ${product.price}, stock ${product.stock}, factory ${product.factoryId}, restock ${product.restockQuantity} at stock <= ${product.reorderPoint}`;

export function registerProduct(program: Command, runner: CommandRunner): void {
  const product = program.command("product").description("the catalogue: add or change a product (stock: `stock set`)");
  const withFields = (command: Command) =>
    command
      .option("--name <name>", "display name")
      .option("--price <n>", "price in the currency's smallest unit (KRW: won)")
      .option("--factory <id>", "the factory that produces it, e.g. FF-500293")
      .option("--restock-quantity <n>", "units asked of the factory when it runs out (default 50)")
      .option("--reorder-point <n>", "open a restock request when stock falls to this (default 0)");

  withFields(product.command("create").description("add a product to the catalogue").argument("<sku>", "new SKU, e.g. CP-502105"))
    .option("--stock <n>", "initial stock (default 0), recorded as a stock change")
    .action(
      runner.action(async (ctx, io, sku: string, options: ProductOptions) => {
        const body = { sku: parseSku(sku), ...fields(options), stock: wholeNumber("--stock", options.stock, 0) };
        for (const [flag, value] of [
          ["--name", body.name],
          ["--price", body.price],
          ["--factory", body.factoryId],
        ] as const) {
          if (value === undefined) throw usageError(`${flag} is required to create a product`);
        }
        const { product: created } = await ctx.api().request<{ product: Product.ProductDetails }>("POST", "/admin/products", { body });
        emit(io, ctx.json, created, () => `Created ${describe(created)}.`);
      }),
    );

  withFields(
    product.command("update").description("change a product's name, price, factory or restock settings").argument("<sku>", "product SKU"),
  ).action(
    runner.action(async (ctx, io, sku: string, options: ProductOptions) => {
      const validSku = parseSku(sku);
      const body = Object.fromEntries(Object.entries(fields(options)).filter(([, value]) => value !== undefined));
      if (Object.keys(body).length === 0)
        throw usageError("Nothing to change: give at least one of --name, --price, --factory, --restock-quantity, --reorder-point");
      const { product: updated } = await ctx
        .api()
        .request<{ product: Product.ProductDetails }>("PATCH", `/admin/products/${encodeURIComponent(validSku)}`, { body });
      emit(io, ctx.json, updated, () => `Updated ${describe(updated)}.`);
    }),
  );
}
