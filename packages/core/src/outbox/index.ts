export * as Outbox from "./index";

import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { and, asc, inArray, isNull, sql } from "drizzle-orm";
import type { z } from "zod";
import type { EventDefinition } from "../event";
import { type Transaction, afterCommit, transaction } from "../drizzle";
import { requiredEnv } from "../util/config";
import { newId } from "../util/id";
import { logger } from "../util/log";
import { MetricName, count, milliseconds } from "../util/metrics";
import { outboxTable } from "./outbox.sql";

export { outboxTable };

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX_ENTRIES = 10;

let eventBridge: EventBridgeClient | undefined;
function useEventBridge(): EventBridgeClient {
  // The endpoint comes from the SDK's standard configuration (AWS_ENDPOINT_URL_EVENTBRIDGE
  // offline). Short timeouts: a slow bus must not hold a customer's response; the relay retries.
  eventBridge ??= new EventBridgeClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
  });
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
export function prepare<Schema extends z.ZodType>(event: EventDefinition<string, Schema>, detail: z.input<Schema>): PreparedEvent {
  return { id: newId(), source: event.source, detailType: event.type, detail: JSON.stringify(event.schema.parse(detail)) };
}

/**
 * Record an event in the same transaction as the change that caused it, and publish it right
 * after that transaction commits. Returns the outbox row id.
 */
export async function enqueue<Schema extends z.ZodType>(
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
 * Publish one committed row now. Best effort: if this fails (bus down, crash) the row stays
 * unpublished and the relay sends it.
 */
export async function publishSoon(id: string): Promise<void> {
  await publishPending({ ids: [id] }).catch((error) => logger.warn("outbox publish failed; the relay will retry", { outboxId: id, error }));
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
 */
export async function publishPending({ ids, limit = 100 }: { ids?: string[]; limit?: number } = {}): Promise<PublishReport> {
  const report: PublishReport = { published: 0, failed: 0, errors: [] };
  const busName = requiredEnv("EVENT_BUS_NAME");
  await transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outboxTable)
      .where(and(isNull(outboxTable.publishedAt), ids ? inArray(outboxTable.id, ids) : undefined))
      .orderBy(asc(outboxTable.createdAt), asc(outboxTable.id))
      .limit(limit)
      .for("update", { skipLocked: true });

    for (let start = 0; start < rows.length; start += PUT_EVENTS_MAX_ENTRIES) {
      const chunk = rows.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
      const entries: PutEventsRequestEntry[] = chunk.map((row) => ({
        EventBusName: busName,
        Source: row.source,
        DetailType: row.detailType,
        Detail: row.detail,
        Time: row.createdAt,
      }));
      let results: Array<{ ok: boolean; error?: string }>;
      try {
        const response = await useEventBridge().send(new PutEventsCommand({ Entries: entries }));
        // Entries[i] answers entries[i]; a failed entry has an ErrorCode instead of an EventId.
        results = chunk.map((_, index) => {
          const entry = response.Entries?.[index];
          return entry?.EventId && !entry.ErrorCode
            ? { ok: true }
            : { ok: false, error: `${entry?.ErrorCode ?? "NoEntry"}: ${entry?.ErrorMessage ?? "no result for this entry"}` };
        });
      } catch (error) {
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        results = chunk.map(() => ({ ok: false, error: message }));
      }

      const now = new Date();
      const publishedIds = chunk.filter((_, index) => results[index].ok).map((row) => row.id);
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
        report.errors.push(`${row.id}: ${result.error}`);
        logger.warn("event not published yet; it stays in the outbox", { outboxId: row.id, error: result.error, ...correlation(row.detail) });
      }
      for (const row of chunk.filter((_, index) => results[index].ok)) {
        milliseconds(MetricName.OutboxLag, now.getTime() - row.createdAt.getTime());
        logger.info("event published", { outboxId: row.id, detailType: row.detailType, ...correlation(row.detail) });
      }
      count(MetricName.OutboxPublished, publishedIds.length);
      count(MetricName.OutboxPublishFailures, chunk.length - publishedIds.length);
      report.published += publishedIds.length;
      report.failed += chunk.length - publishedIds.length;
    }
  });
  if (report.failed) logger.info("outbox publish", { ...report });
  return report;
}

/** Unpublished rows, oldest first (for the ops CLI and the invariants checks). */
export async function pending(db: Transaction | import("../drizzle").Database, limit = 100) {
  return db.select().from(outboxTable).where(isNull(outboxTable.publishedAt)).orderBy(asc(outboxTable.createdAt)).limit(limit);
}
