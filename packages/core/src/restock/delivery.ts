import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { query } from "../drizzle";
import { Factory } from "../factory";
import { intEnv, optionalEnv } from "../util/config";
import { logger } from "../util/log";
import { MetricName, count, milliseconds } from "../util/metrics";
import { factoryCaller } from "../topology";
import { callbackUrl, signingSecret } from "./token";
import { restockRequestTable } from "./restock.sql";

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

export type DeliveryOutcome =
  | { outcome: "requested"; attempts: number; ms: number }
  | { outcome: "skipped"; reason: string };

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
      CallbackUrl: callbackUrl(publicApiUrl, request.id, await signingSecret()),
    };
    const { ms } = await Factory.requestProduction(apiUrl, body, timeoutMs);
    await query((db) =>
      db
        .update(restockRequestTable)
        .set({ status: "requested", requestedAt: sql`NOW(3)`, leaseUntil: null, lastError: null, failedAt: null })
        .where(and(eq(restockRequestTable.id, restockId), inArray(restockRequestTable.status, CALLABLE))),
    );
    count(MetricName.RestockRequested);
    milliseconds(MetricName.FactoryCallLatency, ms);
    logger.info("factory accepted restock request", { ...log, quantity: request.quantity, factoryMs: ms });
    return { outcome: "requested", attempts: request.attempts, ms };
  } catch (error) {
    const final = receiveCount >= maxReceiveCount;
    const message = (error as Error).message.slice(0, 1000);
    count(MetricName.FactoryCallErrors);
    if (final) count(MetricName.RestockFailed);
    await query((db) =>
      db
        .update(restockRequestTable)
        .set({
          leaseUntil: null,
          lastError: message,
          ...(final ? { status: "failed" as const, failedAt: sql`NOW(3)` } : {}),
        })
        .where(and(eq(restockRequestTable.id, restockId), inArray(restockRequestTable.status, CALLABLE))),
    ).catch((recordError) => logger.error("could not record the factory failure", { ...log, error: recordError }));
    logger.warn(final ? "factory call failed for the last time; message goes to the DLQ" : "factory call failed; will retry", {
      ...log,
      error: message,
    });
    throw error;
  }
}
