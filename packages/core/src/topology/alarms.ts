/**
 * Every CloudWatch alarm of the app, by name (AWS prefixes each with `<stage>-donut-states-`).
 * The stacks (stacks/Monitoring.ts) create them; the offline stack runs the two queue-depth
 * alarms, whose whole definition is here.
 */

/** A queue-depth alarm: one visible message is enough to e-mail operations. */
export interface QueueDepthAlarm {
  readonly name: string;
  readonly metricName: "ApproximateNumberOfMessagesVisible";
  readonly threshold: number;
  readonly comparison: "GreaterThanOrEqualToThreshold";
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
}

/** A queue-depth alarm that e-mails operations as soon as one message is visible, for a minute. */
const oneMessageAlarm = <const Name extends string>(name: Name) =>
  ({
    name,
    metricName: "ApproximateNumberOfMessagesVisible",
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
    periodSeconds: 60,
    evaluationPeriods: 1,
  }) as const satisfies QueueDepthAlarm;

/** On the factory DLQ: a restock request that cannot be delivered. */
export const dlqAlarm = oneMessageAlarm("factory-dlq-not-empty");

/** On the back-in-stock rule's failed-events queue: a notice not sent. */
export const backInStockFailedEventsAlarm = oneMessageAlarm("back-in-stock-failed-events");

/** The names of the other alarms (their metrics and thresholds are AWS-only: stacks/Monitoring.ts). */
export const alarmNames = {
  factoryQueueOldestMessageAge: "factory-queue-oldest-message-age",
  factoryCallerErrors: "factory-caller-errors",
  outboxRelayErrors: "outbox-relay-errors",
  restockWatchdogErrors: "restock-watchdog-errors",
  housekeepingErrors: "housekeeping-errors",
  dlqFollowUpErrors: "dlq-follow-up-errors",
  backInStockNotifierErrors: "back-in-stock-notifier-errors",
  apiServerErrors: "api-5xx",
  outOfStockRuleFailedToDlq: "out-of-stock-rule-failed-to-dlq",
  restockNeedsAttention: "restock-needs-attention",
  databaseFreeStorage: "database-free-storage",
  databaseCpu: "database-cpu",
  databaseConnections: "database-connections",
  proxyClientConnections: "proxy-client-connections",
  proxyPinnedSessions: "proxy-pinned-sessions",
} as const;

/** The throttle alarm of a public route's function: "POST /orders" -> "route-postorders-throttles". */
export function routeThrottlesAlarmName(routeKey: string): string {
  return `route-${(routeKey.toLowerCase().match(/[a-z0-9]+/g) ?? []).join("")}-throttles`;
}
