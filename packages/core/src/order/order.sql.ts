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

/** What the `place_order` procedure (place-order.sql, beside this file) is called with. */
export interface PlaceOrderArguments {
  sku: string;
  quantity: number;
  orderId: string;
  idempotencyKey: string | null;
  /** The request's fingerprint, to tell a retry from a reuse of its key (keyed requests only). */
  requestHash: string | null;
  /** UTC. */
  now: Date;
  /** The restock request this order may open, as last known here (all NULL when unknown). */
  restockId: string | null;
  restockSku: string | null;
  restockFactoryId: string | null;
  restockQuantity: number | null;
  /** That request's OutOfStock outbox row. */
  outboxId: string | null;
  outboxSource: string | null;
  outboxDetailType: string | null;
  outboxDetail: string | null;
  /** The refusal hint: 1 takes the refusal fast path's read first. */
  refusalLikely: 0 | 1;
}

/**
 * Each argument's parameter, in the procedure's order: the one place a name becomes a position
 * (place-order.test.ts checks it against the procedure's parameter list in the database).
 */
export const PLACE_ORDER_PARAMETERS: Record<keyof PlaceOrderArguments, string> = {
  sku: "p_sku",
  quantity: "p_quantity",
  orderId: "p_order_id",
  idempotencyKey: "p_idempotency_key",
  requestHash: "p_request_hash",
  now: "p_now",
  restockId: "p_restock_id",
  restockSku: "p_restock_sku",
  restockFactoryId: "p_restock_factory_id",
  restockQuantity: "p_restock_quantity",
  outboxId: "p_outbox_id",
  outboxSource: "p_outbox_source",
  outboxDetailType: "p_outbox_detail_type",
  outboxDetail: "p_outbox_detail",
  refusalLikely: "p_refusal_likely",
};
const POSITIONS = Object.keys(PLACE_ORDER_PARAMETERS) as Array<keyof PlaceOrderArguments>;

/**
 * The whole order in one round trip. Sent as text with `?` placeholders filled by the driver: no
 * server-side prepared statement (those pin an RDS Proxy connection).
 */
export const PLACE_ORDER_SQL = `CALL place_order(${POSITIONS.map(() => "?").join(", ")})`;

/** The arguments in the procedure's order, for PLACE_ORDER_SQL's placeholders. */
export function placeOrderValues(args: PlaceOrderArguments): unknown[] {
  return POSITIONS.map((name) => args[name]);
}

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
