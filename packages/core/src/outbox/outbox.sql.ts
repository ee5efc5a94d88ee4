import { index, int, mysqlTable, text, varchar } from "drizzle-orm/mysql-core";
import { createdAt, nullableTime, ulidColumn } from "../util/sql";

/**
 * Transactional outbox: an event is written in the same transaction as the state change that
 * caused it, and published to EventBridge after commit. A crash or a bus outage in between
 * leaves the row unpublished, and the relay publishes it later. Nothing is lost.
 */
export const outboxTable = mysqlTable(
  "outbox",
  {
    /** Also the event's id downstream, so consumers can de-duplicate. */
    id: ulidColumn("id").primaryKey(),
    source: varchar("source", { length: 128 }).notNull(),
    detailType: varchar("detail_type", { length: 128 }).notNull(),
    /** JSON text (not the JSON type: MariaDB stores that as LONGTEXT and mysql2 returns a string there but an object on MySQL). */
    detail: text("detail").notNull(),
    createdAt: createdAt(),
    publishedAt: nullableTime("published_at"),
    attempts: int("attempts", { unsigned: true }).notNull().default(0),
    lastError: varchar("last_error", { length: 1000 }),
  },
  (table) => [index("outbox_unpublished_idx").on(table.publishedAt, table.createdAt)],
);
