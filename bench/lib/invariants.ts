/**
 * The stock invariants, checked the same way by the bench (after every measurement) and the chaos
 * run (after the drain): per product, confirmed units + stock = initial stock + restocked units,
 * and stock never below zero; and every 201 is a committed order.
 */
import type mysql from "mysql2/promise";

/** One product's books, read from the database. */
export interface StockLine {
  sku: string;
  stock: number;
  /** Units in confirmed orders, and how many orders. */
  units: number;
  orders: number;
}

export interface Conservation {
  /** Confirmed units beyond initial + restocked, summed over products. */
  oversold: number;
  /** Sum of |confirmed + stock - initial - restocked|: units that appeared or vanished (lost updates). */
  drift: number;
  confirmedUnits: number;
  orders: number;
  finalStock: number;
  negativeStock: number;
  /** One line per product: "sku: sold + left = initial + restocked", marked where it does not add up. */
  lines: string[];
  ok: boolean;
}

/** Every product's stock with its confirmed units and orders, in one query. */
export async function readStockLedger(db: mysql.Connection | mysql.Pool): Promise<StockLine[]> {
  const [rows] = await db.query<mysql.RowDataPacket[]>(
    `SELECT p.sku, p.stock, COALESCE(o.units, 0) AS units, COALESCE(o.n, 0) AS n
       FROM product p LEFT JOIN (SELECT product_id, SUM(quantity) AS units, COUNT(*) AS n FROM orders GROUP BY product_id) o ON o.product_id = p.id
      ORDER BY p.sku`,
  );
  return rows.map((row) => ({ sku: String(row.sku), stock: Number(row.stock), units: Number(row.units), orders: Number(row.n) }));
}

/** No oversell and no lost update: confirmed + stock = initial + restocked, stock >= 0, for every product. */
export function checkConservation(
  ledger: StockLine[],
  initial: (sku: string) => number,
  restocked: (sku: string) => number = () => 0,
): Conservation {
  const report: Conservation = {
    oversold: 0,
    drift: 0,
    confirmedUnits: 0,
    orders: 0,
    finalStock: 0,
    negativeStock: 0,
    lines: [],
    ok: true,
  };
  for (const line of ledger) {
    const start = initial(line.sku);
    const added = restocked(line.sku);
    report.confirmedUnits += line.units;
    report.orders += line.orders;
    report.finalStock += line.stock;
    report.oversold += Math.max(0, line.units - start - added);
    const drift = Math.abs(line.units + line.stock - start - added);
    report.drift += drift;
    if (line.stock < 0) report.negativeStock++;
    report.lines.push(`${line.sku}: ${line.units} sold + ${line.stock} left = ${start} + ${added}${drift ? "  <-- MISMATCH" : ""}`);
  }
  report.ok = report.oversold === 0 && report.drift === 0 && report.negativeStock === 0;
  return report;
}

/**
 * A 201 is always a committed order; the converse allows `slack` orders without a 201: requests
 * still in flight when the clock stopped (the bench), or answered 503 "outcome unknown" while the
 * database restarted (the chaos run).
 */
export function answersMatchOrders({ confirmed, orders, slack }: { confirmed: number; orders: number; slack: number }): boolean {
  return confirmed <= orders && orders <= confirmed + slack;
}
