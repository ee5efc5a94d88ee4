import { and, count as countRows, desc, eq, inArray, sql } from "drizzle-orm";
import { afterCommit, type Executor, query, type Transaction, transaction } from "../drizzle";
import { Events } from "../event";
import type * as Factory from "../factory";
import * as Outbox from "../outbox";
import { productTable } from "../product/product.sql";
import { AppError, NotFoundError } from "../util/error";
import { newId } from "../util/id";
import { logger } from "../util/log";
import { count, MetricName } from "../util/metrics";
import * as z from "../util/zod";
import { RESTOCK_STATUSES, type RestockStatus, restockAlertTable, restockAttemptTable, restockRequestTable } from "./restock.sql";

export {
  ATTEMPT_OUTCOMES,
  ATTENTION_KINDS,
  type AttemptOutcome,
  type AttentionKind,
  OPEN_RESTOCK_STATUSES,
  RESTOCK_STATUSES,
  type RestockStatus,
  restockAlertTable,
  restockAttemptTable,
  restockRequestTable,
} from "./restock.sql";

export interface OpenRequest {
  id: string;
  status: RestockStatus;
  quantity: number;
  /** True when this call opened it (and wrote its OutOfStock event to the outbox). */
  opened: boolean;
}

/** What a product's restock request is made of: the SKU, its factory and how many units to ask for. */
export interface RestockFacts {
  sku: string;
  factoryId: string;
  restockQuantity: number;
}

/** The OutOfStock event of a request: built here only, whoever writes it. */
function outOfStockDetail(request: { id: string; sku: string; quantity: number; factoryId: string }, occurredAt: Date) {
  return {
    restockId: request.id,
    sku: request.sku,
    quantity: request.quantity,
    factoryId: request.factoryId,
    occurredAt: occurredAt.toISOString(),
  };
}

/** The request's OutOfStock event, into the outbox of the current transaction; returns its outbox id. */
async function enqueueOutOfStock(
  tx: Transaction,
  request: { id: string; sku: string; quantity: number; factoryId: string },
): Promise<string> {
  return Outbox.enqueue(tx, Events.OutOfStock, outOfStockDetail(request, new Date()));
}

/** A restock request ready to be opened inside another statement, with its outbox row. */
export interface PreparedOpening {
  id: string;
  sku: string;
  factoryId: string;
  quantity: number;
  event: Outbox.PreparedEvent;
}

/**
 * Ids and OutOfStock event for a request that the order path's single round trip opens if the
 * product falls to its reorder point (the `place_order` procedure writes them only then, and
 * only if `product` still matches what the database holds).
 */
export function prepareOpening(product: RestockFacts, now: Date): PreparedOpening {
  const id = newId();
  const request = { id, sku: product.sku, quantity: product.restockQuantity, factoryId: product.factoryId };
  return { ...request, event: Outbox.prepare(Events.OutOfStock, outOfStockDetail(request, now)) };
}

/** After the commit that opened a request: its metric and log line, then its event to the bus. */
export async function announceOpened(opening: PreparedOpening): Promise<void> {
  count(MetricName.RestockOpened);
  logger.info("restock request opened", {
    restockId: opening.id,
    sku: opening.sku,
    quantity: opening.quantity,
    factoryId: opening.factoryId,
  });
  await Outbox.publishSoon(opening.event.id);
}

export { type Attention, type AttentionThresholds, attentionMail, findAttention, markReported, unreported } from "./attention";
export { type DeadLetter, type DeadLetterReport, deadLetterMail, followUpDeadLetters, followUpFactoryDeadLetterQueue } from "./dead-letter";
export { type DeliveryOutcome, requestFromFactory } from "./delivery";
export { type MarkFailedResult, markFailed } from "./failed";
export {
  CALLBACK_SECRET,
  CallbackAttempt,
  callbackToken,
  callbackUrl,
  isAuthenticCallback,
  PREVIOUS_CALLBACK_SECRET,
  signingSecret,
  verifyCallbackToken,
} from "./token";

export const RestockId = z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "restock id must be a ULID"));

export class CallbackMismatchError extends AppError {
  constructor(restockId: string, expected: Record<string, string>, received: Record<string, string | undefined>) {
    super(409, "CALLBACK_MISMATCH", `The callback does not match restock request ${restockId}; nothing was changed`, {
      restockId,
      expected,
      received,
    });
  }
}

export interface FulfilResult {
  restock: { id: string; sku: string; status: RestockStatus; quantity: number };
  /** Product stock after this callback. */
  stock: number;
  /** False for a duplicate callback (this factory call's units were already counted): nothing changed. */
  applied: boolean;
  /**
   * True when this callback is from a second production run of an already fulfilled request
   * (a factory call whose outcome we did not know, asked again): its units were added too.
   */
  extraRun?: boolean;
}

/**
 * Apply a factory callback: add the request's quantity to stock and close the request, in one
 * transaction. The request row is locked first, so two callbacks racing each other are serialised.
 * A callback naming another SKU or count is refused (the factory or the URL is confused).
 *
 * Units are counted once per factory call (`attempt`, from the callback URL): a duplicate of a
 * callback already counted changes nothing, while a callback from another call the factory also
 * accepted (a second production run) adds its units, with a warning, even after the request was
 * fulfilled: those donuts exist.
 */
