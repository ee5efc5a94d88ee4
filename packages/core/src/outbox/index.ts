export * as Outbox from "./index";

import { ulid } from "ulid";
import type { z } from "zod";
import type { EventDefinition } from "../event";
import type { Transaction } from "../drizzle";
import { outboxTable } from "./outbox.sql";

export { outboxTable };

/**
 * Record an event in the same transaction as the change that caused it. Validates the detail
 * against the event's schema so a malformed event can never be committed.
 * Returns the outbox row id, which is also the event's id downstream.
 */
export async function enqueue<Schema extends z.ZodType>(
  tx: Transaction,
  event: EventDefinition<string, Schema>,
  detail: z.input<Schema>,
): Promise<string> {
  const id = ulid();
  const parsed = event.schema.parse(detail);
  await tx.insert(outboxTable).values({
    id,
    source: event.source,
    detailType: event.type,
    detail: JSON.stringify(parsed),
  });
  return id;
}
