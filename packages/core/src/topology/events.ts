/** Our events: their source, their detail types (docs/events.md) and the archive that keeps them. */

export const EVENT_SOURCE = "donut-states.sales";

export const DetailType = {
  OutOfStock: "OutOfStock",
  RestockRequested: "RestockRequested",
  RestockFulfilled: "RestockFulfilled",
  RestockFailed: "RestockFailed",
  RestockOverdue: "RestockOverdue",
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];

/** Every detail type of ours (what the outbox relay may republish). */
export const ALL_DETAIL_TYPES: readonly DetailType[] = Object.values(DetailType);

/**
 * The bus keeps every event of ours in an EventBridge archive, so the events of an outage can be
 * replayed (docs/runbook.md, "Replaying OutOfStock events"). Retention in days, by stage.
 */
export const eventArchive = {
  name: "sales-events",
  pattern: { source: [EVENT_SOURCE] },
  retentionDays: { prod: 30, other: 7 },
} as const;
