import { createHash } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import type { RowDataPacket } from "mysql2";
import {
  type Database,
  isAccessDenied,
  isDatabaseUnavailable,
  isDuplicateKey,
  isRetryable,
  query,
  type Transaction,
  withCurrentCredentials,
} from "../drizzle";
import * as Product from "../product";
import * as Restock from "../restock";
import { AppError, DependencyUnavailableError, NotFoundError } from "../util/error";
import { newId } from "../util/id";
import { count, MetricName } from "../util/metrics";
import * as z from "../util/zod";
import { orderTable, PLACE_ORDER_SQL, type PlaceOrderArguments, type PlaceOrderRow, placeOrderValues } from "./order.sql";

export { type MinuteActivity, perMinute } from "./activity";
export { orderTable };

export const MAX_QUANTITY = 100;

export const PlaceOrderInput = z.strictObject(
  {
    sku: Product.Sku,
    quantity: z
      .number({ error: "quantity must be a number" })
      .check(
        z.int("quantity must be a whole number"),
        z.gte(1, `quantity must be between 1 and ${MAX_QUANTITY}`),
        z.lte(MAX_QUANTITY, `quantity must be between 1 and ${MAX_QUANTITY}`),
      ),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : undefined) },
);
export type PlaceOrderInput = z.infer<typeof PlaceOrderInput>;

/** Idempotency keys: what clients typically send (UUIDs, ULIDs, opaque tokens). */
export const IdempotencyKey = z
  .string()
  .check(
    z.minLength(1, "Idempotency-Key must not be empty"),
    z.maxLength(255, "Idempotency-Key must be at most 255 characters"),
    z.regex(/^[\x21-\x7e]+$/, "Idempotency-Key must be printable ASCII without spaces"),
  );

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
  return createHash("sha256")
    .update(JSON.stringify({ sku: input.sku, quantity: input.quantity }))
    .digest("hex");
}

type OrderRow = typeof orderTable.$inferSelect;

