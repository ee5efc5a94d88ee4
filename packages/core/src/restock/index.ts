export * as Restock from "./index";

import { eq, sql } from "drizzle-orm";
import { ulid } from "ulid";
import { z } from "zod";
import { type Transaction, afterCommit, isDuplicateKey, transaction } from "../drizzle";
import { Events } from "../event";
import { Outbox } from "../outbox";
import { productTable } from "../product/product.sql";
import { AppError, NotFoundError } from "../util/error";
import { logger } from "../util/log";
import { MetricName, count } from "../util/metrics";
import { restockRequestTable, type RestockStatus } from "./restock.sql";

export { restockRequestTable, RESTOCK_STATUSES, OPEN_RESTOCK_STATUSES, type RestockStatus } from "./restock.sql";

export interface OpenRequest {
  id: string;
  status: RestockStatus;
  quantity: number;
  /** True when this call opened it (and wrote its OutOfStock event to the outbox). */
  opened: boolean;
}

interface ProductForRestock {
  id: number;
  sku: string;
  factoryId: string;
  restockQuantity: number;
}

async function findOpen(tx: Transaction, productId: number) {
  const [row] = await tx
    .select({ id: restockRequestTable.id, status: restockRequestTable.status, quantity: restockRequestTable.quantity })
    .from(restockRequestTable)
    .where(eq(restockRequestTable.openProductId, productId));
  return row;
}

/** The request's OutOfStock event, into the outbox of the current transaction. */
async function announce(tx: Transaction, request: { id: string; sku: string; quantity: number; factoryId: string }) {
  await Outbox.enqueue(tx, Events.OutOfStock, {
    restockId: request.id,
    sku: request.sku,
    quantity: request.quantity,
    factoryId: request.factoryId,
    occurredAt: new Date().toISOString(),
  });
}

/**
 * Return the product's open restock request, opening one (and its OutOfStock event, in the
 * same transaction) if there is none. Callers normally hold the product's row lock, which
 * serialises them; the unique index on open_product_id is the backstop for anyone who does not.
 */
export async function ensureOpen(tx: Transaction, product: ProductForRestock): Promise<OpenRequest> {
  const existing = await findOpen(tx, product.id);
  if (existing) return { ...existing, opened: false };

  const id = ulid();
  try {
    await tx.insert(restockRequestTable).values({
      id,
      productId: product.id,
      sku: product.sku,
      factoryId: product.factoryId,
      quantity: product.restockQuantity,
    });
  } catch (error) {
    if (!isDuplicateKey(error, "restock_request_one_open_per_product")) throw error;
    const winner = await findOpen(tx, product.id);
    if (!winner) throw error;
    return { ...winner, opened: false };
  }
  // Registered before the event's own publish effect, so the log reads in the order things happen.
  await afterCommit(() => {
    count(MetricName.RestockOpened);
    logger.info("restock request opened", { restockId: id, sku: product.sku, quantity: product.restockQuantity, factoryId: product.factoryId });
  });
  await announce(tx, { id, sku: product.sku, quantity: product.restockQuantity, factoryId: product.factoryId });
  return { id, status: "pending", quantity: product.restockQuantity, opened: true };
}

export { callbackToken, callbackUrl, verifyCallbackToken } from "./token";
export { requestFromFactory, takeOverdue, type DeliveryOutcome } from "./delivery";

/** What the legacy factory POSTs to CallbackUrl: the fields we sent, echoed, all strings. */
export const FactoryCallback = z.looseObject({
  MessageAttributeProductId: z.string({ error: "MessageAttributeProductId must be a string" }).min(1).max(64),
  MessageAttributeProductCnt: z
    .string({ error: "MessageAttributeProductCnt must be a string" })
    .regex(/^[1-9][0-9]{0,8}$/, "MessageAttributeProductCnt must be a positive whole number as a string"),
  MessageAttributeFactoryId: z.string().max(32).optional(),
  MessageGroupId: z.string().max(128).optional(),
  MessageAttributeRequester: z.string().max(256).optional(),
  CallbackUrl: z.string().max(4096).optional(),
});
export type FactoryCallback = z.infer<typeof FactoryCallback>;

export const RestockId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "restock id must be a ULID");

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
  /** False when the request was already fulfilled (a duplicate callback): nothing changed. */
  applied: boolean;
}

/**
 * Apply a factory callback: add the request's quantity to stock and close the request, in one
 * transaction, exactly once. The request row is locked first, so two callbacks racing each
 * other are applied once; a later duplicate sees `fulfilled` and changes nothing.
 * A callback naming another SKU or count is refused (the factory or the URL is confused).
 */
export async function fulfil(restockId: string, callback: FactoryCallback): Promise<FulfilResult> {
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
      throw new CallbackMismatchError(restockId, { ...expected, MessageAttributeFactoryId: request.factoryId }, {
        ...received,
        MessageAttributeFactoryId: callback.MessageAttributeFactoryId,
      });
    }

    const [product] = await tx.select().from(productTable).where(eq(productTable.id, request.productId)).for("update");
    if (request.status === "fulfilled" || request.status === "cancelled") {
      logger.info("duplicate factory callback ignored", { restockId, sku: request.sku, status: request.status });
      return { restock: pick(request), stock: product.stock, applied: false };
    }

    await tx
      .update(productTable)
      .set({ stock: sql`${productTable.stock} + ${request.quantity}` })
      .where(eq(productTable.id, request.productId));
    const now = new Date();
    await tx
      .update(restockRequestTable)
      .set({ status: "fulfilled", fulfilledAt: now, lastError: null })
      .where(eq(restockRequestTable.id, restockId));
    await afterCommit(() => count(MetricName.RestockFulfilled));
    logger.info("restock fulfilled", { restockId, sku: request.sku, quantity: request.quantity, previousStatus: request.status });
    return {
      restock: { ...pick(request), status: "fulfilled" as const },
      stock: product.stock + request.quantity,
      applied: true,
    };
  });
}

function pick(request: typeof restockRequestTable.$inferSelect) {
  return { id: request.id, sku: request.sku, status: request.status, quantity: request.quantity };
}

export class RestockStateError extends AppError {
  constructor(restockId: string, status: RestockStatus, wanted: string) {
    super(409, "RESTOCK_STATE", `Restock request ${restockId} is ${status}; ${wanted}`, { restockId, status });
  }
}

/**
 * Ask the factory again for a request that is stuck (`requested` but never called back) or
 * `failed`: back to `pending` with a fresh OutOfStock event through the outbox, same id, so a
 * late callback for the first attempt and one for the second are still applied only once.
 */
export async function reRequest(restockId: string): Promise<{ id: string; sku: string; previousStatus: RestockStatus }> {
  return transaction(async (tx) => {
    const [request] = await tx.select().from(restockRequestTable).where(eq(restockRequestTable.id, restockId)).for("update");
    if (!request) throw new NotFoundError("RESTOCK_NOT_FOUND", `No restock request ${restockId}`, { restockId });
    if (request.status !== "requested" && request.status !== "failed") {
      throw new RestockStateError(restockId, request.status, "only requested or failed requests can be re-requested");
    }
    await tx
      .update(restockRequestTable)
      .set({ status: "pending", leaseUntil: null, overdueAlertedAt: null, failedAt: null })
      .where(eq(restockRequestTable.id, restockId));
    await announce(tx, request);
    logger.info("restock re-requested", { restockId, sku: request.sku, previousStatus: request.status });
    return { id: restockId, sku: request.sku, previousStatus: request.status };
  });
}