export async function fulfil(restockId: string, callback: Factory.FactoryCallback, attempt: number): Promise<FulfilResult> {
  return transaction(async (tx) => {
    const [request] = await tx.select().from(restockRequestTable).where(eq(restockRequestTable.id, restockId)).for("update");
    if (!request) throw new NotFoundError("RESTOCK_NOT_FOUND", `No restock request ${restockId}`, { restockId });

    const expected = { MessageAttributeProductId: request.sku, MessageAttributeProductCnt: String(request.quantity) };
    const received = {
      MessageAttributeProductId: callback.MessageAttributeProductId,
      MessageAttributeProductCnt: callback.MessageAttributeProductCnt,
    };
    const factoryMismatch = callback.MessageAttributeFactoryId !== undefined && callback.MessageAttributeFactoryId !== request.factoryId;
    if (
      received.MessageAttributeProductId !== expected.MessageAttributeProductId ||
      received.MessageAttributeProductCnt !== expected.MessageAttributeProductCnt ||
      factoryMismatch
    ) {
      logger.warn("factory callback refused: it does not match the request", { restockId, sku: request.sku, expected, received });
      throw new CallbackMismatchError(
        restockId,
        { ...expected, MessageAttributeFactoryId: request.factoryId },
        {
          ...received,
          MessageAttributeFactoryId: callback.MessageAttributeFactoryId,
        },
      );
    }

    const [product] = await tx.select().from(productTable).where(eq(productTable.id, request.productId)).for("update");
    const closed = request.status === "fulfilled" || request.status === "cancelled";
    const [run] = await tx.select().from(restockAttemptTable).where(attemptKey(restockId, attempt)).for("update");
    if (run?.creditedAt || (closed && !run)) {
      logger.info("duplicate factory callback ignored", { restockId, sku: request.sku, status: request.status, attempt });
      return { restock: pick(request), stock: product.stock, applied: false };
    }

    await tx
      .update(productTable)
      .set({ stock: sql`${productTable.stock} + ${request.quantity}` })
      .where(eq(productTable.id, request.productId));
    const now = new Date();
    if (run) {
      // Its callback is the proof the factory accepted this call, whatever we recorded then.
      await tx.update(restockAttemptTable).set({ creditedAt: now, outcome: "accepted" }).where(attemptKey(restockId, run.attempt));
    }
    if (closed) {
      await afterCommit(() => count(MetricName.RestockExtraRunCredited));
      logger.warn("a second production run called back; its units were added to stock", {
        restockId,
        sku: request.sku,
        quantity: request.quantity,
        attempt,
        status: request.status,
      });
      return { restock: pick(request), stock: product.stock + request.quantity, applied: true, extraRun: true };
    }
    await tx
      .update(restockRequestTable)
      .set({ status: "fulfilled", fulfilledAt: now, lastError: null })
      .where(eq(restockRequestTable.id, restockId));
    const stock = product.stock + request.quantity;
    await Outbox.enqueue(tx, Events.RestockFulfilled, {
      restockId,
      sku: request.sku,
      name: product.name,
      quantity: request.quantity,
      stock,
      occurredAt: now.toISOString(),
    });
    await afterCommit(() => count(MetricName.RestockFulfilled));
    logger.info("restock fulfilled", { restockId, sku: request.sku, quantity: request.quantity, previousStatus: request.status });
    return {
      restock: { ...pick(request), status: "fulfilled" as const },
      stock,
      applied: true,
    };
  });
}

function attemptKey(restockId: string, attempt: number) {
  return and(eq(restockAttemptTable.restockId, restockId), eq(restockAttemptTable.attempt, attempt));
}

function pick(request: typeof restockRequestTable.$inferSelect) {
  return { id: request.id, sku: request.sku, status: request.status, quantity: request.quantity };
}

export class RestockStateError extends AppError {
  constructor(restockId: string, status: RestockStatus, wanted: string) {
    super(409, "RESTOCK_STATE", `Restock request ${restockId} is ${status}; ${wanted}`, { restockId, status });
  }
}

/** Statuses from which a request can be asked for again. */
const RE_REQUESTABLE: readonly RestockStatus[] = ["pending", "requested", "failed"];

export interface ReRequested {
  id: string;
  sku: string;
  previousStatus: RestockStatus;
  status: "pending";
  /** The OutOfStock event written to the outbox in the same transaction. */
  outboxId: string;
  /** Whether it reached the event bus right after commit; if not, the outbox relay sends it. */
  published: boolean;
}

/**
 * Ask the factory again for a request that is stuck (`requested` but never called back,
 * `pending` with its event or message lost) or `failed`: back to `pending` with a fresh
 * OutOfStock event through the outbox, same id, so a duplicate message finds it no longer
 * callable. The new factory call gets its own callback URL; if the first call's production
 * arrives after all, its callback is counted too (see `fulfil`). The watchdog forgets its
 * reports about it: if it gets stuck again, it says so again.
 */
