import { and, count, gte, min, sql, sum } from "drizzle-orm";
import { encodeTime } from "ulid";
import { type Executor, query } from "../drizzle";
import { orderTable } from "./order.sql";
export interface MinuteActivity {
  sku: string;
  /** Start of the minute, epoch milliseconds (UTC). */
  minute: number;
  orders: number;
  units: number;
  /** The lowest stock an order of this minute left (orders.stock_after). */
  lowestStock: number;
}

/**
 * Confirmed orders per SKU and minute since `since`, with the lowest stock an order left in
 * each minute: the dashboard's "over the last hour" charts. Order ids are ULIDs, time first, so
 * the primary key's range bounds the scan to the window.
 */
export async function perMinute(since: Date, executor?: Executor): Promise<MinuteActivity[]> {
  const firstId = encodeTime(since.getTime(), 10) + "0".repeat(16);
  const minute = sql<number>`FLOOR(UNIX_TIMESTAMP(${orderTable.createdAt}) / 60)`;
  const rows = await query((db) =>
    (executor ?? db)
      .select({ sku: orderTable.sku, minute, orders: count(), units: sum(orderTable.quantity), lowestStock: min(orderTable.stockAfter) })
      .from(orderTable)
      .where(and(gte(orderTable.id, firstId), gte(orderTable.createdAt, since)))
      .groupBy(orderTable.sku, minute),
  );
  return rows.map((row) => ({
    sku: row.sku,
    minute: Number(row.minute) * 60_000,
    orders: Number(row.orders),
    units: Number(row.units ?? 0),
    lowestStock: Number(row.lowestStock ?? 0),
  }));
}
