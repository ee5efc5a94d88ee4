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

/**
 * The whole order in one round trip: the `place_order` procedure (migrations 0002_place_order and 0006_place_order_refusal_hint).
 * Arguments, in order: sku, quantity, order id, Idempotency-Key, request hash, now (UTC), then
 * the restock request it may open (id, sku, factory id, quantity) and that request's outbox row
 * (id, source, detail type, detail), and whether a refusal is likely (migration 0006: only then
 * is the refusal fast path's read taken). Sent as text with `?` placeholders filled by the driver:
 * no server-side prepared statement (those pin an RDS Proxy connection).
 */
export const PLACE_ORDER_SQL = "CALL place_order(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/** The one row `place_order` answers with. */
export interface PlaceOrderRow {
  outcome: "confirmed" | "replayed" | "out_of_stock" | "not_found" | "stale";
  /** replayed: the stored order. */
  order_id: string | null;
  order_quantity: number | null;
  order_created_at: Date | null;
  request_hash: string | null;
  /** The product's SKU as stored (confirmed, stale) or the stored order's (replayed). */
  sku: string | null;
  unit_price: number | null;
  /** Stock after the order (confirmed, replayed) or what is available (out_of_stock). */
  stock: number | null;
  /** The product's restock facts, whenever the product row was read under its lock. */
  factory_id: string | null;
  restock_quantity: number | null;
  /** The product's open restock request (out_of_stock, and confirmed at the reorder point). */
  restock_id: string | null;
  restock_status: "pending" | "requested" | "failed" | null;
  restock_request_quantity: number | null;
  /** 1 when this call opened that request and wrote its outbox row. */
  restock_opened: number;
}
