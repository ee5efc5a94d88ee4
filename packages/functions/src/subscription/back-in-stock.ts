import { Events, parseBusEvent } from "@donut-states/core/event";
// The notice alone, not the subscription index: its bundle then carries no database client.
import * as Subscription from "@donut-states/core/subscription/notice";
import type { EventBridgeHandler } from "aws-lambda";

/**
 * A restock arrived (the rule on our bus matched RestockFulfilled): publish its back-in-stock
 * notice to the topic, with the SKU attribute the subscriptions' filter policies read. A rule's
 * SNS target cannot set message attributes, hence this function. Throwing makes Lambda retry the
 * event (asynchronous invocation).
 */
export const handler: EventBridgeHandler<string, unknown, void> = async (event) => {
  const { detail } = parseBusEvent(Events.RestockFulfilled, event);
  await Subscription.announceBackInStock(detail);
};
