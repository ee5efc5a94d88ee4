import { asc, eq } from "drizzle-orm";
import * as z from "../util/zod";
import { type Executor, query } from "../drizzle";
import { type RestockStatus, restockRequestTable } from "../restock/restock.sql";
import { NotFoundError } from "../util/error";
import { productTable } from "./product.sql";

export { productTable };

/** SKUs look like CP-502101; anything else is rejected before it reaches SQL. */
export const Sku = z.string({ error: "sku must be a string" }).check(
  z.minLength(1, "sku must not be empty"),
  z.maxLength(64, "sku must be at most 64 characters"),
  z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "sku may contain only letters, digits, '.', '_' and '-'"),
);

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

export interface StockLevel {
  sku: string;
  name: string;
  stock: number;
  reorderPoint: number;
  restockQuantity: number;
  /** The product's open restock request (pending, requested or failed), if any. */
  restock: { id: string; status: RestockStatus } | null;
}

/** Stock per product with its open restock request: what operations look at first. */
export async function stockLevels(db: Executor): Promise<StockLevel[]> {
  const rows = await db
    .select({
      sku: productTable.sku,
      name: productTable.name,
      stock: productTable.stock,
      reorderPoint: productTable.reorderPoint,
      restockQuantity: productTable.restockQuantity,
      restockId: restockRequestTable.id,
      restockStatus: restockRequestTable.status,
    })
    .from(productTable)
    .leftJoin(restockRequestTable, eq(restockRequestTable.openProductId, productTable.id))
    .orderBy(asc(productTable.sku));
  return rows.map(({ restockId, restockStatus, ...row }) => ({
    ...row,
    restock: restockId && restockStatus ? { id: restockId, status: restockStatus } : null,
  }));
}
