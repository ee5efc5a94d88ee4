import { DetailType, EVENT_SOURCE } from "./topology";
import { summarizeIssues } from "./util/error";
import * as z from "./util/zod";

/**
 * Every event this system puts on its bus, with the schema of its detail. Each one is written
 * to the transactional outbox in the same transaction as the change it announces (see
 * docs/events.md), and validated against its schema before it is written.
 *
 * Versioning: a detail-type is a contract. Within it, changes are additive only (a new field;
 * consumers ignore fields they do not know, as these schemas do). A change that would break a
 * consumer (a field removed, renamed or given another meaning) is a new detail-type, published
 * beside the old one until its consumers moved.
 */

/** An event on a bus: its source, its EventBridge detail-type and the schema of its detail. */
export interface BusEventDefinition<Schema extends z.ZodMiniType = z.ZodMiniType> {
  source: string;
  type: string;
  schema: Schema;
}

/** One of our events (source `donut-states.sales`). */
export interface EventDefinition<Type extends string, Schema extends z.ZodMiniType> extends BusEventDefinition<Schema> {
  source: typeof EVENT_SOURCE;
  type: Type;
}

function defineEvent<Type extends string, Schema extends z.ZodMiniType>(type: Type, schema: Schema): EventDefinition<Type, Schema> {
  return { source: EVENT_SOURCE, type, schema };
}

const text = () => z.string().check(z.minLength(1));
const units = () => z.number().check(z.int(), z.positive());
const timestamp = () => z.iso.datetime();

export const Events = {
  /** A product ran out (or fell to its reorder point) and a restock request was opened. One per request (and per re-request). */
  OutOfStock: defineEvent(
    DetailType.OutOfStock,
    z.object({
      restockId: text(),
      sku: text(),
      quantity: units(),
      factoryId: text(),
      occurredAt: timestamp(),
    }),
  ),
  /** The legacy factory accepted a restock request (answered 2xx): production is under way. */
  RestockRequested: defineEvent(
    DetailType.RestockRequested,
    z.object({
      restockId: text(),
      sku: text(),
      quantity: units(),
      factoryId: text(),
      /** Which factory call this was (1 for the first; a redrive or re-request calls again). */
      attempt: units(),
      occurredAt: timestamp(),
    }),
  ),
  /** The factory called back and the request's units were added to stock. Once per request. */
  RestockFulfilled: defineEvent(
    DetailType.RestockFulfilled,
    z.object({
      restockId: text(),
      sku: text(),
      /** The product's name in the catalogue. */
      name: text(),
      /** Units added. */
      quantity: units(),
      /** The product's stock right after they were added. */
      stock: z.number().check(z.int(), z.nonnegative()),
      occurredAt: timestamp(),
    }),
  ),
  /** The request could not be handed to the factory (its message went to the DLQ); it waits for operations. */
  RestockFailed: defineEvent(
    DetailType.RestockFailed,
    z.object({
      restockId: text(),
      sku: text(),
      quantity: units(),
      /** Factory calls made for it. */
      attempts: z.number().check(z.int(), z.nonnegative()),
      lastError: z.nullable(z.string()),
      occurredAt: timestamp(),
    }),
  ),
  /** The factory accepted the request but has not called back within the restock SLA. Once per overdue spell. */
  RestockOverdue: defineEvent(
    DetailType.RestockOverdue,
    z.object({
      restockId: text(),
      sku: text(),
      quantity: units(),
      requestedAt: timestamp(),
      occurredAt: timestamp(),
    }),
  ),
};

export type EventName = keyof typeof Events;
export type OutOfStockDetail = z.infer<typeof Events.OutOfStock.schema>;
export type RestockRequestedDetail = z.infer<typeof Events.RestockRequested.schema>;
export type RestockFulfilledDetail = z.infer<typeof Events.RestockFulfilled.schema>;
export type RestockFailedDetail = z.infer<typeof Events.RestockFailed.schema>;
export type RestockOverdueDetail = z.infer<typeof Events.RestockOverdue.schema>;

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

/** An event that is not the one its consumer handles: not JSON, not an EventBridge envelope, another type, or a detail its schema refuses. */
export class BusEventError extends Error {
  override name = "BusEventError";
}

/** An EventBridge event whose detail passed its schema. */
export type BusEvent<Schema extends z.ZodMiniType> = Omit<EventEnvelope, "detail"> & { detail: z.infer<Schema> };

/**
 * Parse an event as a bus delivers it (to a Lambda function, or as an SQS message's body: the
 * JSON text) and check that it is `definition`'s: its source, detail-type and detail. Every
 * consumer of a bus parses its events here, so a bad one fails with the same clear error.
 */
export function parseBusEvent<Schema extends z.ZodMiniType>(definition: BusEventDefinition<Schema>, raw: unknown): BusEvent<Schema> {
  const expected = `${definition.type} from ${definition.source}`;
  let body = raw;
  if (typeof raw === "string") {
    try {
      body = JSON.parse(raw);
    } catch {
      throw new BusEventError(`expected an EventBridge event (${expected}), got text that is not JSON: ${raw.slice(0, 80)}`);
    }
  }
  const envelope = EventEnvelope.safeParse(body);
  if (!envelope.success)
    throw new BusEventError(`expected an EventBridge event (${expected}), got no envelope: ${summarizeIssues(envelope.error)}`);
  const { id, source, "detail-type": type } = envelope.data;
  if (source !== definition.source || type !== definition.type)
    throw new BusEventError(`event ${id} is ${type} from ${source}; expected ${expected}`);
  const detail = definition.schema.safeParse(envelope.data.detail);
  if (!detail.success) throw new BusEventError(`event ${id} (${type}) has an invalid detail: ${summarizeIssues(detail.error)}`);
  return { ...envelope.data, detail: detail.data };
}
