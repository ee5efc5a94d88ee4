import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { query, transaction } from "../drizzle";
import { Events } from "../event";
import * as Factory from "../factory";
import * as Outbox from "../outbox";
import { factoryCaller } from "../topology";
import { intEnv, optionalEnv } from "../util/config";
import { logger } from "../util/log";
import { count, MetricName, milliseconds } from "../util/metrics";
import { markFailed } from "./failed";
import { type AttemptOutcome, restockAttemptTable, restockRequestTable } from "./restock.sql";
import { callbackUrl, signingSecret } from "./token";

/** Statuses from which the factory may (still) be asked: new, or failed and redriven by operations. */
const CALLABLE = ["pending", "failed"] as const;

/**
 * Hold the request for one factory call. At-least-once delivery means two consumers may see
 * the same request; only the one whose conditional UPDATE wins calls the factory. The lease
 * outlives the factory timeout but not the queue's visibility timeout, so a crashed holder's
 * message comes back after its lease expired.
 */
async function claim(restockId: string, leaseMs: number) {
  const [result] = await query((db) =>
    db
      .update(restockRequestTable)
      .set({
        leaseUntil: sql`DATE_ADD(NOW(3), INTERVAL ${leaseMs * 1000} MICROSECOND)`,
        attempts: sql`${restockRequestTable.attempts} + 1`,
      })
      .where(
        and(
          eq(restockRequestTable.id, restockId),
          inArray(restockRequestTable.status, CALLABLE),
          or(isNull(restockRequestTable.leaseUntil), lt(restockRequestTable.leaseUntil, sql`NOW(3)`)),
        ),
      ),
  );
  const [request] = await query((db) => db.select().from(restockRequestTable).where(eq(restockRequestTable.id, restockId)));
  return { claimed: result.affectedRows === 1, request };
}

export class RestockBusyError extends Error {
  constructor(restockId: string) {
    super(`Restock request ${restockId} is being sent to the factory by another delivery; retry later`);
    this.name = "RestockBusyError";
  }
}

export type DeliveryOutcome = { outcome: "requested"; attempts: number; ms: number } | { outcome: "skipped"; reason: string };

/**
 * Ask the legacy factory to produce a restock request's units (the factory-caller's work for
 * one SQS record). Idempotent: a request already requested, fulfilled or cancelled, or held
 * by a concurrent delivery, is skipped. On failure the error is recorded and rethrown so the
 * record is retried; on the queue's last delivery the request is marked `failed` as its
 * message moves to the DLQ (where the alarm e-mails operations).
 */
