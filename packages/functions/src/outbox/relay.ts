import * as Outbox from "@donut-states/core/outbox";
import type { ScheduledHandler } from "aws-lambda";

/**
 * Cron: publish outbox rows whose after-commit publish did not happen (crash, bus outage,
 * PutEvents partial failure). Rows are claimed with SKIP LOCKED, so overlapping runs are safe.
 */
export const handler: ScheduledHandler = async () => {
  const report = await Outbox.publishPending({ limit: 500 });
  if (report.failed > 0) {
    // Fail the invocation so the error metric and its alarm notice a bus that stays down.
    throw new Error(`outbox relay: ${report.failed} event(s) still unpublished: ${report.errors.slice(0, 3).join("; ")}`);
  }
};
