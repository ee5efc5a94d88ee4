import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { and, asc, count as countRows, eq, inArray, isNull, min, notInArray, sql } from "drizzle-orm";
import { afterCommit, type Executor, query, type Transaction, transaction } from "../drizzle";
import type { EventDefinition } from "../event";
import { awsClientConfig } from "../util/aws";
import { intEnv, requiredEnv } from "../util/config";
import { newId } from "../util/id";
import { logger } from "../util/log";
import { count, MetricName, milliseconds } from "../util/metrics";
import type * as z from "../util/zod";
import { outboxTable } from "./outbox.sql";

export { outboxTable };

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * How long a request waits for its own after-commit publish. Past it the call is aborted and the
 * answer goes out anyway: the row is committed, and the relay publishes it.
 */
export const DEFAULT_PUBLISH_BUDGET_MS = 1_000;

let eventBridge: EventBridgeClient | undefined;
function useEventBridge(): EventBridgeClient {
  // The endpoint comes from the SDK's standard configuration (AWS_ENDPOINT_URL_EVENTBRIDGE offline).
  eventBridge ??= new EventBridgeClient(awsClientConfig());
  return eventBridge;
}

/** An event as its outbox row: a fresh id, and the detail validated against the event's schema. */
export interface PreparedEvent {
  id: string;
  source: string;
  detailType: string;
  detail: string;
}

/**
 * Build an event's outbox row without writing it. `enqueue` writes it through drizzle; the order
 * path passes it to its one-round-trip procedure. Validates the detail against the event's
 * schema, so a malformed event can never be committed either way.
 */
export function prepare<Schema extends z.ZodMiniType>(event: EventDefinition<string, Schema>, detail: z.input<Schema>): PreparedEvent {
  return { id: newId(), source: event.source, detailType: event.type, detail: JSON.stringify(event.schema.parse(detail)) };
}

/**
 * Record an event in the same transaction as the change that caused it, and publish it right
 * after that transaction commits. Returns the outbox row id.
 */
export async function enqueue<Schema extends z.ZodMiniType>(
  tx: Transaction,
  event: EventDefinition<string, Schema>,
  detail: z.input<Schema>,
): Promise<string> {
  const row = prepare(event, detail);
  await tx.insert(outboxTable).values(row);
  await afterCommit(() => publishSoon(row.id));
  return row.id;
}

/**
 * Publish one committed row now. Best effort, bounded: a bus that is down, slow or silent must
 * not hold a committed change's answer (a confirmed order would otherwise reach its client as a
 * timeout). Whatever is not published within the budget stays in the outbox; the relay sends it.
 */
export async function publishSoon(id: string): Promise<void> {
  const budgetMs = intEnv("OUTBOX_PUBLISH_BUDGET_MS", DEFAULT_PUBLISH_BUDGET_MS, { min: 10, max: 60_000 });
  try {
    await publishPending({ ids: [id], abortSignal: AbortSignal.timeout(budgetMs) });
  } catch (error) {
    logger.warn("outbox publish failed; the relay will retry", { outboxId: id, error });
  }
}

/** restockId / sku of an event's detail, so its log lines join the rest of that restock's. */
function correlation(detail: string): { restockId?: string; sku?: string } {
  try {
    const { restockId, sku } = JSON.parse(detail) as { restockId?: string; sku?: string };
    return { restockId, sku };
  } catch {
    return {};
  }
}

export interface PublishReport {
  published: number;
  failed: number;
  errors: string[];
}

/**
 * Publish unpublished outbox rows (all of them, or just `ids`) to the event bus and mark the
 * ones EventBridge accepted. Rows are claimed with FOR UPDATE SKIP LOCKED, so the after-commit
 * publisher and any number of relays never send the same row at the same time. A row whose
 * entry failed (FailedEntryCount > 0) or whose call threw stays unpublished, with the error
 * and attempt count recorded, for the next run.
 *
 * One transaction per PutEvents call (10 rows): progress is committed chunk by chunk, so a call
 * that hangs, or a relay killed by its timeout, loses at most one chunk's bookkeeping instead of
 * rolling back every row already sent (which the next run would send again). A call that throws
 * (bus down, silent, or `abortSignal` fired) ends the run: the remaining rows wait for the next.
 */
export async function publishPending({
  ids,
  limit = 100,
  abortSignal,
}: {
  ids?: string[];
  limit?: number;
  abortSignal?: AbortSignal;
} = {}): Promise<PublishReport> {
  const report: PublishReport = { published: 0, failed: 0, errors: [] };
  const busName = requiredEnv("EVENT_BUS_NAME");
  const seen: string[] = [];
  while (seen.length < limit) {
    const chunk = await transaction((tx) =>
      publishChunk(tx, { busName, ids, seen, size: Math.min(PUT_EVENTS_MAX_ENTRIES, limit - seen.length), abortSignal }),
    );
    if (!chunk) break;
    seen.push(...chunk.ids);
    report.published += chunk.published;
    report.failed += chunk.failed;
    report.errors.push(...chunk.errors);
    if (chunk.callFailed) break;
  }
  if (report.failed) logger.info("outbox publish", { ...report });
  return report;
}

