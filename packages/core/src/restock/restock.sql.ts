import { sql } from "drizzle-orm";
import { bigint, check, datetime, index, int, mysqlEnum, mysqlTable, primaryKey, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { factoryTable } from "../factory/factory.sql";
import { productTable } from "../product/product.sql";
import { createdAt, nullableTime, ulidColumn, updatedAt } from "../util/sql";

/**
 * pending   -> opened by a stock-out; its OutOfStock event is on its way to the factory queue
 * requested -> the legacy Factory API accepted it; waiting for the callback
 * fulfilled -> the factory called back; stock was added
 * failed    -> could not be delivered (its message is in the DLQ); operations were alerted
 * cancelled -> closed by an operator without restocking
 */
export const RESTOCK_STATUSES = ["pending", "requested", "fulfilled", "failed", "cancelled"] as const;
export type RestockStatus = (typeof RESTOCK_STATUSES)[number];
/** Statuses that still count as "the" open request of a product. */
export const OPEN_RESTOCK_STATUSES = ["pending", "requested", "failed"] as const satisfies readonly RestockStatus[];

export const restockRequestTable = mysqlTable(
  "restock_request",
  {
    id: ulidColumn("id").primaryKey(),
    productId: bigint("product_id", { mode: "number", unsigned: true })
      .notNull()
      .references(() => productTable.id),
    sku: varchar("sku", { length: 64 }).notNull(),
    factoryId: varchar("factory_id", { length: 32 })
      .notNull()
      .references(() => factoryTable.id),
    quantity: int("quantity", { unsigned: true }).notNull(),
    status: mysqlEnum("status", RESTOCK_STATUSES).notNull().default("pending"),
    /** Calls made to the Factory API for this request (each SQS delivery that got that far). */
    attempts: int("attempts", { unsigned: true }).notNull().default(0),
    lastError: varchar("last_error", { length: 1000 }),
    /**
     * While set and in the future, one factory-caller holds this request: a second delivery of
     * the same SQS message (at-least-once) backs off instead of calling the factory twice.
     * Shorter than the queue's visibility timeout, so a crashed caller's claim expires first.
     */
    leaseUntil: nullableTime("lease_until"),
    /**
     * product_id while the request is open, NULL once it is closed. The UNIQUE index on it is
     * what makes "at most one open request per product" a property of the schema: a second
     * INSERT for the same product fails however many transactions race. (NULLs never collide.)
     */
    openProductId: bigint("open_product_id", { mode: "number", unsigned: true }).generatedAlwaysAs(
      sql.raw(
        `(CASE WHEN \`status\` IN (${OPEN_RESTOCK_STATUSES.map((status) => `'${status}'`).join(", ")}) THEN \`product_id\` ELSE NULL END)`,
      ),
      { mode: "stored" },
    ),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    requestedAt: nullableTime("requested_at"),
    fulfilledAt: nullableTime("fulfilled_at"),
    failedAt: nullableTime("failed_at"),
  },
  (table) => [
    uniqueIndex("restock_request_one_open_per_product").on(table.openProductId),
    index("restock_request_status_updated_idx").on(table.status, table.updatedAt),
    check("restock_request_quantity_positive", sql`quantity > 0`),
  ],
);

/**
 * What the restock watchdog reports to operations (see Restock.attention):
 * failed              -> a request could not be delivered to the factory
 * overdue             -> the factory accepted a request but never called back within the SLA
 * stuck-pending       -> a pending request nothing has touched for several relay intervals
 * out-without-restock -> a product at stock 0 with no open request (nothing will restock it)
 */
export const ATTENTION_KINDS = ["failed", "overdue", "stuck-pending", "out-without-restock"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/**
 * The watchdog's memory of what it has already reported, so each problem is e-mailed once: a
 * row per (kind, subject), written only after the alert was published, and deleted once the
 * problem is gone (so a problem that comes back is reported again).
 */
export const restockAlertTable = mysqlTable(
  "restock_alert",
  {
    kind: mysqlEnum("kind", ATTENTION_KINDS).notNull(),
    /** The restock request's id, or the product's SKU for out-without-restock. */
    subject: varchar("subject", { length: 64 }).notNull(),
    alertedAt: datetime("alerted_at", { fsp: 3, mode: "date" }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (table) => [primaryKey({ columns: [table.kind, table.subject] })],
);

/**
 * sending  -> recorded just before the call; still so if the caller lost track of it (crashed, or
 *             its database write after a 2xx failed): the factory may have accepted it
 * accepted -> the factory answered 2xx (or its callback for this attempt arrived)
 * unknown  -> no answer within the timeout: the factory may still produce and call back
 * failed   -> a definite refusal (non-2xx answer, connection refused)
 */
export const ATTEMPT_OUTCOMES = ["sending", "accepted", "unknown", "failed"] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/**
 * Every call made to the factory for a restock request. Each attempt has its own callback URL
 * (the token covers restockId and attempt), so a callback from a second production run is
 * told apart from a duplicate of the first: each attempt's callback is credited once.
 */
export const restockAttemptTable = mysqlTable(
  "restock_attempt",
  {
    restockId: ulidColumn("restock_id")
      .notNull()
      .references(() => restockRequestTable.id),
    attempt: int("attempt", { unsigned: true }).notNull(),
    outcome: mysqlEnum("outcome", ATTEMPT_OUTCOMES).notNull().default("sending"),
    sentAt: createdAt(),
    answeredAt: nullableTime("answered_at"),
    error: varchar("error", { length: 1000 }),
    /** When this attempt's callback added its units to stock (once per attempt). */
    creditedAt: nullableTime("credited_at"),
  },
  (table) => [primaryKey({ columns: [table.restockId, table.attempt] })],
);