function confirmed(
  row: Pick<OrderRow, "id" | "sku" | "quantity" | "unitPrice" | "stockAfter" | "createdAt">,
  replayed: boolean,
): ConfirmedOrder {
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

/** The stored answer to an earlier request with this key, if any (422 if its body differed). */
async function replay(key: string, hash: string): Promise<ConfirmedOrder | undefined> {
  const [row] = await query((db) => db.select().from(orderTable).where(eq(orderTable.idempotencyKey, key)));
  if (!row) return undefined;
  if (row.requestHash !== hash) throw new IdempotencyKeyReusedError(key);
  return confirmed(row, true);
}

/**
 * What each product's restock request is made of, as last read from the database, so the
 * OutOfStock event can be prepared before the call that may open it. A stale entry costs one
 * retry: the procedure refuses to open a request whose event was built for other facts.
 */
const restockFacts = new Map<string, Restock.RestockFacts>();

/**
 * The refusal hint: the SKUs whose last answer here was out of stock. Only for them does the
 * procedure take the refusal fast path's read first; a product that sells skips it (one read less
 * per confirmed order, under the hot row's contention). A wrong guess costs nothing but that read,
 * or a refusal through the transaction path: the answer is the same.
 */
const refusalHint = new Set<string>();

/** At most this many calls: one retry for stale restock facts, a few for deadlocks. */
const MAX_ATTEMPTS = 5;

/**
 * Run `place_order` on one pooled connection. A failure to get a connection changed nothing;
 * a connection lost after the CALL was sent may have lost the COMMIT's answer rather than the
 * COMMIT, so the outcome is unknown (503 that says so; a retry with the key is safe).
 * mysql2's callback API: its promise wrapper captures a stack trace for every query (tens of
 * µs per order under load) that this one call does not need.
 */
async function callPlaceOrder(db: Database, args: PlaceOrderArguments): Promise<PlaceOrderRow> {
  const pool = db.$client.pool;
  return new Promise((resolve, reject) => {
    pool.getConnection((connectError, connection) => {
      // Refused credentials go up as they are: withCurrentCredentials reads them again and calls once more.
      if (connectError)
        return reject(isAccessDenied(connectError) ? connectError : new DependencyUnavailableError("database", connectError));
      connection.query<RowDataPacket[][]>(PLACE_ORDER_SQL, placeOrderValues(args), (error, results) => {
        if (!error) {
          connection.release();
          return resolve(results[0][0] as PlaceOrderRow);
        }
        if (isDatabaseUnavailable(error)) {
          connection.destroy();
          return reject(new DependencyUnavailableError("database", error, 2, true));
        }
        connection.release();
        reject(error);
      });
    });
  });
}

/**
 * Take `quantity` units of a product, or explain why not, in ONE database round trip: a CALL of
 * the `place_order` procedure (place-order.sql, beside this file), which commits server-side. This function owns the rule; the procedure carries it out where the row is:
 *
 * - The stock decrement is one conditional UPDATE (`stock >= quantity`), so concurrent orders
 *   can never oversell: the row lock orders them and the condition is re-checked against the
 *   latest committed stock. The order row is inserted in the same transaction, and the row lock
 *   is held only for the server-side work, never across a network round trip.
 * - Refusal fast path: when the product lacks the stock and its restock request is already
 *   open, the answer is a 409 from one plain read, with no transaction and no lock: a sell-out
 *   spike sends thousands of these while the restock is on its way. The read is taken only once
 *   this process has seen the product refuse (`refusalHint`), so a selling product skips it.
 * - Not enough stock and no open request, or stock reaching the product's reorder point: the
 *   same transaction opens the product's restock request with its OutOfStock outbox row (ids and
 *   event prepared by the Restock and Outbox modules), then 409 or 201. The event is published
 *   right after the commit.
 * - Idempotency-Key: a retry gets the stored order back (422 if the body differed); two racing
 *   retries collide on the key's unique index and the loser answers like the winner.
 */
export async function place(input: PlaceOrderInput, idempotencyKey?: string): Promise<ConfirmedOrder> {
  // Only a keyed request needs its fingerprint (to tell a retry from a reuse of the key).
  const hash = idempotencyKey ? fingerprint(input) : null;
  for (let attempt = 1; ; attempt++) {
    const now = new Date();
    const orderId = newId();
    const facts = restockFacts.get(input.sku);
    const opening = facts ? Restock.prepareOpening(facts, now) : undefined;
    let row: PlaceOrderRow;
    try {
      row = await withCurrentCredentials((db) =>
        callPlaceOrder(db, {
          sku: input.sku,
          quantity: input.quantity,
          orderId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash: hash,
          now,
          restockId: opening?.id ?? null,
          restockSku: opening?.sku ?? null,
          restockFactoryId: opening?.factoryId ?? null,
          restockQuantity: opening?.quantity ?? null,
          outboxId: opening?.event.id ?? null,
          outboxSource: opening?.event.source ?? null,
          outboxDetailType: opening?.event.detailType ?? null,
          outboxDetail: opening?.event.detail ?? null,
          refusalLikely: refusalHint.has(input.sku) ? 1 : 0,
        }),
      );
    } catch (error) {
      // Two retries with the same key raced; the loser's transaction rolled back. Answer like the winner.
      if (idempotencyKey && hash && isDuplicateKey(error, "orders_idempotency_key_unique")) {
        const previous = await replay(idempotencyKey, hash);
        if (previous) return previous;
      }
      if (isRetryable(error) && attempt < MAX_ATTEMPTS) continue;
      if (isDatabaseUnavailable(error) && !(error instanceof DependencyUnavailableError))
        throw new DependencyUnavailableError("database", error);
      throw error;
    }
    if (row.sku !== null && row.factory_id !== null && row.restock_quantity !== null) {
      restockFacts.set(input.sku, { sku: row.sku, factoryId: row.factory_id, restockQuantity: row.restock_quantity });
    }

    switch (row.outcome) {
      case "confirmed":
        refusalHint.delete(input.sku);
        if (row.restock_opened && opening) await Restock.announceOpened(opening);
        count(MetricName.OrdersConfirmed);
        count(MetricName.UnitsSold, input.quantity);
        return confirmed(
          { id: orderId, sku: row.sku!, quantity: input.quantity, unitPrice: row.unit_price!, stockAfter: row.stock!, createdAt: now },
          false,
        );
      case "replayed":
        if (row.request_hash !== hash) throw new IdempotencyKeyReusedError(idempotencyKey!);
        return confirmed(
          {
            id: row.order_id!,
            sku: row.sku!,
            quantity: row.order_quantity!,
            unitPrice: row.unit_price!,
            stockAfter: row.stock!,
            createdAt: row.order_created_at!,
          },
          true,
        );
      case "out_of_stock": {
        refusalHint.add(input.sku);
        if (row.restock_opened && opening) await Restock.announceOpened(opening);
        count(MetricName.OrdersRejectedOutOfStock);
        const restock: Restock.OpenRequest = {
          id: row.restock_id!,
          status: row.restock_status!,
          quantity: row.restock_request_quantity!,
          opened: row.restock_opened === 1,
        };
        throw new OutOfStockError(input.sku, input.quantity, row.stock!, restock);
      }
      case "not_found":
        throw new NotFoundError("PRODUCT_NOT_FOUND", `No product has SKU ${input.sku}`, { sku: input.sku });
      case "stale":
        // The product's restock facts were unknown here or changed; they are now current.
        if (attempt < MAX_ATTEMPTS) continue;
        throw new Error(`place_order: restock facts for ${input.sku} kept changing`);
    }
  }
}

/** Delete every order of these products (the demo reset: `npm run demo:reset`). Resolves to how many went. */
export async function removeForProducts(tx: Transaction, productIds: number[]): Promise<number> {
  if (productIds.length === 0) return 0;
  const [result] = await tx.delete(orderTable).where(inArray(orderTable.productId, productIds));
  return result.affectedRows;
}
