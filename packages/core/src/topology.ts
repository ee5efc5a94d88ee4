/**
 * The single source of truth for the event-driven topology.
 *
 * `stacks/` (AWS, via SST) and `packages/local` (the offline stack) both read
 * these values, so a change here changes the CloudFormation template and the
 * local runtime together. Nothing else may hard-code a queue setting, the rule
 * pattern, the alarm threshold or a route.
 */

export const EVENT_SOURCE = "donut-states.sales";

export const DetailType = {
  OutOfStock: "OutOfStock",
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];

/** EventBridge rule that routes stock-outs to the factory queue. */
export const outOfStockRule = {
  name: "out-of-stock-to-factory",
  pattern: {
    source: [EVENT_SOURCE],
    "detail-type": [DetailType.OutOfStock],
  },
  /**
   * EventBridge retries a delivery to the queue for at most this long (default 24 h) before the
   * DLQ: an outage of the queue reaches the DLQ alarm within the hour.
   */
  maxEventAgeSeconds: 60 * 60,
  retryAttempts: 185,
} as const;

/** The SQS consumer that calls the legacy Factory API. */
export const factoryCaller = {
  /** Lambda timeout. The HTTP call to the factory must give up well before. */
  timeoutSeconds: 30,
  /** Give up on one factory call after this long (the factory is slow and flaky). */
  factoryRequestTimeoutMs: 10_000,
  batchSize: 10,
  /** Lambda waits up to this long to fill a batch. */
  maxBatchingWindowSeconds: 1,
  /**
   * The SQS event source's maximum concurrency: at most this many batches in flight, so a
   * backlog never floods the slow legacy factory. The offline poller runs the same number.
   */
  maxConcurrency: 2,
} as const;

export const factoryQueue = {
  name: "factory-requests",
  /** AWS recommends >= 6 x the consumer's timeout. */
  visibilityTimeoutSeconds: 6 * factoryCaller.timeoutSeconds,
  /** Deliveries before SQS moves a message to the DLQ (AWS recommends >= 5). */
  maxReceiveCount: 5,
  retentionSeconds: 4 * 24 * 60 * 60,
} as const;

export const factoryDeadLetterQueue = {
  name: "factory-requests-dlq",
  retentionSeconds: 14 * 24 * 60 * 60,
} as const;

/** CloudWatch alarm on DLQ depth that e-mails operations through SNS. */
export const dlqAlarm = {
  name: "factory-dlq-not-empty",
  metricName: "ApproximateNumberOfMessagesVisible",
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
  periodSeconds: 60,
  evaluationPeriods: 1,
} as const;

export const alertsTopic = {
  name: "operations-alerts",
} as const;

/**
 * The offline stack runs this same topology on a compressed clock, so a failing factory call
 * reaches the DLQ (and the alert e-mail) in about half a minute instead of the quarter of an
 * hour the AWS settings imply. Each value can still be overridden by an environment variable.
 */
export const offlineClock = {
  visibilityTimeoutSeconds: 5,
  factoryRequestTimeoutMs: 2_000,
  restockSlaSeconds: 60,
  /** Five offline relay intervals, and several visibility timeouts. */
  restockPendingSeconds: 30,
} as const;

/** When the restock watchdog asks for a human (AWS values; the offline stack compresses them). */
export const restockAlerts = {
  /**
   * A pending request nothing touched for this long is stuck: five runs of the outbox relay
   * (rate(1 minute)), and longer than the factory queue's visibility timeout, after which a
   * failed delivery is retried and touches the request again.
   */
  pendingSeconds: 6 * 60,
} as const;

/** Cron functions: how often they run in AWS and offline. */
export const schedules = {
  outboxRelay: { aws: "rate(1 minute)", localIntervalMs: 5_000 },
  restockWatchdog: { aws: "rate(5 minutes)", localIntervalMs: 10_000 },
} as const;

/** HTTP routes of the Sales API: route key -> handler (file#export under packages/functions/src). */
export const routes = {
  "GET /products": "packages/functions/src/api/products.list",
  "GET /products/{sku}": "packages/functions/src/api/products.get",
  "POST /orders": "packages/functions/src/api/orders.create",
  "POST /factory/callbacks/{restockId}": "packages/functions/src/factory/callback.handler",
  /** Everything else: a JSON 404/405 in our error format instead of API Gateway's bare one. */
  $default: "packages/functions/src/api/fallback.handler",
} as const;
export type RouteKey = keyof typeof routes;
