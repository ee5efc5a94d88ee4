import * as Product from "@donut-states/core/product";
import * as Subscription from "@donut-states/core/subscription";
import { apiHandler, json, parseJsonBody, pathParam } from "./http";

/**
 * POST /products/{sku}/subscriptions {"email"}: 202, SNS mails the address a confirmation link;
 * nothing is sent to it before the owner confirms. Repeating the request answers 202 again.
 */
export const create = apiHandler(async (event) => {
  const sku = pathParam(event, "sku", Product.Sku);
  const { email } = parseJsonBody(event, Subscription.SubscriptionRequest);
  return json(202, { subscription: await Subscription.subscribe(sku, email) });
});
