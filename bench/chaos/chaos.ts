import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@donut-states/core/drizzle";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import * as Factory from "@donut-states/core/factory";
import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { factoryCaller, factoryQueue } from "@donut-states/core/topology";
import { peekMessages, queueDepth } from "@donut-states/core/util/sqs";
import { type MailboxEntry, readMailbox } from "@donut-states/emulators/mail";
import { FREE_PORTS } from "@donut-states/local/config";
import { startPrivateMariadb, withDatabase } from "@donut-states/local/mysql";
import { type OfflineStack, startOfflineStack } from "@donut-states/local/stack";
import { isNull, sql } from "drizzle-orm";
import mysql from "mysql2/promise";
import { answersMatchOrders, checkConservation, readStockLedger } from "../lib/invariants";
import { startLoadGenerator } from "../lib/load-client";
import { type BreakerExpectations, type BreakerFacts, checkBreakerInvariants } from "./breaker-invariants";
import {
  describePlan,
  type FactoryFault,
  type FactoryFaultPlan,
  factoryOptionsFor,
  injectOutage,
  planFactoryFaults,
  planRandomSalt,
} from "./factory-faults";

export interface ChaosOptions {
  /** How long orders keep coming. */
  durationMs: number;
  ordersPerSecond: number;
  products: number;
  initialStock: number;
  restockQuantity: number;
  /** How long to wait after the load for every restock request to settle. */
  drainTimeoutMs: number;
  /** Seed of the factory's chaos dice, so a run's sequence of failures can be replayed. */
  seed: number;
  /** A failed request must be e-mailed (by the watchdog, naming it) within this long. */
  failedAlertWithinMs: number;
  /** How long after the drain to wait for the e-mails the checks look for. */
  mailTimeoutMs: number;
  /** Factory faults added to the mix (factory-faults.ts); none by default. */
  factoryFaults: readonly FactoryFault[];
  /** Also check the circuit breaker's invariants (breaker-invariants.ts): off until the factory caller has one. */
  breakerInvariants: boolean;
  log: (line: string) => void;
}

export const DEFAULT_CHAOS: ChaosOptions = {
  durationMs: 60_000,
  ordersPerSecond: 150,
  products: 6,
  initialStock: 40,
  restockQuantity: 40,
  drainTimeoutMs: 120_000,
  seed: 20261127,
  failedAlertWithinMs: 60_000,
  mailTimeoutMs: 60_000,
  factoryFaults: [],
  breakerInvariants: false,
  log: () => {},
};

/** Offline clock of the chaos run: fast relay and watchdog, so their promises can be checked in seconds. */
const CHAOS_CLOCK = {
  visibilityTimeoutSeconds: 2,
  relayIntervalMs: 1000,
  watchdogIntervalMs: 1000,
  /** A pending request untouched this long is stuck: well past a database restart and several visibility timeouts. */
  pendingSeconds: 20,
  /** The factory is fast here: a request without callback for a minute is overdue. */
  slaSeconds: 60,
  factoryTimeoutMs: 600,
  /** The factory's production time (its callback's delay), unless late answers set their own. */
  productionMs: 300,
} as const;

/**
 * What the breaker invariants hold the factory caller to on this clock. They name settings the
 * caller does not have yet (docs/design.md will list them); the values are what this run would
 * give it: a budget far past the outage, a probe per visibility timeout, and a grace of the
 * production time plus a margin.
 */
function breakerExpectations(productionMs: number): BreakerExpectations {
  return {
    deliveryBudgetMs: 120_000,
    openAfterFailures: 5,
    callsInFlight: factoryCaller.batchSize * factoryCaller.maxConcurrency,
    probeIntervalMs: CHAOS_CLOCK.visibilityTimeoutSeconds * 1000,
    callbackGraceMs: productionMs + 2000,
    mailWithinMs: 30_000,
    unreachableSubject: /^Factory unreachable/,
    backSubject: /^Factory back/,
  };
}

