import type { ScheduledHandler } from "aws-lambda";
import { Alert } from "@donut-states/core/alert";
import { Restock } from "@donut-states/core/restock";
import { intEnv } from "@donut-states/core/util/config";
import { logger } from "@donut-states/core/util/log";

/**
 * Cron: the factory may never call back. A request `requested` for longer than
 * RESTOCK_SLA_SECONDS (default 4 h) is reported to operations once, with how to re-request it.
 */
export const handler: ScheduledHandler = async () => {
  const slaSeconds = intEnv("RESTOCK_SLA_SECONDS", 4 * 60 * 60, { min: 1 });
  const overdue = await Restock.takeOverdue(slaSeconds);
  if (overdue.length === 0) return;
  logger.warn("restock requests overdue", { restockIds: overdue.map((request) => request.id), slaSeconds });
  const lines = overdue.map(
    (request) =>
      `- ${request.id}  ${request.sku}  x${request.quantity}  factory ${request.factoryId}  requested ${request.requestedAt?.toISOString()}  attempts ${request.attempts}`,
  );
  await Alert.notify(
    `Restock overdue: ${overdue.length} request(s) without factory callback`,
    [
      `The legacy factory accepted these restock requests but has not called back within ${slaSeconds} s:`,
      "",
      ...lines,
      "",
      "Check with the factory first (it may still deliver). To ask again:",
      ...overdue.map((request) => `  npm run ops -- restock re-request ${request.id}`),
      "",
      "A late callback for the first request is still applied once; duplicates change nothing.",
      "Runbook: docs/runbook.md#restock-overdue",
    ].join("\n"),
  );
};
