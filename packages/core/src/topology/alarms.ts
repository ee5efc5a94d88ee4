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

/** CloudWatch alarm on DLQ depth that e-mails operations through SNS. */
export const dlqAlarm = {
  name: "factory-dlq-not-empty",
  metricName: "ApproximateNumberOfMessagesVisible",
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
  periodSeconds: 60,
  evaluationPeriods: 1,
} as const satisfies QueueDepthAlarm;

/** On the back-in-stock rule's failed-events queue, like the DLQ alarm. */
export const backInStockFailedEventsAlarm = {
  name: "back-in-stock-failed-events",
  metricName: "ApproximateNumberOfMessagesVisible",
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
  periodSeconds: 60,
  evaluationPeriods: 1,
} as const satisfies QueueDepthAlarm;

/** The names of the other alarms (their metrics and thresholds are AWS-only: stacks/Monitoring.ts). */
export const alarmNames = {
  factoryQueueOldestMessageAge: "factory-queue-oldest-message-age",
  factoryCallerErrors: "factory-caller-errors",
  outboxRelayErrors: "outbox-relay-errors",
  restockWatchdogErrors: "restock-watchdog-errors",
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
