import { bigint, char, index, int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { productTable } from "../product/product.sql";
import { createdAt, ulidColumn } from "../util/sql";

/** Confirmed orders. A rejected (out-of-stock) order leaves no row. */
export const orderTable = mysqlTable(
  "orders",
  {
    id: ulidColumn("id").primaryKey(),
    productId: bigint("product_id", { mode: "number", unsigned: true })
      .notNull()
      .references(() => productTable.id),
    sku: varchar("sku", { length: 64 }).notNull(),
    quantity: int("quantity", { unsigned: true }).notNull(),
    unitPrice: int("unit_price", { unsigned: true }).notNull(),
    /** Stock left right after this order; replayed to a client retrying with the same key. */
    stockAfter: int("stock_after", { unsigned: true }).notNull(),
    /**
     * Client-chosen Idempotency-Key; unique so two racing retries cannot both order. Binary
     * collation (migration 0001): keys differing only in case are different keys.
     */
    idempotencyKey: varchar("idempotency_key", { length: 255 }).unique("orders_idempotency_key_unique"),
    /** SHA-256 of the request body, to tell a retry from a different request reusing a key. */
    requestHash: char("request_hash", { length: 64 }),
    createdAt: createdAt(),
  },
  (table) => [index("orders_product_created_idx").on(table.productId, table.createdAt)],
);