/** mulberry32: a tiny, well-known seeded PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface InvariantResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, "log">;
  timeline: Array<{ atMs: number; event: string }>;
  responses: Record<string, number>;
  unexpected5xx: Array<{ atMs: number; status: number }>;
  restock: Record<string, number>;
  factory: {
    requests: Record<string, number>;
    callbacks: number;
    duplicateAcceptances: number;
    lateAnswers: number;
    outages: Array<{ mode: string; seconds: number }>;
  };
  /** The factory faults added to the mix, as planned from the seed. */
  factoryFaults: FactoryFaultPlan;
  invariants: InvariantResult[];
  ok: boolean;
}

/**
 * Sustained orders over several products while everything that can go wrong does: the factory
 * fails 30 % and hangs 10 % of calls and calls back twice; the SQS poller is killed mid-batch;
 * the event bus is down for a few seconds; the database restarts. Then the invariants of
 * docs/design.md §4 are checked against the database, the queues and the mailbox.
 */
export async function runChaos(partial: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const options = { ...DEFAULT_CHAOS, ...partial };
  const { log } = options;
  const started = Date.now();
  const timeline: ChaosReport["timeline"] = [];
  const mark = (event: string) => {
    timeline.push({ atMs: Date.now() - started, event });
    log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${event}`);
  };

  // A private MariaDB, because this run restarts it.
  const workDir = await mkdtemp(path.join(os.tmpdir(), "donut-chaos-"));
  const dataDir = path.join(workDir, "mysql");
  let server = await startPrivateMariadb({ dataDir, log });
  const port = Number(new URL(server.serverUrl).port);
  const admin = await mysql.createConnection({ uri: server.serverUrl });
  await admin.query("CREATE DATABASE chaos CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
  await admin.end();
  const databaseUrl = withDatabase(server.serverUrl, "chaos");
  await migrateDatabase(databaseUrl);
  const inspector = createClient(databaseUrl, 2);
  const db = inspector.db;

  const skus = Array.from({ length: options.products }, (_, index) => `CHAOS-${String(index + 1).padStart(2, "0")}`);
  const plan = planFactoryFaults(options.factoryFaults, {
    skus,
    clock: {
      durationMs: options.durationMs,
      visibilityTimeoutSeconds: CHAOS_CLOCK.visibilityTimeoutSeconds,
      maxReceiveCount: factoryQueue.maxReceiveCount,
      factoryTimeoutMs: CHAOS_CLOCK.factoryTimeoutMs,
    },
    random: seededRandom(planRandomSalt(options.seed)),
  });
  await db.insert(Factory.factoryTable).values({ id: "FF-500293", name: "부산도너츠 공장", managerEmail: "factory@chaos.local" });
  await db.insert(Product.productTable).values(
    skus.map((sku) => ({
      sku,
      name: sku,
      price: 1000,
      stock: options.initialStock,
      factoryId: "FF-500293",
      restockQuantity: options.restockQuantity,
    })),
  );

  let stack: OfflineStack | undefined;
  let stopGenerator = () => {};
  try {
    stack = await startOfflineStack(
      {
        databaseUrl,
        ...FREE_PORTS,
        LOCAL_DIR: workDir,
        SEED_DEMO_DATA: "false",
        ALERT_EMAILS: ["ops@chaos.local"],
        QUEUE_VISIBILITY_TIMEOUT_SECONDS: CHAOS_CLOCK.visibilityTimeoutSeconds,
        FACTORY_TIMEOUT_MS: CHAOS_CLOCK.factoryTimeoutMs,
        OUTBOX_RELAY_INTERVAL_MS: CHAOS_CLOCK.relayIntervalMs,
        WATCHDOG_INTERVAL_MS: CHAOS_CLOCK.watchdogIntervalMs,
        RESTOCK_SLA_SECONDS: CHAOS_CLOCK.slaSeconds,
        RESTOCK_PENDING_SECONDS: CHAOS_CLOCK.pendingSeconds,
        ALARM_INTERVAL_MS: 500,
        factoryOptions: {
          port: 0,
          delayMs: CHAOS_CLOCK.productionMs,
          failureRate: 0.3,
          timeoutRate: 0.1,
          hangMs: 1500,
          callback: "twice",
          // Callbacks that meet the database restart get 503: the factory retries (up to ~50 s).
          callbackRetries: 9,
          random: seededRandom(options.seed),
          ...factoryOptionsFor(plan),
          onOutage: (outage) =>
            mark(
              outage.endedAt
                ? `factory back after ${((Date.parse(outage.endedAt) - Date.parse(outage.startedAt)) / 1000).toFixed(1)}s`
                : `factory DOWN (${outage.mode === "refuse" ? "connections refused" : "503 to every call"}) until ${outage.endsAt}`,
            ),
        },
      },
      (line) => {
        if (line.includes("[mail]") || line.includes("[alarm]")) log(line);
      },
    );
    const running = stack;
    mark(
      `offline stack up: ${skus.length} products x ${options.initialStock} units, ${options.ordersPerSecond} orders/s for ${options.durationMs / 1000}s, seed ${options.seed}`,
    );
    for (const line of describePlan(plan)) mark(line);

    // Load: the bench's generator (autocannon in a child process, off the stack's event loop) at a
    // fixed rate; a fixed amount, not a duration, so it waits for every answer and each committed
    // order can be matched to a 201. SKUs rotate, quantities cycle 2, 3, 1.
    const generator = await startLoadGenerator();
    stopGenerator = () => generator.stop();
    const load = generator.run({
      url: running.apiUrl,
      connections: 16,
      duration: 0,
      amount: Math.round((options.ordersPerSecond * options.durationMs) / 1000),
      overallRate: options.ordersPerSecond,
      timeoutSeconds: 15,
      skus,
      quantities: [2, 3, 1],
    });

    // The faults, spread over the run.
    const outage = injectOutage(plan, running.factory!, { loadStarted: Date.now(), sleep });
    const at = (fraction: number) => sleep(options.durationMs * fraction);
    let dbDownFrom = Number.POSITIVE_INFINITY;
    let dbDownUntil = Number.NEGATIVE_INFINITY;
    const faults = (async () => {
      await at(0.2);
      await running.restartPoller({ kill: true });
      mark("SQS poller killed mid-batch and restarted");
      await at(0.15);
      running.eventBridge.setAvailable(false);
      mark("event bus DOWN");
      await sleep(3000);
      running.eventBridge.setAvailable(true);
      mark("event bus back");
      await at(0.15);
      dbDownFrom = Date.now() - started;
      mark("database restarting");
      await server.stop();
      server = await startPrivateMariadb({ dataDir, port, log });
      dbDownUntil = Date.now() - started;
      mark(`database back after ${((dbDownUntil - dbDownFrom) / 1000).toFixed(1)}s`);
    })();

    const loadResult = await load;
    await faults;
    await outage;
    const responses = loadResult.statuses;
    const fiveHundreds = loadResult.serverErrors.map((error) => ({ ...error, atMs: error.atMs + loadResult.startedAtEpochMs - started }));
    mark(`load done: ${loadResult.requests} requests, ${loadResult.errors} connection errors, ${loadResult.timeouts} timeouts`);

    // Drain: settled means what the invariants mean, checked at the source, not a proxy for it.
    const drained = await drain(db, running, options.drainTimeoutMs);
    mark(
      drained.ok
        ? "drained: factory queue empty, every request fulfilled, failed with its message in the DLQ, or e-mailed as overdue"
        : `drain timed out: ${drained.detail}`,
    );
    // The mails the checks need: the DLQ alarm's, and the watchdog's for each failed request.
    await waitForMail(running, db, options.mailTimeoutMs);
    mark("mail settled");

    const report = await checkInvariants({
      db,
      pool: inspector.pool,
      stack: running,
      skus,
      options,
      responses,
      fiveHundreds,
      dbWindow: { from: dbDownFrom, until: dbDownUntil + 5000 },
      started,
      plan,
    });
    report.timeline = [...timeline, ...report.timeline].sort((a, b) => a.atMs - b.atMs);
    return report;
  } finally {
    stopGenerator();
    await stack?.stop();
    await inspector.pool.end();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function checkInvariants({
  db,
  pool,
  stack,
  options,
  responses,
  fiveHundreds,
  dbWindow,
  started,
  plan,
}: {
  started: number;
  plan: FactoryFaultPlan;
  db: ReturnType<typeof createClient>["db"];
  pool: ReturnType<typeof createClient>["pool"];
  stack: OfflineStack;
  skus: string[];
  options: ChaosOptions;
  responses: Record<string, number>;
  fiveHundreds: Array<{ atMs: number; status: number }>;
  dbWindow: { from: number; until: number };
}): Promise<ChaosReport> {
  const invariants: InvariantResult[] = [];
  const check = (name: string, ok: boolean, detail: string) => invariants.push({ name, ok, detail });

  const requests = await db.select().from(Restock.restockRequestTable);
  const products = await db.select().from(Product.productTable);

  // 1. No oversell, and each factory production run's stock added exactly once (the bench's
  // conservation check, with restocks). A request is credited once per attempt whose callback
  // arrived (restock_attempt.credited_at): a second production run after a lost answer really
  // adds its units, and is counted as such.
  const creditedAttempts = await db
    .select({ restockId: Restock.restockAttemptTable.restockId, n: sql<string>`count(*)` })
    .from(Restock.restockAttemptTable)
    .where(sql`${Restock.restockAttemptTable.creditedAt} IS NOT NULL`)
    .groupBy(Restock.restockAttemptTable.restockId);
  const creditsOf = (r: (typeof requests)[number]) =>
    Math.max(Number(creditedAttempts.find((row) => row.restockId === r.id)?.n ?? 0), r.status === "fulfilled" ? 1 : 0);
  const restockedUnits = (sku: string) => requests.filter((r) => r.sku === sku).reduce((sum, r) => sum + r.quantity * creditsOf(r), 0);
  const ledger = await readStockLedger(pool);
  const conservation = checkConservation(ledger, () => options.initialStock, restockedUnits);
  const extraRuns = requests.filter((r) => creditsOf(r) > 1);
  check(
    "no oversell: confirmed + stock = initial + restocked (each credited production run applied once)",
    conservation.ok,
    conservation.lines.join("; ") +
      (extraRuns.length
        ? `; NOTE ${extraRuns.length} request(s) credited a second production run: ${extraRuns.map((r) => r.id).join(", ")}`
        : ""),
  );
  const creditedUnfulfilled = requests.filter((r) => r.status !== "fulfilled" && creditsOf(r) > 0);
  check(
    "a request credited with stock is fulfilled",
    creditedUnfulfilled.length === 0,
    `${creditedUnfulfilled.length} credited but not fulfilled${creditedUnfulfilled.length ? `: ${creditedUnfulfilled.map((r) => `${r.id}:${r.status}`).join(", ")}` : ""}`,
  );
  // A 201 is always a committed order. The converse has one honest exception: a connection lost
  // while committing (database restart) leaves the outcome unknown; the client got a 503 that
  // says so and retries with its Idempotency-Key. So: 201s <= orders <= 201s + 503s.
  const confirmed = Number(responses["201"] ?? 0);
  const unavailable = Number(responses["503"] ?? 0);
  check(
    "every 201 is a committed order; any other order met a 503 'outcome unknown'",
    answersMatchOrders({ confirmed, orders: conservation.orders, slack: unavailable }),
    `${confirmed} x 201, ${conservation.orders} order rows, ${unavailable} x 503`,
  );

  // 2. At most one open request per product.
  const openPerProduct = new Map<string, number>();
  for (const r of requests)
    if ((Restock.OPEN_RESTOCK_STATUSES as readonly string[]).includes(r.status))
      openPerProduct.set(r.sku, (openPerProduct.get(r.sku) ?? 0) + 1);
  check(
    "at most one open restock request per product",
    [...openPerProduct.values()].every((n) => n <= 1),
    JSON.stringify(Object.fromEntries(openPerProduct)),
  );

  // 3. Nothing lost: fulfilled, or failed with its message in the DLQ and an alert e-mail. A
  // request whose last delivery met the database restart could not record its failure: the
  // watchdog finds its message in the DLQ and marks it failed, so no exception is made for it.
  const failed = requests.filter((r) => r.status === "failed");
  const dlqRestockIds = await peekDlqRestockIds(stack);
  const mails = await readMailbox(stack.mailDir!);
  // A factory call whose answer was lost (its caller killed mid-call, or a hung factory) is
  // waited for, not repeated: the request stays `requested` until the callback or the SLA, and
  // past the SLA the watchdog e-mails it by id with the re-request command. Alerted, not lost.
  const overdueAlerted = requests.filter(
    (r) =>
      r.status === "requested" &&
      r.requestedAt &&
      Date.now() - r.requestedAt.getTime() > CHAOS_CLOCK.slaSeconds * 1000 &&
      mailNaming(mails, r.id),
  );
  const unsettled = requests.filter(
    (r) => r.status === "pending" || (r.status === "requested" && !dlqRestockIds.has(r.id) && !overdueAlerted.includes(r)),
  );
  const alarmMails = mails.filter((mail) => mail.subject.startsWith("ALARM:"));
  check(
    "every restock request settled: fulfilled, failed with its message in the DLQ, or e-mailed as overdue",
    unsettled.length === 0,
    `${unsettled.length} still open: ${unsettled.map((r) => `${r.id}:${r.status}${dlqRestockIds.has(r.id) ? " (its message in the DLQ)" : ""}`).join(", ") || "none"}` +
      (overdueAlerted.length
        ? `; NOTE ${overdueAlerted.length} requested past the SLA, e-mailed as overdue: ${overdueAlerted.map((r) => r.id).join(", ")}`
        : ""),
  );
  check(
    "every failed request is in the DLQ",
    failed.every((r) => dlqRestockIds.has(r.id)),
    `${failed.length} failed, DLQ holds ${dlqRestockIds.size} message(s) for ${[...dlqRestockIds].join(", ") || "none"}`,
  );
  check(
    "an alert e-mail was sent if anything reached the DLQ",
    dlqRestockIds.size === 0 || alarmMails.length >= 1,
    `${alarmMails.length} ALARM e-mail(s)`,
  );

  const queued = await queueDepth(stack.aws.sqs, stack.topology.factoryQueueUrl);
  check(
    "the factory queue is empty (visible, in flight and delayed)",
    queued.visible + queued.inFlight + queued.delayed === 0,
    `${queued.visible} visible, ${queued.inFlight} in flight, ${queued.delayed} delayed`,
  );

  // 3b. Operations hear about each failed request, by name, within the minute.
  const late = failed.filter(
    (request) => !mailNaming(mails, request.id, (request.failedAt ?? request.updatedAt).getTime() + options.failedAlertWithinMs),
  );
  check(
    `every failed request e-mailed (named, with its fix) within ${options.failedAlertWithinMs / 1000} s`,
    late.length === 0,
    `${failed.length} failed, ${late.length} not e-mailed in time${late.length ? `: ${late.map((r) => r.id).join(", ")}` : ""}`,
  );
  const soldOutUncovered = products.filter(
    (product) =>
      product.stock === 0 &&
      !requests.some((r) => r.productId === product.id && (Restock.OPEN_RESTOCK_STATUSES as readonly string[]).includes(r.status)),
  );
  check(
    "no product at 0 without an open restock request",
    soldOutUncovered.length === 0,
    `${products.filter((p) => p.stock === 0).length} product(s) at 0${soldOutUncovered.length ? `, uncovered: ${soldOutUncovered.map((p) => p.sku).join(", ")}` : ""}`,
  );
  // Past its SLA: pending untouched past the stuck threshold, requested past the callback SLA.
  const now = Date.now();
  const pastSla = requests.filter(
    (r) =>
      (r.status === "pending" && now - r.updatedAt.getTime() > CHAOS_CLOCK.pendingSeconds * 1000 + CHAOS_CLOCK.watchdogIntervalMs * 2) ||
      (r.status === "requested" &&
        r.requestedAt &&
        now - r.requestedAt.getTime() > CHAOS_CLOCK.slaSeconds * 1000 + CHAOS_CLOCK.watchdogIntervalMs * 2),
  );
  const unalerted = [
    ...pastSla.filter((r) => !mailNaming(mails, r.id)).map((r) => `${r.id}:${r.status}`),
    ...soldOutUncovered.filter((p) => !mailNaming(mails, p.sku)).map((p) => `${p.sku}:sold out`),
  ];
  check(
    "nothing stuck past its SLA unalerted",
    unalerted.length === 0,
    `${pastSla.length} request(s) past SLA, ${unalerted.length} unalerted${unalerted.length ? `: ${unalerted.join(", ")}` : ""}`,
  );

  // 4. No unpublished outbox rows.
  const unpublished = await db.select().from(Outbox.outboxTable).where(isNull(Outbox.outboxTable.publishedAt));
  check("no unpublished outbox rows", unpublished.length === 0, `${unpublished.length} unpublished`);

  // 5. No 5xx except 503 while the database restarted.
  const unexpected = fiveHundreds.filter((r) => r.status !== 503 || r.atMs < dbWindow.from || r.atMs > dbWindow.until);
  check(
    "no 5xx except 503 during the database restart",
    unexpected.length === 0,
    `${fiveHundreds.length} x 5xx (${fiveHundreds.filter((r) => r.status === 503).length} x 503), ${unexpected.length} outside the restart window`,
  );

  const factory = stack.factory!;
  // 6. The circuit breaker's, on request.
  if (options.breakerInvariants) {
    const attempts = await db
      .select({ restockId: Restock.restockAttemptTable.restockId, sentAt: Restock.restockAttemptTable.sentAt })
      .from(Restock.restockAttemptTable);
    const productionMs = plan.lateAnswers?.productionMs ?? CHAOS_CLOCK.productionMs;
    const facts: BreakerFacts = {
      outages: factory.outages,
      requests: requests.map((r) => ({
        id: r.id,
        sku: r.sku,
        status: r.status,
        createdAtMs: r.createdAt.getTime(),
        lastError: r.lastError,
      })),
      attempts: attempts.map((attempt) => ({ restockId: attempt.restockId, sentAtMs: attempt.sentAt.getTime() })),
      deadLettered: dlqRestockIds,
      factoryLog: factory.requests,
      rejectedSkus: plan.rejectedSkus,
      productionMs,
      mails: mails.map((mail) => ({ subject: mail.subject, atMs: mail.date.getTime() })),
    };
    for (const result of checkBreakerInvariants(facts, breakerExpectations(productionMs)))
      check(`breaker: ${result.name}`, result.ok, result.detail);
  }

  // The factory's view: how often it was asked, and whether any restock was accepted twice (the
  // production runs per request: our callback URLs name the request in the path).
  const seen = factory.summary();
  const outcomes = Object.fromEntries(Object.entries(seen.byOutcome).filter(([, n]) => n > 0));
  const restock: Record<string, number> = {};
  for (const r of requests) restock[r.status] = (restock[r.status] ?? 0) + 1;

  // The settled facts, for the run's timeline.
  const facts: ChaosReport["timeline"] = [
    ...failed.map((r) => ({
      atMs: (r.failedAt ?? r.updatedAt).getTime() - started,
      event: `restock ${r.id} (${r.sku}) failed after ${r.attempts} call(s)`,
    })),
    ...mails.map((mail) => ({ atMs: mail.date.getTime() - started, event: `mail to ${mail.to.join(",")}: ${mail.subject}` })),
  ];
  return {
    options: { ...options, log: undefined } as unknown as ChaosReport["options"],
    timeline: facts,
    responses,
    unexpected5xx: unexpected,
    restock,
    factory: {
      requests: outcomes,
      callbacks: factory.callbacks.length,
      duplicateAcceptances: Object.values(seen.productionRuns).filter((n) => n > 1).length,
      lateAnswers: seen.lateAnswers,
      outages: factory.outages.map((outage) => ({
        mode: outage.mode,
        seconds: ((outage.endedAt ? Date.parse(outage.endedAt) : Date.now()) - Date.parse(outage.startedAt)) / 1000,
      })),
    },
    factoryFaults: plan,
    invariants,
    ok: invariants.every((invariant) => invariant.ok),
  };
}

/** Restock ids of the messages in the DLQ, read without consuming them. */
async function peekDlqRestockIds(stack: OfflineStack): Promise<Set<string>> {
  const messages = await peekMessages(stack.aws.sqs, stack.topology.dlqUrl, { max: 1000, waitSeconds: 0 });
  return new Set(messages.map((message) => message.restockId ?? "unparseable"));
}

/** A mail that names `text` (a restock id or a SKU), sent by `byMs` if given. */
function mailNaming(mails: MailboxEntry[], text: string, byMs = Number.POSITIVE_INFINITY): MailboxEntry | undefined {
  return mails.find((mail) => mail.text.includes(text) && mail.date.getTime() <= byMs);
}

type ChaosDb = ReturnType<typeof createClient>["db"];

/**
 * Wait until the run has settled on the truth: no request pending or requested, no event
 * unpublished, the factory queue empty (visible, in flight and delayed), and every failed
 * request's message in the DLQ, and every request still waiting for the factory's callback named
 * in an overdue mail. SQS moves a message to the DLQ only on the receive after its last
 * visibility timeout, so a `failed` row alone is not yet settled.
 */
async function drain(db: ChaosDb, stack: OfflineStack, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timeoutMs;
  let detail = "";
  for (;;) {
    const requests = await db
      .select({ id: Restock.restockRequestTable.id, status: Restock.restockRequestTable.status })
      .from(Restock.restockRequestTable);
    const waiting = requests.filter((r) => r.status === "requested");
    const mails = waiting.length ? await readMailbox(stack.mailDir!) : [];
    const [unpublished] = await db
      .select({ n: sql<number>`count(*)` })
      .from(Outbox.outboxTable)
      .where(isNull(Outbox.outboxTable.publishedAt));
    const queue = await queueDepth(stack.aws.sqs, stack.topology.factoryQueueUrl);
    const queued = queue.visible + queue.inFlight + queue.delayed;
    const failed = requests.filter((r) => r.status === "failed");
    const inDlq = failed.length ? await peekDlqRestockIds(stack) : new Set<string>();
    // A pending request whose message is already in the DLQ is still open: the watchdog marks it
    // failed once it counts as stuck (CHAOS_CLOCK.pendingSeconds).
    // A requested one whose factory call lost its answer waits for a callback that may never come:
    // it is settled once the watchdog's overdue mail names it (the checks require that mail).
    const open = requests.filter(
      (r) =>
        r.status === "pending" ||
        (r.status === "requested" && !mails.some((mail) => mail.subject.startsWith("Restock overdue") && mail.text.includes(r.id))),
    );
    const notInDlq = failed.filter((r) => !inDlq.has(r.id));
    detail = `${open.length} open request(s), ${unpublished.n} unpublished event(s), ${queued} message(s) in the factory queue, ${notInDlq.length} failed request(s) not in the DLQ`;
    if (open.length === 0 && Number(unpublished.n) === 0 && queued === 0 && notInDlq.length === 0) return { ok: true, detail };
    if (Date.now() > deadline) return { ok: false, detail };
    await sleep(500);
  }
}

/**
 * Poll the mailbox (with a deadline, not a fixed sleep) until the mails the checks look for
 * arrived: an ALARM mail if the DLQ holds anything, and a mail naming each failed request.
 */
async function waitForMail(stack: OfflineStack, db: ChaosDb, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const failed = (
    await db.select({ id: Restock.restockRequestTable.id, status: Restock.restockRequestTable.status }).from(Restock.restockRequestTable)
  ).filter((r) => r.status === "failed");
  const dlq = await queueDepth(stack.aws.sqs, stack.topology.dlqUrl);
  const dlqNonEmpty = dlq.visible + dlq.inFlight > 0;
  if (dlqNonEmpty) await stack.alarm.evaluateNow();
  while (Date.now() < deadline) {
    const mails = await readMailbox(stack.mailDir!);
    const alarmOk = !dlqNonEmpty || mails.some((mail) => mail.subject.startsWith("ALARM:"));
    if (alarmOk && failed.every((r) => mailNaming(mails, r.id))) return;
    await sleep(250);
  }
}
