import * as Order from "@donut-states/core/order";
import { apiHandler, header, json, parseJsonBody, validationError } from "./http";

/** POST /orders  body { sku, quantity }, optional Idempotency-Key header. */
export const create = apiHandler(async (event) => {
  const input = parseJsonBody(event, Order.PlaceOrderInput);
  const rawKey = header(event, "idempotency-key");
  let idempotencyKey: string | undefined;
  if (rawKey !== undefined) {
    const parsed = Order.IdempotencyKey.safeParse(rawKey);
    if (!parsed.success) throw validationError(parsed.error, "Idempotency-Key header");
    idempotencyKey = parsed.data;
  }
  const result = await Order.place(input, idempotencyKey);
  return json(201, { order: result.order, stock: result.stock }, result.replayed ? { "idempotent-replayed": "true" } : {});
});
