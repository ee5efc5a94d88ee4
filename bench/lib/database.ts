/**
 * The bench's own database plumbing: a fresh database, seeding and resetting between
 * measurements, the invariant check, and the two SQL baselines (no HTTP):
 *   raw   - what we do, minimum form: conditional UPDATE ... WHERE stock >= ? + order INSERT, commit
 *   naive - what old implementations did: SELECT stock, compute in JS, UPDATE stock = ?, INSERT, commit
 */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { ulid } from "ulid";
import { type Conservation, checkConservation, readStockLedger } from "./invariants";
import { type LatencySummary, summarize } from "./stats";

export const FACTORY = { id: "FF-500293", name: "부산도너츠 공장", managerEmail: "factory@bench.local" };

export interface ProductSeed {
  sku: string;
  stock: number;
  restockQuantity?: number;
}

export interface ProductRow {
  id: number;
  sku: string;
  price: number;
  stock: number;
}

export async function createDatabase(serverUrl: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `ds_bench_${new Date().toISOString().slice(0, 10).replace(/-/g, "")}_${randomBytes(3).toString("hex")}`;
  const admin = await mysql.createConnection({ uri: serverUrl });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const connection = await mysql.createConnection({ uri: serverUrl });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

/** Empty every table the API writes and seed `products` (the factory row is kept). */
export async function resetProducts(admin: mysql.Connection, products: ProductSeed[]): Promise<Map<string, ProductRow>> {
  await admin.query("TRUNCATE TABLE orders");
  await admin.query("TRUNCATE TABLE outbox");
  // restock_attempt references restock_request, and a referenced table cannot be TRUNCATEd.
  await admin.query("DELETE FROM restock_attempt");
  await admin.query("DELETE FROM restock_request");
  await admin.query("DELETE FROM product");
  await admin.query("INSERT IGNORE INTO factory (id, name, manager_email) VALUES (?, ?, ?)", [
    FACTORY.id,
    FACTORY.name,
    FACTORY.managerEmail,
  ]);
  for (let start = 0; start < products.length; start += 500) {
    const chunk = products.slice(start, start + 500);
    await admin.query("INSERT INTO product (sku, name, price, stock, factory_id, restock_quantity, reorder_point) VALUES ?", [
      chunk.map((product) => [product.sku, `Donut ${product.sku}`, 2500, product.stock, FACTORY.id, product.restockQuantity ?? 50, 0]),
    ]);
  }
  const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT id, sku, price, stock FROM product");
  return new Map(
    rows.map((row) => [
      row.sku as string,
      { id: Number(row.id), sku: row.sku as string, price: Number(row.price), stock: Number(row.stock) },
    ]),
  );
}

/** The stock invariants of one measurement (./invariants.ts), and how many restock requests it opened. */
export type InvariantReport = Omit<Conservation, "lines"> & { restockRequests: number };

/** Invariant 1 (no oversell): confirmed units + stock = initial stock, stock >= 0, per product (./invariants.ts, shared with the chaos run). */
export async function checkInvariants(admin: mysql.Connection, initial: Map<string, number>): Promise<InvariantReport> {
  const { lines: _lines, ...conservation } = checkConservation(await readStockLedger(admin), (sku) => initial.get(sku) ?? 0);
  const [[restocks]] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM restock_request");
  return { ...conservation, restockRequests: Number(restocks.n) };
}

/**
 * raw    - the minimum correct transaction, one statement per round trip: BEGIN, conditional
 *          UPDATE, INSERT, COMMIT (4 round trips, the row locked across 2 of them);
 * raw1rt - the same work as ONE multi-statement text (one round trip): the physical limit of
 *          one hot row on this server;
 * naive  - read-then-write (oversells).
 */
export type SqlDesign = "raw" | "raw1rt" | "naive";

/** raw1rt: decrement, the order row only if the decrement happened, commit; one text. */
const ONE_ROUND_TRIP_ORDER = [
  "START TRANSACTION",
  "UPDATE product SET stock = stock - ? WHERE id = ? AND stock >= ?",
  "INSERT INTO orders (id, product_id, sku, quantity, unit_price, stock_after) SELECT ?, id, sku, ?, price, stock FROM product WHERE id = ? AND ROW_COUNT() = 1",
  "COMMIT",
].join("; ");

export interface SqlRun {
  design: SqlDesign;
  workers: number;
  poolSize: number;
  seconds: number;
  attempts: number;
  confirmed: number;
  outOfStock: number;
  errors: number;
  errorSamples: string[];
  latency: LatencySummary;
}

/**
 * `workers` concurrent loops, each running one order transaction after another on a pool of
 * `poolSize` connections, for `durationMs` or until `amount` attempts were made.
 */
export async function runSqlWorkers(options: {
  url: string;
  design: SqlDesign;
  workers: number;
  poolSize: number;
  durationMs: number;
  amount?: number;
  skus: string[];
  products: Map<string, ProductRow>;
  quantity: number;
}): Promise<SqlRun> {
  const { design, workers, poolSize, durationMs, amount, skus, products, quantity } = options;
  const pool = mysql.createPool({
    uri: options.url,
    connectionLimit: poolSize,
    timezone: "Z",
    supportBigNumbers: true,
    multipleStatements: design === "raw1rt",
  });
  pool.on("connection", (connection) => {
    // Same isolation as the API's transactions.
    connection.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  });
  // Open every connection before the clock starts.
  const warm = await Promise.all(Array.from({ length: poolSize }, () => pool.getConnection()));
  await Promise.all(warm.map((connection) => connection.query("SELECT 1")));
  for (const connection of warm) connection.release();

  const latencies: number[] = [];
  const run: SqlRun = {
    design,
    workers,
    poolSize,
    seconds: 0,
    attempts: 0,
    confirmed: 0,
    outOfStock: 0,
    errors: 0,
    errorSamples: [],
    latency: summarize([]),
  };
  let issued = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const more = () => (amount !== undefined ? issued < amount : performance.now() < deadline);

  async function once(sku: string): Promise<"confirmed" | "out-of-stock"> {
    const product = products.get(sku)!;
    const connection = await pool.getConnection();
    if (design === "raw1rt") {
      try {
        const [results] = await connection.query<mysql.ResultSetHeader[]>(ONE_ROUND_TRIP_ORDER, [
          quantity,
          product.id,
          quantity,
          ulid(),
          quantity,
          product.id,
        ]);
        return results[2].affectedRows === 1 ? "confirmed" : "out-of-stock";
      } catch (error) {
        // A multi-statement text stops at the first error with the transaction still open.
        await connection.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        connection.release();
      }
    }
    try {
      await connection.beginTransaction();
      if (design === "raw") {
        const [update] = await connection.query<mysql.ResultSetHeader>(
          "UPDATE product SET stock = stock - ? WHERE sku = ? AND stock >= ?",
          [quantity, sku, quantity],
        );
        if (update.affectedRows !== 1) {
          await connection.rollback();
          return "out-of-stock";
        }
        await connection.query(
          "INSERT INTO orders (id, product_id, sku, quantity, unit_price, stock_after) VALUES (?, ?, ?, ?, ?, (SELECT stock FROM product WHERE id = ?))",
          [ulid(), product.id, sku, quantity, product.price, product.id],
        );
      } else {
        const [[row]] = await connection.query<mysql.RowDataPacket[]>("SELECT id, price, stock FROM product WHERE sku = ?", [sku]);
        const stock = Number(row.stock);
        if (stock < quantity) {
          await connection.rollback();
          return "out-of-stock";
        }
        const left = stock - quantity; // computed in JS from a read that nothing locks: the bug
        await connection.query("UPDATE product SET stock = ? WHERE id = ?", [left, row.id]);
        await connection.query("INSERT INTO orders (id, product_id, sku, quantity, unit_price, stock_after) VALUES (?, ?, ?, ?, ?, ?)", [
          ulid(),
          row.id,
          sku,
          quantity,
          row.price,
          left,
        ]);
      }
      await connection.commit();
      return "confirmed";
    } catch (error) {
      await connection.rollback().catch(() => {});
      throw error;
    } finally {
      connection.release();
    }
  }

  async function worker() {
    while (more()) {
      issued++;
      const sku = skus[next++ % skus.length];
      const t0 = performance.now();
      try {
        const outcome = await once(sku);
        if (outcome === "confirmed") run.confirmed++;
        else run.outOfStock++;
      } catch (error) {
        run.errors++;
        if (run.errorSamples.length < 3) run.errorSamples.push((error as Error).message);
      }
      latencies.push(performance.now() - t0);
      run.attempts++;
    }
  }

  await Promise.all(Array.from({ length: workers }, worker));
  run.seconds = (performance.now() - started) / 1000;
  run.latency = summarize(latencies);
  await pool.end();
  return run;
}
