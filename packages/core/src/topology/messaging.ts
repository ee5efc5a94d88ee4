/** Queues, topics and the rules that route events to them or to functions. */

import { backInStockFailedEventsAlarm, type QueueDepthAlarm } from "./alarms";
import { DetailType, EVENT_SOURCE } from "./events";

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

/** What CloudWatch puts on the account's default event bus when an alarm changes state. */
export const ALARM_STATE_CHANGE = { source: "aws.cloudwatch", detailType: "CloudWatch Alarm State Change" } as const;

/**
 * When the DLQ alarm goes to ALARM, a rule on the default bus (where CloudWatch sends alarm state
 * changes) runs the follow-up function: it reads the DLQ without consuming it, marks each restock
 * request it finds there failed, and e-mails operations which requests failed and what to run.
 */
export const dlqAlarmFollowUp = {
  name: "factory-dlq-alarm-follow-up",
  /** The rule's pattern for the DLQ alarm as it is named on the stage (prefixed in AWS). */
  pattern: (alarmName: string) => ({
    source: [ALARM_STATE_CHANGE.source],
    "detail-type": [ALARM_STATE_CHANGE.detailType],
    detail: { alarmName: [alarmName], state: { value: ["ALARM"] } },
  }),
  timeoutSeconds: 60,
  /** At most this many DLQ messages are read (and their requests marked failed) per run. */
  maxMessages: 100,
  /**
   * Seconds a peeked message stays hidden if the function dies before making it visible again
   * (it does so at once otherwise): short, so the alarm never sees an empty DLQ for long.
   */
  peekHoldSeconds: 5,
} as const;

export const alertsTopic = {
  name: "operations-alerts",
} as const;

/**
 * Back-in-stock notifications: the notifier publishes one message per restock, with the SKU in a
 * message attribute. Customers' subscriptions are ours (the `subscription` table), not the topic's.
 */
export const backInStockTopic = {
  name: "back-in-stock",
  /** The sender's name of what SNS sends for the topic. */
  displayName: "Donut-States",
  /** The message attribute the notifier sets. */
  skuAttribute: "sku",
} as const;

/**
 * The customer mail queue: every mail we send a customer is a message here, carrying ids only
 * (a subscription's, a restock's), never an address. The subscription route enqueues each
 * confirmation mail.
 */
export const mailQueue = {
  name: "customer-mail",
  /** Deliveries before SQS moves a message to the mail DLQ (AWS recommends >= 5). */
  maxReceiveCount: 5,
  retentionSeconds: 4 * 24 * 60 * 60,
} as const;

export const mailDeadLetterQueue = {
  name: "customer-mail-dlq",
  retentionSeconds: 14 * 24 * 60 * 60,
} as const;

/**
 * A rule on our bus that runs a function (EventBridge's SNS targets cannot set message attributes).
 *
 * Nothing it carries is dropped: an event the function still fails on after Lambda's two retries
 * (its on-failure destination), or that EventBridge cannot deliver to the function at all (the
 * rule target's dead-letter queue), lands in the rule's failed-events queue. An alarm on that
 * queue's depth e-mails operations, and the runbook replays what it holds.
 */
export interface BusRule {
  readonly name: string;
  /** What it does, for the AWS rule's description. */
  readonly description: string;
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly failedEvents: {
    readonly queueName: string;
    readonly retentionSeconds: number;
    readonly alarm: QueueDepthAlarm;
  };
}

/** RestockFulfilled events to the back-in-stock notifier. */
export const backInStockRule = {
  name: "restock-fulfilled-to-back-in-stock",
  description: "RestockFulfilled: e-mail the product's back-in-stock subscribers",
  pattern: {
    source: [EVENT_SOURCE],
    "detail-type": [DetailType.RestockFulfilled],
  },
  failedEvents: {
    queueName: "back-in-stock-failed-events",
    /** SQS's longest: a notice is worth sending late, and the fix may take days. */
    retentionSeconds: 14 * 24 * 60 * 60,
    alarm: backInStockFailedEventsAlarm,
  },
} as const satisfies BusRule;
