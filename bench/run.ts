/**
 * `npm run bench`: measure POST /orders through the offline stack on this machine, against three
 * baselines measured in the same run on the same database server at the same concurrency:
 *   raw    - the conditional transaction as 4 statements (BEGIN, UPDATE, INSERT, COMMIT), no HTTP;
 *   raw1rt - the same work as one multi-statement text: one round trip, the limit of one hot row;
 *   naive  - the read-then-write design old implementations used (and how much it oversells).
 * Then the restock latency: stock-out -> the legacy factory receiving POST /api/manufactures.
 * Prints tables and writes bench/results/<timestamp>.json. See bench/README.md.
 *
 * Knobs (environment): BENCH_DURATION (seconds per measurement, default 5),
 * BENCH_CONNECTIONS (default "16,64,256"), BENCH_SCENARIOS (default "hot,spread,stockout"),
 * BENCH_RESTOCK_SAMPLES (default 100), BENCH_OVERSELL (stock,attempts; default "1000,5000"),
 * BENCH_KEEP_DB=1 (keep the bench database for inspection), BENCH_DESIGNS (default
 * "ours,raw,raw1rt,naive"), BENCH_DB_RTT_MS (default "0,1": the hot scenario again at 64
 * connections through a TCP proxy adding that many ms to every database round trip, for every
 * design), BENCH_REFERENCE=1 (also write bench/results/reference.json, which README.md quotes).
 */

import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { FREE_PORTS } from "@donut-states/local/config";
import mysql from "mysql2/promise";
import { databaseCpu, machineCpu, processCpu, processCpuMicros } from "./lib/cpu";
import {
  checkInvariants,
  createDatabase,
  type InvariantReport,
  type ProductSeed,
  resetProducts,
  runSqlWorkers,
  type SqlDesign,
  type SqlRun,
} from "./lib/database";
import { type DbLink, openDbLink } from "./lib/db-link";
import { answersMatchOrders } from "./lib/invariants";
import { startLoadGenerator } from "./lib/load-client";
import { profiled } from "./lib/profile";
import { fmt, type LatencySummary, summarize, table } from "./lib/stats";

// Before the handlers load: Powertools reads the level once, at logger construction.
process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
// EMF metric lines on stdout: off, as in the offline stack by default (set it to "false" to measure their cost).
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
const { startOfflineStack } = await import("@donut-states/local/stack");
const { ensureMysqlServer } = await import("@donut-states/local/mysql");
const { migrateDatabase } = await import("@donut-states/core/drizzle/migrate");

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? "16,64,256").split(",").map(Number);
const SCENARIO_NAMES = (process.env.BENCH_SCENARIOS ?? "hot,spread,stockout").split(",");
const RESTOCK_SAMPLES = Number(process.env.BENCH_RESTOCK_SAMPLES ?? 100);
const [OVERSELL_STOCK, OVERSELL_ATTEMPTS] = (process.env.BENCH_OVERSELL ?? "1000,5000").split(",").map(Number);
const KEEP_DB = process.env.BENCH_KEEP_DB === "1";
const DESIGNS = (process.env.BENCH_DESIGNS ?? "ours,raw,raw1rt,naive").split(",") as Design[];
const RTTS_MS = (process.env.BENCH_DB_RTT_MS ?? "0,1").split(",").map(Number);
/** Concurrency of the runs with added round-trip time. */
const RTT_CONNECTIONS = 64;
const SAVE_REFERENCE = process.env.BENCH_REFERENCE === "1";

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Scenario {
  key: string;
  label: string;
  products: ProductSeed[];
  /** The SKUs requests rotate through. */
  skus: string[];
}

const SCENARIOS: Scenario[] = [
  {
    key: "hot",
    label: "a: one hot SKU",
    products: [{ sku: "HOT-1", stock: 50_000_000 }],
    skus: ["HOT-1"],
  },
  {
    key: "spread",
    label: "b: 100 SKUs",
    products: Array.from({ length: 100 }, (_, i) => ({ sku: `SPREAD-${String(i).padStart(3, "0")}`, stock: 5_000_000 })),
    skus: Array.from({ length: 100 }, (_, i) => `SPREAD-${String(i).padStart(3, "0")}`),
  },
  {
    key: "stockout",
    label: "c: stock-out spike",
    products: [{ sku: "GONE-1", stock: 0 }],
    skus: ["GONE-1"],
  },
].filter((scenario) => SCENARIO_NAMES.includes(scenario.key));

type Design = "ours" | SqlDesign;