export async function requestFromFactory(
  restockId: string,
  { receiveCount, maxReceiveCount }: { receiveCount: number; maxReceiveCount: number },
): Promise<DeliveryOutcome> {
  const timeoutMs = intEnv("FACTORY_TIMEOUT_MS", factoryCaller.factoryRequestTimeoutMs, { min: 100 });
  // Long enough to cover one factory call and its bookkeeping; see claim() for the upper bound.
  const { claimed, request } = await claim(restockId, timeoutMs * 2);
  const log = { restockId, sku: request?.sku, receiveCount };
  if (!request) {
    logger.warn("restock request does not exist; dropping its message", log);
    return { outcome: "skipped", reason: "unknown restock request" };
  }
  if (claimed && (await lostTrackOfLastCall(restockId, log))) {
    return { outcome: "skipped", reason: "a previous call may have been accepted; waiting for its callback" };
  }
  if (!claimed) {
    if (CALLABLE.includes(request.status as (typeof CALLABLE)[number])) {
      // Another delivery holds the lease (or crashed holding it). Do not drop this message:
      // retry after the visibility timeout, by which time the holder finished or its lease expired.
      throw new RestockBusyError(restockId);
    }
    logger.info("factory call skipped", { ...log, reason: `already ${request.status}` });
    return { outcome: "skipped", reason: `already ${request.status}` };
  }

  try {
    const apiUrl = await query((db) => Factory.apiUrlOf(db, request.factoryId));
    const publicApiUrl = optionalEnv("PUBLIC_API_URL");
    if (!publicApiUrl) throw new Error("PUBLIC_API_URL is not set: the factory would have nowhere to call back");
    const body: Factory.ManufactureRequest = {
      MessageGroupId: Factory.MESSAGE_GROUP_ID,
      MessageAttributeProductId: request.sku,
      MessageAttributeProductCnt: String(request.quantity),
      MessageAttributeFactoryId: request.factoryId,
      MessageAttributeRequester: optionalEnv("FACTORY_REQUESTER") ?? "donut-states",
      CallbackUrl: callbackUrl(publicApiUrl, request.id, await signingSecret(), request.attempts),
    };
    // Recorded before the call: if we lose track of it after, the next delivery knows it was sent.
    await query((db) => db.insert(restockAttemptTable).values({ restockId, attempt: request.attempts }));
    let ms: number;
    try {
      ({ ms } = await Factory.requestProduction(apiUrl, body, timeoutMs));
    } catch (error) {
      // No answer in time: the factory may still have taken it (its callback is counted if it comes).
      const outcome: AttemptOutcome = error instanceof Factory.FactoryCallError && error.timedOut ? "unknown" : "failed";
      await recordAttempt(restockId, request.attempts, outcome, (error as Error).message).catch(() => {});
      throw error;
    }
    await transaction(async (tx) => {
      const [moved] = await tx
        .update(restockRequestTable)
        .set({ status: "requested", requestedAt: sql`NOW(3)`, leaseUntil: null, lastError: null, failedAt: null })
        .where(and(eq(restockRequestTable.id, restockId), inArray(restockRequestTable.status, CALLABLE)));
      await tx
        .update(restockAttemptTable)
        .set({ outcome: "accepted", answeredAt: sql`NOW(3)` })
        .where(
          and(
            eq(restockAttemptTable.restockId, restockId),
            eq(restockAttemptTable.attempt, request.attempts),
            eq(restockAttemptTable.outcome, "sending"),
          ),
        );
      // Announced only by the delivery that moved it (a callback may have overtaken the 2xx).
      if (moved.affectedRows === 1) {
        await Outbox.enqueue(tx, Events.RestockRequested, {
          restockId,
          sku: request.sku,
          quantity: request.quantity,
          factoryId: request.factoryId,
          attempt: request.attempts,
          occurredAt: new Date().toISOString(),
        });
      }
    });
    count(MetricName.RestockRequested);
    milliseconds(MetricName.FactoryCallLatency, ms);
    logger.info("factory accepted restock request", { ...log, quantity: request.quantity, factoryMs: ms });
    return { outcome: "requested", attempts: request.attempts, ms };
  } catch (error) {
    const final = receiveCount >= maxReceiveCount;
    const message = (error as Error).message.slice(0, 1000);
    count(MetricName.FactoryCallErrors);
    // If this cannot be written (the database is down), the request stays pending with its
    // message in the DLQ: the DLQ alarm's follow-up marks it failed.
    const recorded = final
      ? markFailed(restockId, { lastError: message })
      : query((db) =>
          db
            .update(restockRequestTable)
            .set({ leaseUntil: null, lastError: message })
            .where(and(eq(restockRequestTable.id, restockId), inArray(restockRequestTable.status, CALLABLE))),
        );
    await recorded.catch((recordError) => logger.error("could not record the factory failure", { ...log, error: recordError }));
    logger.warn(final ? "factory call failed for the last time; message goes to the DLQ" : "factory call failed; will retry", {
      ...log,
      error: message,
    });
    throw error;
  }
}

async function recordAttempt(restockId: string, attempt: number, outcome: AttemptOutcome, error?: string) {
  await query((db) =>
    db
      .update(restockAttemptTable)
      .set({ outcome, answeredAt: sql`NOW(3)`, error: error?.slice(0, 1000) })
      .where(
        and(
          eq(restockAttemptTable.restockId, restockId),
          eq(restockAttemptTable.attempt, attempt),
          eq(restockAttemptTable.outcome, "sending"),
        ),
      ),
  );
}

/**
 * The previous delivery sent its factory call and then lost track of it: its last attempt is
 * still `sending` (its database write after the answer failed, or it crashed). The factory may
 * well have accepted it, so asking again now would risk a second production run. Instead the
 * request becomes `requested` as of that call: its callback fulfils it, or the watchdog reports
 * it after the SLA (and an operator re-requests it).
 */
async function lostTrackOfLastCall(restockId: string, log: Record<string, unknown>): Promise<boolean> {
  const [last] = await query((db) =>
    db
      .select()
      .from(restockAttemptTable)
      .where(eq(restockAttemptTable.restockId, restockId))
      .orderBy(desc(restockAttemptTable.attempt))
      .limit(1),
  );
  if (last?.outcome !== "sending") return false;
  await transaction(async (tx) => {
    await tx
      .update(restockRequestTable)
      .set({
        status: "requested",
        requestedAt: last.sentAt,
        leaseUntil: null,
        // The claim counted a call that is not made.
        attempts: sql`${restockRequestTable.attempts} - 1`,
      })
      .where(and(eq(restockRequestTable.id, restockId), inArray(restockRequestTable.status, CALLABLE)));
    await tx
      .update(restockAttemptTable)
      .set({ outcome: "unknown", error: "sent; its answer was not recorded" })
      .where(and(eq(restockAttemptTable.restockId, restockId), eq(restockAttemptTable.attempt, last.attempt)));
  });
  logger.warn("a previous factory call may have been accepted; waiting for its callback instead of asking again", {
    ...log,
    attempt: last.attempt,
  });
  return true;
}