/** Claim, send and mark up to `size` rows not `seen` in this run, in the caller's transaction. */
async function publishChunk(
  tx: Transaction,
  { busName, ids, seen, size, abortSignal }: { busName: string; ids?: string[]; seen: string[]; size: number; abortSignal?: AbortSignal },
) {
  const chunk = await tx
    .select()
    .from(outboxTable)
    .where(
      and(
        isNull(outboxTable.publishedAt),
        ids ? inArray(outboxTable.id, ids) : undefined,
        seen.length ? notInArray(outboxTable.id, seen) : undefined,
      ),
    )
    .orderBy(asc(outboxTable.createdAt), asc(outboxTable.id))
    .limit(size)
    .for("update", { skipLocked: true });
  if (chunk.length === 0) return undefined;

  const entries: PutEventsRequestEntry[] = chunk.map((row) => ({
    EventBusName: busName,
    Source: row.source,
    DetailType: row.detailType,
    Detail: row.detail,
    Time: row.createdAt,
  }));
  let results: Array<{ ok: boolean; error?: string }>;
  let callFailed = false;
  try {
    const response = await useEventBridge().send(new PutEventsCommand({ Entries: entries }), { abortSignal });
    // Entries[i] answers entries[i]; a failed entry has an ErrorCode instead of an EventId.
    results = chunk.map((_, index) => {
      const entry = response.Entries?.[index];
      return entry?.EventId && !entry.ErrorCode
        ? { ok: true }
        : { ok: false, error: `${entry?.ErrorCode ?? "NoEntry"}: ${entry?.ErrorMessage ?? "no result for this entry"}` };
    });
  } catch (error) {
    callFailed = true;
    const message = `${(error as Error).name}: ${(error as Error).message}`;
    results = chunk.map(() => ({ ok: false, error: message }));
  }

  const now = new Date();
  const publishedIds = chunk.filter((_, index) => results[index].ok).map((row) => row.id);
  const errors: string[] = [];
  if (publishedIds.length) {
    await tx
      .update(outboxTable)
      .set({ publishedAt: now, attempts: sql`${outboxTable.attempts} + 1`, lastError: null })
      .where(inArray(outboxTable.id, publishedIds));
  }
  for (const [index, row] of chunk.entries()) {
    const result = results[index];
    if (result.ok) continue;
    await tx
      .update(outboxTable)
      .set({ attempts: sql`${outboxTable.attempts} + 1`, lastError: (result.error ?? "unknown").slice(0, 1000) })
      .where(inArray(outboxTable.id, [row.id]));
    errors.push(`${row.id}: ${result.error}`);
    logger.warn("event not published yet; it stays in the outbox", { outboxId: row.id, error: result.error, ...correlation(row.detail) });
  }
  await afterCommit(() => {
    for (const row of chunk.filter((_, index) => results[index].ok)) {
      milliseconds(MetricName.OutboxLag, now.getTime() - row.createdAt.getTime());
      logger.info("event published", { outboxId: row.id, detailType: row.detailType, ...correlation(row.detail) });
    }
    count(MetricName.OutboxPublished, publishedIds.length);
    count(MetricName.OutboxPublishFailures, chunk.length - publishedIds.length);
  });
  return {
    ids: chunk.map((row) => row.id),
    published: publishedIds.length,
    failed: chunk.length - publishedIds.length,
    errors,
    callFailed,
  };
}

/** Unpublished rows, oldest first (for the invariants checks). */
export async function pending(db: Executor, limit = 100) {
  return db.select().from(outboxTable).where(isNull(outboxTable.publishedAt)).orderBy(asc(outboxTable.createdAt)).limit(limit);
}

/** Whether an outbox row has reached the event bus. */
export async function isPublished(id: string): Promise<boolean> {
  const [row] = await query((db) => db.select({ publishedAt: outboxTable.publishedAt }).from(outboxTable).where(eq(outboxTable.id, id)));
  return Boolean(row?.publishedAt);
}

/** An unpublished event as operators see it: what it is about, how old, how often tried, the last error. */
export interface PendingEvent {
  id: string;
  detailType: string;
  restockId?: string;
  sku?: string;
  createdAt: Date;
  attempts: number;
  lastError: string | null;
}

export interface OutboxSummary {
  /** Events committed but not yet on the bus. */
  pending: number;
  oldestPendingAt: Date | null;
  /** The oldest `limit` of them. */
  events: PendingEvent[];
}

/** What the outbox holds that the bus has not taken yet: the count, the oldest, and the first rows. */
export async function summary({ limit = 100, executor }: { limit?: number; executor?: Executor } = {}): Promise<OutboxSummary> {
  return query(async (db) => {
    const target = executor ?? db;
    const [[totals], rows] = await Promise.all([
      target
        .select({ n: countRows(), oldest: min(outboxTable.createdAt) })
        .from(outboxTable)
        .where(isNull(outboxTable.publishedAt)),
      pending(target, limit),
    ]);
    return {
      pending: Number(totals?.n ?? 0),
      oldestPendingAt: totals?.oldest ? new Date(totals.oldest) : null,
      events: rows.map((row) => ({
        id: row.id,
        detailType: row.detailType,
        ...correlation(row.detail),
        createdAt: row.createdAt,
        attempts: row.attempts,
        lastError: row.lastError,
      })),
    };
  });
}
