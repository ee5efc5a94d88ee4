export * as Order from "./index";

import { createHash } from "node:crypto";
import { and, eq, gte, sql } from "drizzle-orm";
import { ulid } from "ulid";
import { z } from "zod";
import { type Transaction, isDuplicateKey, query, transaction } from "../drizzle";
import { Sku, productTable } from "../product";
import { Restock, restockRequestTable } from "../restock";
import { AppError, NotFoundError } from "../util/error";
import { MetricName, count } from "../util/metrics";
import { orderTable } from "./order.sql";

export { orderTable };

export const MAX_QUANTITY = 100;

export const PlaceOrderInput = z.strictObject(
  {
    sku: Sku,
    quantity: z
      .number({ error: "quantity must be a number" })
      .int("quantity must be a whole number")
      .min(1, `quantity must be between 1 and ${MAX_QUANTITY}`)
      .max(MAX_QUANTITY, `quantity must be between 1 and ${MAX_QUANTITY}`),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : undefined) },
);
export type PlaceOrderInput = z.infer<typeof PlaceOrderInput>;

/** Idempotency keys: what clients typically send (UUIDs, ULIDs, opaque tokens). */
export const IdempotencyKey = z
  .string()
  .min(1, "Idempotency-Key must not be empty")
  .max(255, "Idempotency-Key must be at most 255 characters")
  .regex(/^[\x21-\x7e]+$/, "Idempotency-Key must be printable ASCII without spaces");

export interface ConfirmedOrder {
  order: { id: string; sku: string; quantity: number; unitPrice: number; createdAt: string };
  /** Units left right after this order. */
  stock: number;
  /** True when this is the stored answer to an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export class OutOfStockError extends AppError {
  constructor(sku: string, requested: number, available: number, restock: Restock.OpenRequest) {
    super(409, "OUT_OF_STOCK", `Only ${available} unit(s) of ${sku} available; ${requested} requested. A restock is on its way.`, {
      sku,
      requested,
      available,
      restock: { id: restock.id, status: restock.status, quantity: restock.quantity },
    });
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor(key: string) {
    super(422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used with a different request body", {
      idempotencyKey: key,
    });
  }
}

/** Fingerprint of the validated request, so formatting differences do not count as "different". */
function fingerprint(input: PlaceOrderInput): string {
  return createHash("sha256").update(JSON.stringify({ sku: input.sku, quantity: input.quantity })).digest("hex");
}

type OrderRow = typeof orderTable.$inferSelect;

function confirmed(row: OrderRow, replayed: boolean): ConfirmedOrder {
  return {
    order: {
      id: row.id,
      sku: row.sku,
      quantity: row.quantity,
      unitPrice: row.unitPrice,
      createdAt: row.createdAt.toISOString(),
    },
    stock: row.stockAfter,
    replayed,
  };
}

async function replay(key: string, hash: string): Promise<ConfirmedOrder | undefined> {
  const [row] = await query((db) => db.select().from(orderTable).where(eq(orderTable.idempotencyKey, key)));
  if (!row) return undefined;
  if (row.requestHash !== hash) throw new IdempotencyKeyReusedError(key);
  return confirmed(row, true);
}

/**
 * A consistent (non-locking) read: if the product lacks the stock and its restock request is
 * already open, the answer is a 409 and there is nothing to write. Anything else (no product,
 * enough stock after all, no open request) goes to the locking path, which decides for sure.
 */
async function refusedWithOpenRestock(tx: Transaction, input: PlaceOrderInput) {
  const [row] = await tx
    .select({
      stock: productTable.stock,
      restockId: restockRequestTable.id,
      restockStatus: restockRequestTable.status,
      restockQuantity: restockRequestTable.quantity,
    })
    .from(productTable)
    .innerJoin(restockRequestTable, eq(restockRequestTable.openProductId, productTable.id))
    .where(eq(productTable.sku, input.sku));
  if (!row || row.stock >= input.quantity) return undefined;
  const restock: Restock.OpenRequest = { id: row.restockId, status: row.restockStatus, quantity: row.restockQuantity, opened: false };
  return { kind: "out-of-stock" as const, available: row.stock, restock };
}

/**
 * Take `quantity` units of a product, or explain why not.
 *
 * The stock decrement is one conditional UPDATE (`stock >= quantity`), so concurrent orders
 * can never oversell: the row lock orders them and the condition is re-checked against the
 * latest committed stock. The order row is inserted in the same transaction.
 *
 * When there is not enough stock, the same transaction opens the product's restock request
 * (if none is open) with its OutOfStock outbox row, commits that, and then throws
 * OutOfStockError (409). Stock reaching the product's reorder point opens it too.
 */
export async function place(input: PlaceOrderInput, idempotencyKey?: string): Promise<ConfirmedOrder> {
  // Only a keyed request needs its fingerprint (to tell a retry from a reuse of the key).
  const hash = idempotencyKey ? fingerprint(input) : "";
  if (idempotencyKey) {
    const previous = await replay(idempotencyKey, hash);
    if (previous) return previous;
  }

  let outcome: { kind: "confirmed"; row: OrderRow } | { kind: "out-of-stock"; available: number; restock: Restock.OpenRequest };
  try {
    outcome = await transaction(async (tx) => {
      // Loops at most twice: only if stock arrived between the failed UPDATE and the lock.
      for (;;) {
        const [update] = await tx
          .update(productTable)
          .set({ stock: sql`${productTable.stock} - ${input.quantity}` })
          .where(and(eq(productTable.sku, input.sku), gte(productTable.stock, input.quantity)));

        if (update.affectedRows === 0) {
          // Refusal fast path, without touching the hot row's lock: a sell-out spike sends
          // thousands of these while a restock is already on its way, and each would otherwise
          // queue behind the buyers for a lock only to learn what a plain read tells it.
          const refused = await refusedWithOpenRestock(tx, input);
          if (refused) return refused;
        }

        // Either we just changed the row (and hold its lock) or we lock it now to decide why not.
        const [product] = await tx
          .select()
          .from(productTable)
          .where(eq(productTable.sku, input.sku))
          .for("update");
        if (!product) throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${input.sku}`, { sku: input.sku });

        if (update.affectedRows === 1) {
          const row: OrderRow = {
            id: ulid(),
            productId: product.id,
            sku: product.sku,
            quantity: input.quantity,
            unitPrice: product.price,
            stockAfter: product.stock,
            idempotencyKey: idempotencyKey ?? null,
            requestHash: idempotencyKey ? hash : null,
            createdAt: new Date(),
          };
          await tx.insert(orderTable).values(row);
          if (product.stock <= product.reorderPoint) await Restock.ensureOpen(tx, product);
          return { kind: "confirmed" as const, row };
        }
        if (product.stock >= input.quantity) continue;
        const restock = await Restock.ensureOpen(tx, product);
        return { kind: "out-of-stock" as const, available: product.stock, restock };
      }
    });
  } catch (error) {
    // Two retries with the same key raced; the loser's transaction rolled back. Answer like the winner.
    if (idempotencyKey && isDuplicateKey(error, "orders_idempotency_key_unique")) {
      const previous = await replay(idempotencyKey, hash);
      if (previous) return previous;
    }
    throw error;
  }

  if (outcome.kind === "out-of-stock") {
    count(MetricName.OrdersRejectedOutOfStock);
    throw new OutOfStockError(input.sku, input.quantity, outcome.available, outcome.restock);
  }
  count(MetricName.OrdersConfirmed);
  count(MetricName.UnitsSold, outcome.row.quantity);
  return confirmed(outcome.row, false);
}
