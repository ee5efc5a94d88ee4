import { eq, getTableColumns, sql } from "drizzle-orm";
import { afterCommit, transaction } from "../drizzle";
import { Events } from "../event";
import * as Outbox from "../outbox";
import { NotFoundError } from "../util/error";
import { logger } from "../util/log";
import { count, MetricName } from "../util/metrics";
import { type RestockStatus, restockRequestTable } from "./restock.sql";

export interface MarkFailedResult {
  restockId: string;
  sku: string;
  /** The request's status now. */
  status: RestockStatus;
  /** True only for the call that moved it to `failed` (and wrote its RestockFailed event). */
  marked: boolean;
}

/**
 * Mark a restock request `failed`: its factory message is (or is about to be) in the DLQ, and
 * it waits for operations (redrive or re-request). The one place a request becomes failed, and
 * the one place RestockFailed is written, in the same transaction.
 *
 * Idempotent, so anything that learns of the failure (the factory caller on the last delivery,
 * the DLQ alarm's follow-up reading the DLQ) may call it: only a `pending` request changes; a
 * request already failed keeps its status and only records `lastError` if one is given; a
 * request the factory took (`requested`), or one that is closed, is left as it is. With
 * `respectLease`, a pending request a delivery holds right now is left to that delivery too.
 */
export async function markFailed(
  restockId: string,
  { lastError, respectLease = false }: { lastError?: string; respectLease?: boolean } = {},
): Promise<MarkFailedResult> {
  const error = lastError?.slice(0, 1000);
  return transaction(async (tx) => {
    const [request] = await tx
      .select({ ...getTableColumns(restockRequestTable), leased: sql<number>`COALESCE(${restockRequestTable.leaseUntil} > NOW(3), 0)` })
      .from(restockRequestTable)
      .where(eq(restockRequestTable.id, restockId))
      .for("update");
    if (!request) throw new NotFoundError("RESTOCK_NOT_FOUND", `No restock request ${restockId}`, { restockId });
    const result = { restockId, sku: request.sku, status: request.status, marked: false };
    if (request.status === "failed") {
      if (error !== undefined)
        await tx.update(restockRequestTable).set({ leaseUntil: null, lastError: error }).where(eq(restockRequestTable.id, restockId));
      return result;
    }
    if (request.status !== "pending" || (respectLease && Number(request.leased) === 1)) return result;

    const failedAt = new Date();
    const recordedError = error ?? request.lastError;
    await tx
      .update(restockRequestTable)
      .set({ status: "failed", failedAt, leaseUntil: null, lastError: recordedError })
      .where(eq(restockRequestTable.id, restockId));
    await Outbox.enqueue(tx, Events.RestockFailed, {
      restockId,
      sku: request.sku,
      quantity: request.quantity,
      attempts: request.attempts,
      lastError: recordedError,
      occurredAt: failedAt.toISOString(),
    });
    await afterCommit(() => count(MetricName.RestockFailed));
    logger.warn("restock request failed; it waits for operations", {
      restockId,
      sku: request.sku,
      attempts: request.attempts,
      error: recordedError,
    });
    return { ...result, status: "failed" as const, marked: true };
  });
}
