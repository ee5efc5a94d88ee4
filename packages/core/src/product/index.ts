export * as Product from "./index";

import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { query } from "../drizzle";
import { NotFoundError } from "../util/error";
import { productTable } from "./product.sql";

export { productTable };

/** SKUs look like CP-502101; anything else is rejected before it reaches SQL. */
export const Sku = z
  .string({ error: "sku must be a string" })
  .min(1, "sku must not be empty")
  .max(64, "sku must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "sku may contain only letters, digits, '.', '_' and '-'");

export interface ProductView {
  sku: string;
  name: string;
  price: number;
  stock: number;
}

const columns = {
  sku: productTable.sku,
  name: productTable.name,
  price: productTable.price,
  stock: productTable.stock,
};

export async function list(): Promise<ProductView[]> {
  return query((db) => db.select(columns).from(productTable).orderBy(asc(productTable.sku)));
}

export async function fromSku(sku: string): Promise<ProductView> {
  const [row] = await query((db) => db.select(columns).from(productTable).where(eq(productTable.sku, sku)));
  if (!row) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${sku}`, { sku });
  return row;
}