interface Measurement {
  scenario: string;
  connections: number;
  /** Added to every database round trip by the proxy (0: direct). */
  rttMs: number;
  design: Design;
  /** DB connections the design had (the API's pool for "ours"). */
  dbConnections: number;
  seconds: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  okPerSecond: number;
  perSecond: number;
  latency: LatencySummary;
  invariant: InvariantReport;
  /** CPU in % of one core (200% = both cores here): this process (the API, or the SQL driver), the database server, the load generator. */
  cpu: { self: number; db?: number; loadGenerator?: number; machine?: number };
  /** CPU of this process per request, µs: the API's for ours, the driver's for the SQL designs. */
  cpuMicrosPerRequest: number;
  /** Database round trips per request, counted by the proxy (runs with added RTT only). */
  roundTripsPerRequest?: number;
  /** For "ours": orders committed after autocannon stopped the clock (their answers were not counted). */
  inFlightAtStop?: number;
  /** For "ours": order rows - 201 answers is between 0 and the number of connections. */
  answersMatchRows?: boolean;
}

// ---------------------------------------------------------------------------------------------

/** Wait until the API has finished what was in flight when the load generator stopped (the order count is stable for 300 ms). */
async function drain(admin: mysql.Connection): Promise<number> {
  const orders = async () => Number((await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM orders"))[0][0].n);
  const first = await orders();
  let last = first;
  let stableSince = Date.now();
  const deadline = Date.now() + 15_000;
  while (Date.now() - stableSince < 300 && Date.now() < deadline) {
    await sleep(50);
    const now = await orders();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
  return last - first;
}

async function machineInfo(admin: mysql.Connection) {
  const [[version]] = await admin.query<mysql.RowDataPacket[]>("SELECT VERSION() AS version");
  const [variables] = await admin.query<mysql.RowDataPacket[]>(
    "SHOW VARIABLES WHERE Variable_name IN ('innodb_flush_log_at_trx_commit', 'sync_binlog', 'log_bin', 'max_connections', 'innodb_buffer_pool_size', 'transaction_isolation', 'tx_isolation')",
  );
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const lscpu = execSync("lscpu", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    cpuModel = /Model name:\s*(.+)/.exec(lscpu)?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    cpu: cpuModel,
    cores: os.cpus().length,
    ramGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage1mAtStart: Number(os.loadavg()[0].toFixed(2)),
    db: String(version.version),
    dbSettings: Object.fromEntries(variables.map((row) => [row.Variable_name, row.Value])),
  };
}

/**
 * Round trips per request from the proxy's command count. A baseline's pool opens its
 * connections inside the count: each sends its session SET, a warm-up SELECT 1 and, at the
 * end, COM_QUIT (3 commands that are not per order).
 */
function roundTrips(before: number | undefined, after: number | undefined, requests: number, poolConnections = 0): number | undefined {
  if (before === undefined || after === undefined || requests === 0) return undefined;
  return (after - before - 3 * poolConnections) / requests;
}

// ---------------------------------------------------------------------------------------------

/** Undo, in reverse order, everything the run started (also when it fails half-way). */
const cleanups: Array<() => Promise<unknown> | unknown> = [];
async function cleanUp() {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error: Error) => log(`cleanup: ${error.message}`));
  cleanups.length = 0;
}

async function main() {
  const started = Date.now();
  const server = await ensureMysqlServer({ log });
  cleanups.push(() => server.stop());
  const database = await createDatabase(server.serverUrl);
  cleanups.push(() => (KEEP_DB ? log(`kept database ${database.name}`) : database.drop()));
  log(`database ${database.name} on ${new URL(server.serverUrl).host} (${server.source})`);
  await migrateDatabase(database.url);
  const admin = await mysql.createConnection({ uri: database.url, multipleStatements: false });
  cleanups.push(() => admin.end());
  const machine = await machineInfo(admin);
  const [[connected]] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST");
  const maxConnections = Number(machine.dbSettings.max_connections ?? 151);

  const localDir = await mkdtemp(path.join(os.tmpdir(), "donut-bench-"));
  cleanups.push(() => rm(localDir, { recursive: true, force: true }));
  const stack = await startOfflineStack(
    {
      databaseUrl: database.url,
      ...FREE_PORTS,
      LOCAL_DIR: localDir,
      SEED_DEMO_DATA: "false",
      FACTORY_CALLBACK_SECRET: "bench-callback-secret-0123456789",
      RESTOCK_SLA_SECONDS: 3600,
      // The factory never calls back during the throughput runs: stock only goes down, so the
      // invariant is simply confirmed + stock = initial, and "all 409" stays all 409.
      factoryOptions: { port: 0, delayMs: 50, callback: "never", failureRate: 0, timeoutRate: 0 },
    },
    (line) => {
      if (/error|fail/i.test(line) && !/\[factory\]/.test(line)) log(`stack: ${line}`);
    },
  );
  cleanups.push(() => stack.stop());
  const apiPool = Number(process.env.DATABASE_POOL_SIZE ?? 32);
  // Baselines get one DB connection per worker, up to what the server has room for.
  const sqlPoolCap = Math.max(8, Math.min(256, maxConnections - Number(connected.n) - apiPool - 16));
  log(`offline stack at ${stack.apiUrl}; API pool ${apiPool} connections; baseline pools up to ${sqlPoolCap}`);

  const load = await startLoadGenerator();
  cleanups.push(() => load.stop());
  const measurements: Measurement[] = [];
  const oversell: Measurement[] = [];

  const seed = async (products: ProductSeed[]) => {
    const rows = await resetProducts(admin, products);
    await sleep(300); // let the previous run's connections and timers settle
    return rows;
  };

  /**
   * CPU the node process burns with no request at all (the offline stack's poller, timers and
   * emulators share it with the API), in µs per second: subtracted from every design's per-request
   * CPU, so "µs cpu/req" is the work a request causes.
   */
  async function idleCpuMicrosPerSecond(): Promise<number> {
    await sleep(500);
    const [micros, t0] = [processCpuMicros(), performance.now()];
    await sleep(2000);
    return micros() / ((performance.now() - t0) / 1000);
  }
  let idleMicrosPerSecond = 0;
  const perRequest = (micros: number, seconds: number, requests: number) =>
    Math.max(0, micros - idleMicrosPerSecond * seconds) / Math.max(1, requests);

  const direct: DbLink = { rttMs: 0, url: database.url, commands: async () => undefined, stop: () => {} };

  async function measureOurs(scenario: Scenario, connections: number, amount?: number, link: DbLink = direct): Promise<Measurement> {
    const initial = new Map(scenario.products.map((product) => [product.sku, product.stock]));
    await seed(scenario.products);
    const commandsBefore = await link.commands();
    const [selfCpu, selfMicros, dbCpu, boxCpu, t0] = [
      processCpu(),
      processCpuMicros(),
      databaseCpu(),
      machineCpu(os.cpus().length),
      performance.now(),
    ];
    const result = await profiled(
      process.env.BENCH_PROFILE,
      `${scenario.key}-${connections}-rtt${link.rttMs}${amount ? `-n${amount}` : ""}`,
      () => load.run({ url: stack.apiUrl, connections, duration: DURATION_S, amount, skus: scenario.skus, quantities: [1] }),
      log,
    );
    const cpu = { self: selfCpu(), db: dbCpu(), loadGenerator: result.cpu, machine: boxCpu() };
    const micros = selfMicros();
    const elapsed = (performance.now() - t0) / 1000;
    // autocannon stops on the clock with requests in flight; the API finishes them anyway.
    await stack.apiIdle();
    await drain(admin);
    const invariant = await checkInvariants(admin, initial);
    const inFlight = invariant.orders - result.ok;
    const commandsAfter = await link.commands();
    return {
      scenario: scenario.key,
      connections,
      rttMs: link.rttMs,
      design: "ours",
      dbConnections: apiPool,
      seconds: result.seconds,
      requests: result.requests,
      ok: result.ok,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      statuses: result.statuses,
      okPerSecond: result.ok / result.seconds,
      perSecond: result.requests / result.seconds,
      latency: result.latency,
      invariant,
      cpu,
      cpuMicrosPerRequest: perRequest(micros, elapsed, result.requests),
      roundTripsPerRequest: roundTrips(commandsBefore, commandsAfter, invariant.orders + result.non2xx),
      inFlightAtStop: inFlight,
      // Every 201 is a row; the only rows without a counted 201 are the <= `connections` in flight at the stop.
      answersMatchRows: answersMatchOrders({ confirmed: result.ok, orders: invariant.orders, slack: connections }),
    };
  }

  async function measureSql(
    design: SqlDesign,
    scenario: Scenario,
    connections: number,
    amount?: number,
    link: DbLink = direct,
  ): Promise<Measurement> {
    const initial = new Map(scenario.products.map((product) => [product.sku, product.stock]));
    const products = await seed(scenario.products);
    const poolSize = Math.min(connections, sqlPoolCap);
    const commandsBefore = await link.commands();
    const [selfCpu, selfMicros, dbCpu, boxCpu, t0] = [
      processCpu(),
      processCpuMicros(),
      databaseCpu(),
      machineCpu(os.cpus().length),
      performance.now(),
    ];
    const run: SqlRun = await runSqlWorkers({
      url: link.url,
      design,
      workers: connections,
      poolSize,
      durationMs: DURATION_S * 1000,
      amount,
      skus: scenario.skus,
      products,
      quantity: 1,
    });
    const cpu = { self: selfCpu(), db: dbCpu(), machine: boxCpu() };
    const micros = selfMicros();
    const elapsed = (performance.now() - t0) / 1000;
    const commandsAfter = await link.commands();
    if (run.errors) log(`  ${design}: ${run.errors} error(s), e.g. ${run.errorSamples[0]}`);
    const invariant = await checkInvariants(admin, initial);
    return {
      scenario: scenario.key,
      connections,
      rttMs: link.rttMs,
      design,
      dbConnections: poolSize,
      seconds: run.seconds,
      requests: run.attempts,
      ok: run.confirmed,
      non2xx: run.outOfStock,
      errors: run.errors,
      statuses: { confirmed: run.confirmed, "out-of-stock": run.outOfStock },
      okPerSecond: run.confirmed / run.seconds,
      perSecond: run.attempts / run.seconds,
      latency: run.latency,
      invariant,
      cpu,
      cpuMicrosPerRequest: perRequest(micros, elapsed, run.attempts),
      // Each worker's pool connection runs one session SET when it opens; that is not per order.
      roundTripsPerRequest: roundTrips(commandsBefore, commandsAfter, run.attempts, poolSize),
    };
  }

  const describe = (m: Measurement) =>
    `${m.design.padEnd(6)} ${fmt.int(m.okPerSecond).padStart(6)} ok/s ${fmt.int(m.perSecond).padStart(6)} req/s  p50 ${fmt.ms(m.latency.p50)} p99 ${fmt.ms(m.latency.p99)} ms  ${fmt.int(m.cpuMicrosPerRequest)} µs cpu/req` +
    `${m.roundTripsPerRequest === undefined ? "" : `  ${m.roundTripsPerRequest.toFixed(2)} round trips/req`}  oversold ${m.invariant.oversold}`;
  const measure = (design: Design, scenario: Scenario, connections: number, amount?: number, link: DbLink = direct) =>
    design === "ours" ? measureOurs(scenario, connections, amount, link) : measureSql(design, scenario, connections, amount, link);

  // 1. Warm-up (JIT, pools, sockets): discarded. Then the stack's own CPU with no requests.
  log("warm-up (discarded)");
  await measureOurs({ ...SCENARIOS[0], key: "warmup" }, 64, 5_000);
  idleMicrosPerSecond = await idleCpuMicrosPerSecond();
  log(`idle: the node process uses ${fmt.int(idleMicrosPerSecond / 10_000)}% of a core with no requests (subtracted from µs cpu/req)`);

  // 2. Throughput: every scenario x concurrency, ours then the baselines, DB reset before each.
  for (const scenario of SCENARIOS) {
    for (const connections of CONNECTIONS) {
      log(`${scenario.label} @ ${connections}`);
      for (const design of DESIGNS) {
        const m = await measure(design, scenario, connections);
        measurements.push(m);
        log(`  ${describe(m)}`);
      }
    }
  }

  // 2b. The hot SKU again with network latency between every design and the database.
  const hot = SCENARIOS.find((scenario) => scenario.key === "hot");
  for (const rttMs of RTTS_MS.filter((ms) => ms > 0 && hot)) {
    const link = await openDbLink(database.url, rttMs);
    const apiUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = link.url; // the API follows DATABASE_URL: a new pool through the proxy
    try {
      log(`${hot!.label}, +${rttMs} ms per database round trip @ ${RTT_CONNECTIONS}`);
      await measureOurs({ ...hot!, key: "warmup" }, RTT_CONNECTIONS, 2_000, link);
      for (const design of DESIGNS) {
        const m = await measure(design, hot!, RTT_CONNECTIONS, undefined, link);
        measurements.push(m);
        log(`  ${describe(m)}`);
      }
    } finally {
      process.env.DATABASE_URL = apiUrl;
      link.stop();
    }
  }

  // 3. Oversell: stock smaller than the demand, a fixed number of attempts.
  const oversellScenario: Scenario = {
    key: "oversell",
    label: "oversell",
    products: [{ sku: "SCARCE-1", stock: OVERSELL_STOCK }],
    skus: ["SCARCE-1"],
  };
  for (const connections of CONNECTIONS) {
    log(`oversell: stock ${OVERSELL_STOCK}, ${OVERSELL_ATTEMPTS} attempts @ ${connections}`);
    for (const design of DESIGNS) {
      const m = await measure(design, oversellScenario, connections, OVERSELL_ATTEMPTS);
      oversell.push(m);
      log(`  ${describe(m)}  confirmed ${m.invariant.confirmedUnits}  restock requests ${m.invariant.restockRequests}`);
    }
  }

  // 4. Restock latency: N products with stock 1; each takes one order to run out.
  log(`restock latency: ${RESTOCK_SAMPLES} stock-outs`);
  const restock = await measureRestock(stack, admin, RESTOCK_SAMPLES);

  // 5. Report.
  const report = buildReport({
    machine,
    apiPool,
    sqlPoolCap,
    measurements,
    oversell,
    restock,
    started,
    database: database.name,
    source: server.source,
    idleMicrosPerSecond,
  });
  process.stdout.write(`${report.text}\n`);
  const resultsDir = path.join(HERE, "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report.json, null, 2)}\n`);
  if (SAVE_REFERENCE) writeFileSync(path.join(resultsDir, "reference.json"), `${JSON.stringify(report.json, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), file)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  return report.failed ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------

interface RestockSample {
  sku: string;
  /** Sending the order that took the last unit (its transaction opens the restock request) -> factory receipt. */
  fromStockOutMs: number;
  /** The first 409 answer received -> factory receipt (negative: the factory had it before anyone was refused). */
  fromFirst409Ms: number;
}

async function measureRestock(stack: Awaited<ReturnType<typeof startOfflineStack>>, admin: mysql.Connection, samples: number) {
  const skus = Array.from({ length: samples }, (_, i) => `RESTOCK-${String(i).padStart(3, "0")}`);
  await resetProducts(
    admin,
    skus.map((sku) => ({ sku, stock: 1, restockQuantity: 50 })),
  );
  const factory = stack.factory!;
  factory.clearLogs();
  await sleep(300);
  const order = async (sku: string) => {
    const response = await fetch(`${stack.apiUrl}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku, quantity: 1 }),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const receivedFor = (sku: string) =>
    factory.requests.find(
      (request) => (request.body as { MessageAttributeProductId?: string } | undefined)?.MessageAttributeProductId === sku,
    );

  const results: RestockSample[] = [];
  const problems: string[] = [];
  for (const sku of skus) {
    const stockOut = Date.now();
    const first = await order(sku);
    const second = await order(sku);
    const refusedAt = Date.now();
    if (first !== 201 || second !== 409) {
      problems.push(`${sku}: expected 201 then 409, got ${first} then ${second}`);
      continue;
    }
    const deadline = Date.now() + 15_000;
    let received = receivedFor(sku);
    while (!received && Date.now() < deadline) {
      await sleep(2);
      received = receivedFor(sku);
    }
    if (!received) {
      problems.push(`${sku}: the factory never received a request within 15 s`);
      continue;
    }
    const at = Date.parse(received.receivedAt);
    results.push({ sku, fromStockOutMs: at - stockOut, fromFirst409Ms: at - refusedAt });
  }
  await sleep(1000); // a duplicate delivery would show up by now
  const callsPerSku = skus.map(
    (sku) =>
      factory.requests.filter((request) => (request.body as { MessageAttributeProductId?: string })?.MessageAttributeProductId === sku)
        .length,
  );
  const [[open]] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM restock_request");
  return {
    samples: results.length,
    fromStockOut: summarize(results.map((r) => r.fromStockOutMs)),
    fromFirst409: summarize(results.map((r) => r.fromFirst409Ms)),
    minFromFirst409: Math.min(...results.map((r) => r.fromFirst409Ms)),
    beforeFirst409: results.filter((r) => r.fromFirst409Ms <= 0).length,
    factoryCallsPerStockOut: { max: Math.max(...callsPerSku), total: callsPerSku.reduce((a, b) => a + b, 0) },
    restockRequests: Number(open.n),
    problems,
    raw: results,
  };
}

// ---------------------------------------------------------------------------------------------

function buildReport({
  machine,
  apiPool,
  sqlPoolCap,
  measurements,
  oversell,
  restock,
  started,
  database,
  source,
  idleMicrosPerSecond,
}: {
  machine: Awaited<ReturnType<typeof machineInfo>>;
  apiPool: number;
  sqlPoolCap: number;
  measurements: Measurement[];
  oversell: Measurement[];
  restock: Awaited<ReturnType<typeof measureRestock>>;
  started: number;
  database: string;
  source: string;
  idleMicrosPerSecond: number;
}) {
  const label = (key: string) => SCENARIOS.find((s) => s.key === key)?.label ?? key;
  const labelOf = (m: Measurement) => `${label(m.scenario)}${m.rttMs ? `, +${m.rttMs} ms/RT` : ""}`;
  const same = (a: Measurement, b: Measurement) => a.scenario === b.scenario && a.connections === b.connections && a.rttMs === b.rttMs;
  const baseline = (m: Measurement, design: Design) => measurements.find((x) => x.design === design && same(x, m));
  const lines: string[] = [];
  const ours = measurements.filter((m) => m.design === "ours");
  const failures: string[] = [];

  lines.push("", `Donut-States bench, ${new Date(started).toISOString()}`);
  lines.push(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.platform}, node ${machine.node}; load average at start ${machine.loadAverage1mAtStart}`,
    `database: ${machine.db} (${source}); innodb_flush_log_at_trx_commit=${machine.dbSettings.innodb_flush_log_at_trx_commit}, sync_binlog=${machine.dbSettings.sync_binlog}, log_bin=${machine.dbSettings.log_bin}, max_connections=${machine.dbSettings.max_connections}`,
    `method: ${DURATION_S} s per measurement, POST /orders quantity 1; "ours" = autocannon (child process) -> offline stack (API pool ${apiPool} DB connections);`,
    `        "raw" (4 statements) / "raw1rt" (one multi-statement text) / "naive" = the same number of concurrent workers on a mysql2 pool (one connection per worker, at most ${sqlPoolCap}), no HTTP;`,
    `        "+N ms/RT" = every design reaches MariaDB through a TCP proxy that adds N ms to each round trip (and counts them).`,
    "",
  );

  const rows = measurements.map((m, index) => {
    const first = index === 0 || !same(measurements[index - 1], m);
    const newScenario = index === 0 || labelOf(measurements[index - 1]) !== labelOf(m);
    return [
      newScenario ? labelOf(m) : "",
      first ? m.connections : "",
      m.design,
      m.dbConnections,
      fmt.int(m.okPerSecond),
      fmt.int(m.perSecond),
      fmt.ms(m.latency.p50),
      fmt.ms(m.latency.p99),
      fmt.ms(m.latency.max),
      fmt.int(m.ok),
      fmt.int(m.non2xx),
      fmt.int(m.errors),
      m.invariant.ok ? "0" : `${m.invariant.oversold} (drift ${m.invariant.drift})`,
      fmt.int(m.cpuMicrosPerRequest),
      m.roundTripsPerRequest === undefined ? "-" : m.roundTripsPerRequest.toFixed(2),
      [m.cpu.self, m.cpu.db ?? "-", m.cpu.loadGenerator ?? "-", m.cpu.machine ?? "-"].join("/"),
    ];
  });
  lines.push(
    table(
      [
        "scenario",
        "conns",
        "design",
        "db conns",
        "2xx/s",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "2xx",
        "non-2xx",
        "errors",
        "oversold",
        "µs cpu/req",
        "RT/req",
        "cpu% node/db/gen/box",
      ],
      rows,
      { alignLeft: 3 },
    ),
    "  2xx = 201 confirmed orders (raw/naive: committed order transactions); non-2xx = 409 OUT_OF_STOCK (raw/naive: rolled back, no stock).",
    `  oversold = confirmed units beyond the initial stock; drift = |confirmed + stock - initial| (lost updates). µs cpu/req = CPU of the node process per request, less its idle ${fmt.int(idleMicrosPerSecond / 1000)} ms/s;`,
    "  RT/req = database round trips per request (counted by the proxy, +N ms/RT runs only). cpu% of one core (200% = the whole box):",
    `  node = the bench process (the API for ours; the mysql2 driver for raw/naive), db = mariadbd, gen = the autocannon child, box = the whole machine (max ${machine.cores * 100}; box - node - db - gen = other work).`,
    "",
  );

  const ratioRows: Array<Array<string | number>> = [];
  for (const m of ours) {
    const raw = baseline(m, "raw");
    const raw1rt = baseline(m, "raw1rt");
    const naive = baseline(m, "naive");
    ratioRows.push([
      labelOf(m),
      m.connections,
      fmt.ratio(m.perSecond / (raw?.perSecond ?? Number.NaN)),
      fmt.ratio(m.perSecond / (raw1rt?.perSecond ?? Number.NaN)),
      fmt.ratio(m.perSecond / (naive?.perSecond ?? Number.NaN)),
      fmt.ratio(m.latency.p99 / (raw?.latency.p99 ?? Number.NaN)),
      m.invariant.ok ? "ok" : "VIOLATED",
      m.answersMatchRows ? `ok (+${m.inFlightAtStop} in flight)` : "MISMATCH",
    ]);
    if (!m.invariant.ok) failures.push(`${m.scenario}@${m.connections}: invariant violated (${JSON.stringify(m.invariant)})`);
    if (!m.answersMatchRows)
      failures.push(
        `${m.scenario}@${m.connections}: ${m.ok} answers 201 but ${m.invariant.orders} order rows (more than the connections in flight)`,
      );
    if (m.errors > 0) failures.push(`${m.scenario}@${m.connections}: ${m.errors} HTTP errors/timeouts`);
    const stockout = m.scenario === "stockout";
    if (stockout && (m.ok !== 0 || m.invariant.restockRequests !== 1))
      failures.push(`stockout@${m.connections}: expected all 409 and one restock request`);
  }
  lines.push(
    table(
      [
        "scenario",
        "conns",
        "ours/raw req/s",
        "ours/raw1rt req/s",
        "ours/naive req/s",
        "ours/raw p99",
        "ours: stock+sold=initial",
        "201s vs order rows",
      ],
      ratioRows,
      { alignLeft: 1 },
    ),
    "",
  );

  const targets = evaluateTargets(measurements);
  lines.push(
    "targets (same run):",
    table(
      ["target", "measured", "wanted", "met"],
      targets.map((t) => [
        t.name,
        t.value === undefined ? "-" : t.unit === "x" ? fmt.ratio(t.value) : `${fmt.int(t.value)} ${t.unit}`,
        `${t.atLeast ? ">=" : "<="} ${t.unit === "x" ? fmt.ratio(t.wanted) : `${t.wanted} ${t.unit}`}`,
        t.met ? "yes" : "NO",
      ]),
      { alignLeft: 1 },
    ),
    p99Floor(measurements),
    "",
  );

  const oversellRows = oversell.map((m, index) => [
    index % DESIGNS.length === 0 ? m.connections : "",
    m.design,
    fmt.int(m.requests),
    fmt.int(m.invariant.confirmedUnits),
    fmt.int(m.invariant.finalStock),
    fmt.int(m.invariant.oversold),
    fmt.int(m.invariant.drift),
    m.design === "ours" ? m.invariant.restockRequests : "-",
  ]);
  for (const m of oversell.filter((x) => x.design === "ours")) {
    if (!m.invariant.ok || m.invariant.confirmedUnits !== OVERSELL_STOCK || m.invariant.restockRequests !== 1)
      failures.push(`oversell@${m.connections}: ${JSON.stringify(m.invariant)}`);
  }
  lines.push(
    `oversell: initial stock ${OVERSELL_STOCK}, ${OVERSELL_ATTEMPTS} order attempts of 1 unit`,
    table(["conns", "design", "attempts", "confirmed units", "final stock", "oversold", "drift", "restock requests"], oversellRows, {
      alignLeft: 2,
    }),
    "  (oversold = confirmed units - initial stock; drift = |confirmed + final stock - initial|, units created by lost updates)",
    "",
  );

  lines.push(
    `restock latency over ${restock.samples} stock-outs, one after another (stock 1 each; the factory simulator's receipt time, 1 ms resolution)`,
    table(
      ["from", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"],
      [
        [
          "order that emptied the shelf (sent)",
          restock.fromStockOut.count,
          fmt.ms(restock.fromStockOut.p50),
          fmt.ms(restock.fromStockOut.p90),
          fmt.ms(restock.fromStockOut.p99),
          fmt.ms(restock.fromStockOut.max),
        ],
        [
          "first 409 (answer received)",
          restock.fromFirst409.count,
          fmt.ms(restock.fromFirst409.p50),
          fmt.ms(restock.fromFirst409.p90),
          fmt.ms(restock.fromFirst409.p99),
          fmt.ms(restock.fromFirst409.max),
        ],
      ],
    ),
    `  factory calls per stock-out: max ${restock.factoryCallsPerStockOut.max}, total ${restock.factoryCallsPerStockOut.total} for ${restock.samples}; restock requests ${restock.restockRequests};` +
      ` ${restock.beforeFirst409} of ${restock.samples} reached the factory before the first 409 was answered (min ${restock.minFromFirst409} ms)`,
  );
  if (restock.problems.length) failures.push(...restock.problems);
  if (restock.factoryCallsPerStockOut.max > 1) failures.push("a stock-out reached the factory more than once");

  lines.push("", `load average (1 min): ${machine.loadAverage1mAtStart} at start, ${os.loadavg()[0].toFixed(2)} at the end`);
  lines.push(
    failures.length
      ? `FAILED CHECKS:\n  ${failures.join("\n  ")}`
      : "all invariant checks passed (ours: 0 oversold, 201s = order rows, one restock request and one factory call per stock-out)",
  );

  const json = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    database,
    settings: {
      idleCpuMicrosPerSecond: Math.round(idleMicrosPerSecond),
      durationPerMeasurementS: DURATION_S,
      connections: CONNECTIONS,
      designs: DESIGNS,
      rttMs: RTTS_MS,
      rttConnections: RTT_CONNECTIONS,
      apiPool,
      sqlPoolCap,
      oversell: { stock: OVERSELL_STOCK, attempts: OVERSELL_ATTEMPTS },
      restockSamples: RESTOCK_SAMPLES,
    },
    machine,
    throughput: measurements,
    ratios: ours.map((m) => {
      const ratio = (design: Design) => {
        const other = baseline(m, design);
        return other ? m.perSecond / other.perSecond : null;
      };
      const raw = baseline(m, "raw");
      return {
        scenario: m.scenario,
        connections: m.connections,
        rttMs: m.rttMs,
        oursOverRaw: ratio("raw"),
        oursOverRaw1rt: ratio("raw1rt"),
        oursOverNaive: ratio("naive"),
        p99OursOverRaw: raw ? m.latency.p99 / raw.latency.p99 : null,
      };
    }),
    targets,
    oversell,
    restock,
    failures,
  };
  return { text: lines.join("\n"), json, failed: failures.length > 0 };
}

interface Target {
  name: string;
  value: number | undefined;
  wanted: number;
  unit: "x" | "ms" | "µs";
  atLeast: boolean;
  met: boolean;
}

/**
 * The p99 goal is absolute, so it also measures the machine: the same run's raw one-round-trip
 * p99 (nothing on this box does one hot row faster) says what the machine allowed.
 */
function p99Floor(measurements: Measurement[]): string {
  const at = (design: Design) =>
    measurements.find((m) => m.design === design && m.scenario === "hot" && m.rttMs === 0 && m.connections === 64);
  const ours = at("ours");
  const floor = at("raw1rt");
  if (!ours || !floor) return "";
  return `hot SKU @64 p99: ours ${fmt.ms(ours.latency.p99)} ms, raw one-round-trip ${fmt.ms(floor.latency.p99)} ms in this run (${fmt.ratio(ours.latency.p99 / floor.latency.p99)}): the machine's floor for this tail`;
}

/** The hot-path goals, from this run only (ratios within one run: the machine is shared). */
function evaluateTargets(measurements: Measurement[]): Target[] {
  const find = (design: Design, scenario: string, rttMs = 0, connections = 64) =>
    measurements.find((m) => m.design === design && m.scenario === scenario && m.rttMs === rttMs && m.connections === connections);
  const ratio = (scenario: string, other: Design, rttMs = 0) => {
    const ours = find("ours", scenario, rttMs);
    const base = find(other, scenario, rttMs);
    return ours && base ? ours.perSecond / base.perSecond : undefined;
  };
  const target = (name: string, value: number | undefined, wanted: number, unit: Target["unit"], atLeast: boolean): Target => ({
    name,
    value,
    wanted,
    unit,
    atLeast,
    met: value !== undefined && (atLeast ? value >= wanted : value <= wanted),
  });
  const rtt = RTTS_MS.find((ms) => ms > 0) ?? 1;
  return [
    target("hot SKU @64: ours / raw 4-statement", ratio("hot", "raw"), 1.0, "x", true),
    target("hot SKU @64: ours / raw one-round-trip", ratio("hot", "raw1rt"), 0.6, "x", true),
    target("hot SKU @64: ours p99", find("ours", "hot")?.latency.p99, 50, "ms", false),
    target(`hot SKU @64, +${rtt} ms/RT: ours / raw 4-statement`, ratio("hot", "raw", rtt), 3.0, "x", true),
    target("sell-out @64: ours / raw refusals/s", ratio("stockout", "raw"), 0.5, "x", true),
    target("CPU per 201 (hot SKU @64, API process)", find("ours", "hot")?.cpuMicrosPerRequest, 500, "µs", false),
    target("CPU per 409 (sell-out @64, API process)", find("ours", "stockout")?.cpuMicrosPerRequest, 300, "µs", false),
  ];
}

// Exit explicitly once cleaned up: nothing (a pool, a timer, the child) may keep the bench alive.
main()
  .catch((error) => {
    console.error(error);
    return 2;
  })
  .then(async (code) => {
    await cleanUp();
    process.exit(code);
  });
