import { sql } from "drizzle-orm";
import { bigint, check, datetime, index, int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { factoryTable } from "../factory/factory.sql";
import { createdAt, ulidColumn, updatedAt } from "../util/sql";

export const productTable = mysqlTable(
  "product",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    /** Public product code such as CP-502101; what customers and the factory use. */
    sku: varchar("sku", { length: 64 }).notNull().unique("product_sku_unique"),
    name: varchar("name", { length: 200 }).notNull(),
    /** Price in the smallest unit of the currency (KRW has no minor unit). */
    price: int("price", { unsigned: true }).notNull(),
    /** Units on the shelf. UNSIGNED + CHECK: the database itself refuses a negative stock. */
    stock: int("stock", { unsigned: true }).notNull().default(0),
    factoryId: varchar("factory_id", { length: 32 })
      .notNull()
      .references(() => factoryTable.id),
    /** Units asked of the factory when this product runs out. */
    restockQuantity: int("restock_quantity", { unsigned: true }).notNull().default(50),
    /** Open a restock request as soon as stock falls to this level (0 = only when it runs out). */
    reorderPoint: int("reorder_point", { unsigned: true }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  () => [check("product_stock_non_negative", sql`stock >= 0`), check("product_restock_quantity_positive", sql`restock_quantity > 0`)],
);

/**
 * Every stock level set by hand (a count, a correction): who set it, when, from what to what,
 * and why. Orders and factory callbacks change stock too, but they leave their own records
 * (orders, restock requests); this is the trail of what an operator did.
 */
export const stockChangeTable = mysqlTable(
  "stock_change",
  {
    id: ulidColumn("id").primaryKey(),
    productId: bigint("product_id", { mode: "number", unsigned: true })
      .notNull()
      .references(() => productTable.id),
    sku: varchar("sku", { length: 64 }).notNull(),
    previousStock: int("previous_stock", { unsigned: true }).notNull(),
    newStock: int("new_stock", { unsigned: true }).notNull(),
    /** The caller: an IAM principal ARN for the admin API, `local:<user>` for the offline stack's tools. */
    actor: varchar("actor", { length: 512 }).notNull(),
    reason: varchar("reason", { length: 500 }).notNull(),
    changedAt: datetime("changed_at", { fsp: 3, mode: "date" }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (table) => [index("stock_change_product_changed_idx").on(table.productId, table.changedAt)],
);
