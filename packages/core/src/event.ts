import * as z from "./util/zod";
import { DetailType, EVENT_SOURCE } from "./topology";

/** An event type: its EventBridge detail-type and the schema of its detail. */
export interface EventDefinition<Type extends string, Schema extends z.ZodMiniType> {
  source: typeof EVENT_SOURCE;
  type: Type;
  schema: Schema;
}

function defineEvent<Type extends string, Schema extends z.ZodMiniType>(type: Type, schema: Schema): EventDefinition<Type, Schema> {
  return { source: EVENT_SOURCE, type, schema };
}

export const Events = {
  /** A product ran out (or fell to its reorder point) and a restock request was opened. One per request. */
  OutOfStock: defineEvent(
    DetailType.OutOfStock,
    z.object({
      restockId: z.string().check(z.minLength(1)),
      sku: z.string().check(z.minLength(1)),
      quantity: z.number().check(z.int(), z.positive()),
      factoryId: z.string().check(z.minLength(1)),
      occurredAt: z.iso.datetime(),
    }),
  ),
};

export type OutOfStockDetail = z.infer<typeof Events.OutOfStock.schema>;

/** The EventBridge envelope as delivered to targets (e.g. an SQS message body). */
export const EventEnvelope = z.object({
  version: z.string(),
  id: z.string(),
  "detail-type": z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
