import * as Product from "@donut-states/core/product";
import * as Subscription from "@donut-states/core/subscription";
import { apiHandler, json, parseJsonBody, pathParam } from "./http";

/**
 * POST /products/{sku}/subscriptions {"email"}: 202 and the same body whatever the address's
 * state (new, pending, confirmed, waiting for other products, over its limits); a confirmation
 * mail is enqueued when one is due. Nothing is sent to the address before its owner confirms.
 */
export const create = apiHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  const { email } = parseJsonBody(event, Subscription.SubscriptionRequest);
  const requested = await Subscription.request(sku, email);
  return json(202, { subscription: { sku: requested.sku, email: requested.email, status: requested.status } });
});
