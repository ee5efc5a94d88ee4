import * as Alert from "@donut-states/core/alert";
import { parseBusEvent } from "@donut-states/core/event";
import * as Restock from "@donut-states/core/restock";
import { logger } from "@donut-states/core/util/log";
import type { EventBridgeHandler } from "aws-lambda";

/**
 * The DLQ alarm went to ALARM (its rule on the default bus matched CloudWatch's state change):
 * name every restock request in the DLQ, mark each one failed, and e-mail operations what failed
 * and what to run. Throwing makes Lambda retry the event (asynchronous invocation); marking is
 * idempotent, so a retry only sends the mail again.
 */
export const handler: EventBridgeHandler<string, unknown, void> = async (event) => {
  const change = parseBusEvent(Alert.AlarmStateChange, event);
  if (change.detail.state.value !== "ALARM") return;
  const report = await Restock.followUpFactoryDeadLetterQueue();
  if (report.requests.length === 0 && report.unreadable.length === 0) {
    logger.info("the DLQ is empty again; nothing to follow up", { alarmName: change.detail.alarmName });
    return;
  }
  const mail = Restock.deadLetterMail(report, { alarmName: change.detail.alarmName, at: change.detail.state.timestamp });
  await Alert.notify(mail.subject, mail.text);
};
