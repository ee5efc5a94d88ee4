import * as Alert from "@donut-states/core/alert";
import * as Restock from "@donut-states/core/restock";
import { restockAlerts } from "@donut-states/core/topology";
import { intEnv } from "@donut-states/core/util/config";
import { logger } from "@donut-states/core/util/log";
import { count, gauge, MetricName } from "@donut-states/core/util/metrics";
import type { ScheduledHandler } from "aws-lambda";

/**
 * A pending request that stopped moving may be one whose last delivery met a database outage:
 * its message went to the DLQ but its failure was never recorded. The DLQ alarm's follow-up marks
 * such requests failed, but only when the alarm enters ALARM; one that arrives while the alarm is
 * already in ALARM brings no new state change. So, when there is a new stuck request, look in the
 * DLQ (without consuming it) the same way. True if any request was marked failed; false, with
 * an error logged, if the DLQ could not be read.
 */
async function markDeadLettersFailed(): Promise<boolean> {
  try {
    const report = await Restock.followUpFactoryDeadLetterQueue();
    return report.requests.some((request) => request.markedNow);
  } catch (error) {
    // The database's view is this function's job: a DLQ it cannot read must not silence it.
    // The stuck request is reported as stuck instead; its fix (a re-request) is right either way.
    logger.error("could not read the factory DLQ; stuck requests are reported as stuck", { error });
    return false;
  }
}

/**
 * Cron: the database's view of what needs a human, whatever happened to the messages. Reports
 * each failed request, each request the factory never called back for within
 * RESTOCK_SLA_SECONDS, each pending request untouched for RESTOCK_PENDING_SECONDS, and each
 * product sold out with no open request: once each, with the command that fixes it. A stuck
 * request whose message is in the DLQ is marked failed first, and reported as failed. A report
 * is remembered only after SNS accepted it, so a failed publish is retried on the next run.
 * The RestockNeedsAttention metric (all current problems, reported or not) feeds an alarm.
 */
export const handler: ScheduledHandler = async () => {
  const thresholds = {
    slaSeconds: intEnv("RESTOCK_SLA_SECONDS", restockAlerts.slaSeconds, { min: 1 }),
    pendingSeconds: intEnv("RESTOCK_PENDING_SECONDS", restockAlerts.pendingSeconds, { min: 1 }),
  };
  let current = await Restock.findAttention(thresholds);
  let fresh = await Restock.unreported(current);
  if (fresh.some((item) => item.kind === "stuck-pending") && (await markDeadLettersFailed())) {
    current = await Restock.findAttention(thresholds);
    fresh = await Restock.unreported(current);
  }
  gauge(MetricName.RestockNeedsAttention, current.length);
  if (fresh.length === 0) return;

  const failures: unknown[] = [];
  for (const kind of Restock.ATTENTION_KINDS) {
    const items = fresh.filter((item) => item.kind === kind);
    if (items.length === 0) continue;
    logger.warn("restock needs attention", {
      kind,
      restockIds: items.flatMap((item) => item.restockId ?? []),
      skus: items.map((item) => item.sku),
    });
    const mail = Restock.attentionMail(kind, items, thresholds);
    try {
      await Alert.notify(mail.subject, mail.text);
    } catch (error) {
      // Not remembered: the next run reports these again. The other kinds still go out.
      logger.error("could not publish the restock alert; retrying on the next run", { kind, error });
      failures.push(error);
      continue;
    }
    await Restock.markReported(items);
    if (kind === "overdue") count(MetricName.RestockOverdue, items.length);
  }
  if (failures.length) throw new AggregateError(failures, `${failures.length} restock alert(s) not published`);
};
