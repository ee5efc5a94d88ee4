/**
 * The dashboard's view over time, read from the database: orders per minute and the stock of
 * each SKU over the last hour (from the orders' own `stock_after`, the level each order left,
 * plus the level now), and the recent restock requests with the moments they changed state.
 */
import type { Database } from "@donut-states/core/drizzle";
import * as Order from "@donut-states/core/order";
import * as Restock from "@donut-states/core/restock";

export const HISTORY_WINDOW_MS = 60 * 60_000;

export interface DashboardHistory {
  /** The window: [from, to], epoch milliseconds. */
  from: number;
  to: number;
  /** One entry per minute of the window (zeros included), oldest first. */
  ordersPerMinute: Array<{ minute: number; orders: number; units: number }>;
  /** Per SKU: the lowest level an order left in each minute with orders, then the level now. */
  stock: Record<string, Array<{ at: number; stock: number }>>;
  /** Recent restock requests (newest first): opened -> requested -> fulfilled or failed. */
  restocks: Array<{
    id: string;
    sku: string;
    status: Restock.RestockStatus;
    quantity: number;
    openedAt: string;
    requestedAt: string | null;
    fulfilledAt: string | null;
    failedAt: string | null;
  }>;
}

const MINUTE = 60_000;

export async function readHistory(
  db: Database,
  currentStock: Array<{ sku: string; stock: number }>,
  { now = Date.now(), restocks = 10 } = {},
): Promise<DashboardHistory> {
  const from = now - HISTORY_WINDOW_MS;
  const [activity, requests] = await Promise.all([Order.perMinute(new Date(from), db), Restock.list({ limit: restocks, executor: db })]);

  const firstMinute = Math.floor(from / MINUTE) * MINUTE;
  const perMinute = new Map<number, { orders: number; units: number }>();
  for (let minute = firstMinute; minute <= now; minute += MINUTE) perMinute.set(minute, { orders: 0, units: 0 });
  const stock: DashboardHistory["stock"] = {};
  for (const row of [...activity].sort((a, b) => a.minute - b.minute)) {
    const total = perMinute.get(row.minute);
    if (total) {
      total.orders += row.orders;
      total.units += row.units;
    }
    // By the end of that minute its orders had left at most this many.
    (stock[row.sku] ??= []).push({ at: Math.min(row.minute + MINUTE, now), stock: row.lowestStock });
  }
  for (const { sku, stock: level } of currentStock) (stock[sku] ??= []).push({ at: now, stock: level });

  return {
    from,
    to: now,
    ordersPerMinute: [...perMinute].map(([minute, totals]) => ({ minute, ...totals })),
    stock,
    restocks: requests.map((request) => ({
      id: request.id,
      sku: request.sku,
      status: request.status,
      quantity: request.quantity,
      openedAt: request.createdAt.toISOString(),
      requestedAt: request.requestedAt?.toISOString() ?? null,
      fulfilledAt: request.fulfilledAt?.toISOString() ?? null,
      failedAt: request.failedAt?.toISOString() ?? null,
    })),
  };
}
