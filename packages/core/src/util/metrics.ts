import { MetricUnit, Metrics } from "@aws-lambda-powertools/metrics";

/**
 * Business and pipeline metrics as CloudWatch Embedded Metric Format log lines (no API calls,
 * no extra latency). Namespace DonutStates; the stacks' dashboard and alarms read these names.
 * Each is flushed at once (singleMetric), so nothing depends on a per-invocation flush.
 * POWERTOOLS_METRICS_DISABLED=true silences them (tests, and the offline stack by default).
 */
export const METRICS_NAMESPACE = "DonutStates";

export const MetricName = {
  OrdersConfirmed: "OrdersConfirmed",
  UnitsSold: "UnitsSold",
  OrdersRejectedOutOfStock: "OrdersRejectedOutOfStock",
  RestockOpened: "RestockOpened",
  RestockRequested: "RestockRequested",
  RestockFulfilled: "RestockFulfilled",
  RestockFailed: "RestockFailed",
  RestockOverdue: "RestockOverdue",
  FactoryCallLatency: "FactoryCallLatency",
  FactoryCallErrors: "FactoryCallErrors",
  OutboxPublished: "OutboxPublished",
  OutboxPublishFailures: "OutboxPublishFailures",
  OutboxLag: "OutboxLag",
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "donut-states" });

export function count(name: MetricName, value = 1): void {
  if (value <= 0) return;
  metrics.singleMetric().addMetric(name, MetricUnit.Count, value);
}

export function milliseconds(name: MetricName, value: number): void {
  metrics.singleMetric().addMetric(name, MetricUnit.Milliseconds, value);
}