export async function reRequest(restockId: string): Promise<ReRequested> {
  const result = await transaction(async (tx) => {
    const [request] = await tx.select().from(restockRequestTable).where(eq(restockRequestTable.id, restockId)).for("update");
    if (!request) throw new NotFoundError("RESTOCK_NOT_FOUND", `No restock request ${restockId}`, { restockId });
    if (!RE_REQUESTABLE.includes(request.status)) {
      throw new RestockStateError(restockId, request.status, "only pending, requested or failed requests can be re-requested");
    }
    await tx
      .update(restockRequestTable)
      .set({ status: "pending", leaseUntil: null, failedAt: null })
      .where(eq(restockRequestTable.id, restockId));
    await tx.delete(restockAlertTable).where(eq(restockAlertTable.subject, restockId));
    const outboxId = await enqueueOutOfStock(tx, request);
    logger.info("restock re-requested", { restockId, sku: request.sku, previousStatus: request.status, outboxId });
    return { id: restockId, sku: request.sku, previousStatus: request.status, status: "pending" as const, outboxId };
  });
  // The after-commit publish has run (or given up) by now.
  return { ...result, published: await Outbox.isPublished(result.outboxId) };
}

/** One restock request as operators list it. */
export interface RestockSummary {
  id: string;
  sku: string;
  factoryId: string;
  quantity: number;
  status: RestockStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  requestedAt: Date | null;
  fulfilledAt: Date | null;
  failedAt: Date | null;
}

/** Restock requests, newest first (optionally only one status): the ops CLI, the admin API and the dashboard. */
export async function list({
  status,
  limit = 50,
  executor,
}: {
  status?: RestockStatus;
  limit?: number;
  executor?: Executor;
} = {}): Promise<RestockSummary[]> {
  return query((db) =>
    (executor ?? db)
      .select({
        id: restockRequestTable.id,
        sku: restockRequestTable.sku,
        factoryId: restockRequestTable.factoryId,
        quantity: restockRequestTable.quantity,
        status: restockRequestTable.status,
        attempts: restockRequestTable.attempts,
        lastError: restockRequestTable.lastError,
        createdAt: restockRequestTable.createdAt,
        updatedAt: restockRequestTable.updatedAt,
        requestedAt: restockRequestTable.requestedAt,
        fulfilledAt: restockRequestTable.fulfilledAt,
        failedAt: restockRequestTable.failedAt,
      })
      .from(restockRequestTable)
      .where(status ? eq(restockRequestTable.status, status) : undefined)
      .orderBy(desc(restockRequestTable.createdAt), desc(restockRequestTable.id))
      .limit(limit),
  );
}

/** How many requests are in each status (every status present, 0 when none). */
export async function countByStatus(executor?: Executor): Promise<Record<RestockStatus, number>> {
  const rows = await query((db) =>
    (executor ?? db)
      .select({ status: restockRequestTable.status, n: countRows() })
      .from(restockRequestTable)
      .groupBy(restockRequestTable.status),
  );
  const counts = Object.fromEntries(RESTOCK_STATUSES.map((status) => [status, 0])) as Record<RestockStatus, number>;
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/**
 * Open a restock request for a product that is sold out with none open (its request was
 * cancelled, or its stock was set to 0 by hand): the same path as a stock-out during a sale,
 * under the product's row lock. Returns the product's open request either way.
 */
export async function openFor(sku: string): Promise<OpenRequest & { sku: string }> {
  return transaction(async (tx) => {
    const [product] = await tx.select().from(productTable).where(eq(productTable.sku, sku)).for("update");
    if (!product) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product ${sku}`, { sku });
    const [existing] = await tx
      .select({ id: restockRequestTable.id, status: restockRequestTable.status, quantity: restockRequestTable.quantity })
      .from(restockRequestTable)
      .where(eq(restockRequestTable.openProductId, product.id));
    if (existing) return { ...existing, opened: false, sku: product.sku };
    const request = {
      id: newId(),
      productId: product.id,
      sku: product.sku,
      factoryId: product.factoryId,
      quantity: product.restockQuantity,
    };
    await tx.insert(restockRequestTable).values(request);
    await enqueueOutOfStock(tx, request);
    logger.info("restock request opened by an operator", { restockId: request.id, sku: product.sku, quantity: request.quantity });
    return { id: request.id, status: "pending" as const, quantity: request.quantity, opened: true, sku: product.sku };
  });
}

/**
 * Delete every restock request of these products, with its recorded factory calls (the demo
 * reset: `npm run demo:reset`). A message or callback still on its way for one of them finds no
 * request and changes nothing.
 */
export async function removeForProducts(tx: Transaction, productIds: number[]): Promise<number> {
  if (productIds.length === 0) return 0;
  // Their factory calls go first: each attempt row references its request.
  const requests = tx
    .select({ id: restockRequestTable.id })
    .from(restockRequestTable)
    .where(inArray(restockRequestTable.productId, productIds));
  await tx.delete(restockAttemptTable).where(inArray(restockAttemptTable.restockId, requests));
  const [result] = await tx.delete(restockRequestTable).where(inArray(restockRequestTable.productId, productIds));
  return result.affectedRows;
}
