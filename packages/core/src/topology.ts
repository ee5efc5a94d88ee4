// Long by design, for now: every topology concern (events, queues, rules, alarms, settings, functions) in the one source of truth.
/**
 * The single source of truth for the event-driven topology.
 *
 * `stacks/` (AWS, via SST) and `packages/local` (the offline stack) both read
 * these values, so a change here changes the CloudFormation template and the
 * local runtime together. Nothing else may hard-code a queue setting, the rule
 * pattern, the alarm threshold or a route.
 */

export const EVENT_SOURCE = "donut-states.sales";

/** The AWS region of the app (SST), the offline stack's emulators and the ops CLI, unless told otherwise. */
export const DEFAULT_REGION = "ap-northeast-2";

export const DetailType = {
  OutOfStock: "OutOfStock",
  RestockRequested: "RestockRequested",
  RestockFulfilled: "RestockFulfilled",
  RestockFailed: "RestockFailed",
  RestockOverdue: "RestockOverdue",
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
 * Back-in-stock notifications. A customer's subscription IS an SNS e-mail subscription on this
 * topic (nothing about it is kept in our database): its filter policy names the SKU, SNS's own
 * confirmation mail is the double opt-in, and every mail SNS sends carries its unsubscribe link.
 * The notifier publishes one message per restock with the SKU in the message attribute the
 * filter policies read, so SNS delivers it only to that SKU's subscribers.
 */
export const backInStockTopic = {
  name: "back-in-stock",
  /** The sender's name of every mail SNS sends for the topic, its confirmation mail included. */
  displayName: "Donut-States",
  /** The message attribute the notifier sets and every subscription's filter policy reads. */
  skuAttribute: "sku",
} as const;

/** The filter policy of one SKU's subscriptions: exact match on the SKU attribute. */
export const backInStockFilterPolicy = (sku: string) => ({ [backInStockTopic.skuAttribute]: [sku] });

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
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly failedEvents: {
    readonly queueName: string;
    readonly retentionSeconds: number;
    /** On the queue's depth, like the DLQ alarm: one message is enough to e-mail operations. */
    readonly alarm: {
      readonly name: string;
      readonly metricName: "ApproximateNumberOfMessagesVisible";
      readonly threshold: number;
      readonly comparison: "GreaterThanOrEqualToThreshold";
      readonly periodSeconds: number;
      readonly evaluationPeriods: number;
    };
  };
}

/** RestockFulfilled events to the back-in-stock notifier. */
export const backInStockRule = {
  name: "restock-fulfilled-to-back-in-stock",
  pattern: {
    source: [EVENT_SOURCE],
    "detail-type": [DetailType.RestockFulfilled],
  },
  failedEvents: {
    queueName: "back-in-stock-failed-events",
    /** SQS's longest: a notice is worth sending late, and the fix may take days. */
    retentionSeconds: 14 * 24 * 60 * 60,
    alarm: {
      name: "back-in-stock-failed-events",
      metricName: "ApproximateNumberOfMessagesVisible",
      threshold: 1,
      comparison: "GreaterThanOrEqualToThreshold",
      periodSeconds: 60,
      evaluationPeriods: 1,
    },
  },
} as const satisfies BusRule;

/**
 * The bus keeps every event of ours in an EventBridge archive, so the events of an outage can be
 * replayed (docs/runbook.md, "Replaying OutOfStock events"). Retention in days, by stage.
 */
export const eventArchive = {
  name: "sales-events",
  pattern: { source: [EVENT_SOURCE] },
  retentionDays: { prod: 30, other: 7 },
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
  /** A `requested` request without callback for this long is overdue (RESTOCK_SLA_SECONDS overrides it). */
  slaSeconds: 4 * 60 * 60,
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

/**
 * Every environment variable a function reads, with what it means. Readers (core's
 * `optionalEnv`, `requiredEnv`, `intEnv`, `secret`) and writers (the stacks' `lambda()`, the
 * offline stack) accept only these names, so a renamed setting fails to type-check everywhere.
 * The README's "Functions" table documents them for operators.
 */
export const functionSettings = {
  DATABASE_URL: "the database (offline, tests, `sst dev` stages through the SST Secret of that name)",
  DATABASE_SECRET_ARN: "deployed stages: the RDS-generated credentials in Secrets Manager",
  DATABASE_HOST: "deployed stages: the RDS Proxy endpoint",
  DATABASE_NAME: "deployed stages: the schema",
  DATABASE_TLS: '"true": connect with TLS (RDS Proxy requires it)',
  DATABASE_POOL_SIZE: "MySQL connections per container or process",
  DATABASE_ADMIN_SECRET_ARN:
    "deployed stages, the migrate function only: the administrator's credentials, which create the application user",
  DATABASE_CONNECT_TIMEOUT_MS: "give up connecting to the database after this",
  MIGRATIONS_FOLDER: "where the migrate function finds the SQL migrations (copied beside its bundle)",
  SEED_DEMO_DATA: '"true": the migrations also insert the demo catalogue where it is missing',
  EVENT_BUS_NAME: "where the events go (docs/events.md)",
  OUTBOX_PUBLISH_BUDGET_MS: "how long a sale waits for its own after-commit publish",
  FACTORY_API_URL: "the legacy Factory API (a factory row's api_url overrides it)",
  FACTORY_REQUESTER: "MessageAttributeRequester sent to the factory",
  FACTORY_TIMEOUT_MS: "give up on one factory call after this",
  PUBLIC_API_URL: "base of the CallbackUrl handed to the factory",
  FACTORY_CALLBACK_SECRET: "HMAC key of callback URLs (an SST Secret in AWS)",
  FACTORY_CALLBACK_SECRET_PREVIOUS: "while rotating the key above only: URLs signed with it stay valid (an SST Secret)",
  ALERTS_TOPIC_ARN: "where the watchdog's and the DLQ follow-up's alerts go",
  RESTOCK_SLA_SECONDS: "a requested restock without callback for this long is overdue",
  RESTOCK_PENDING_SECONDS: "a pending restock nothing touched for this long is stuck",
  FACTORY_DLQ_URL: "the factory DLQ: the admin API reports its depth, the DLQ follow-up and the watchdog read it (never delete)",
  BACK_IN_STOCK_TOPIC_ARN: "the back-in-stock topic: customers' e-mail subscriptions are made on it, restock notices published to it",
} as const;
export type FunctionSetting = keyof typeof functionSettings;
/** Values for some of the settings, as a stack or the offline stack sets them. */
export type FunctionEnvironment = Partial<Record<FunctionSetting, string>>;

/** What every function that uses the database reads. */
export const DATABASE_SETTINGS = [
  "DATABASE_URL",
  "DATABASE_SECRET_ARN",
  "DATABASE_HOST",
  "DATABASE_NAME",
  "DATABASE_TLS",
  "DATABASE_POOL_SIZE",
  "DATABASE_CONNECT_TIMEOUT_MS",
] as const satisfies readonly FunctionSetting[];

/** What starts a function: an HTTP route, the factory queue, a schedule, an alarm's state change, a rule on our bus, or a deploy. */
export type FunctionTrigger =
  | { alarm: typeof dlqAlarm.name }
  | { route: string }
  | { busRule: BusRule }
  | { queue: typeof factoryQueue.name }
  | { schedule: (typeof schedules)[keyof typeof schedules] }
  | { deploy: true };

export interface FunctionDefinition {
  /** file#export under the repository root, as SST and the offline runtimes load it. */
  handler: string;
  timeoutSeconds: number;
  trigger: FunctionTrigger;
  /** Every setting the handler reads (the database's included when it uses one). */
  reads: readonly FunctionSetting[];
}

/**
 * Every function of the app. The stacks (stacks/Api.ts, Restock.ts, Database.ts) and the
 * offline stack (packages/local) both build their functions from this table: handler, timeout,
 * trigger and the settings each one gets.
 */
export const functions = {
  listProducts: {
    handler: "packages/functions/src/api/products.list",
    timeoutSeconds: 10,
    trigger: { route: "GET /products" },
    reads: [...DATABASE_SETTINGS],
  },
  getProduct: {
    handler: "packages/functions/src/api/products.get",
    timeoutSeconds: 10,
    trigger: { route: "GET /products/{sku}" },
    reads: [...DATABASE_SETTINGS],
  },
  createOrder: {
    handler: "packages/functions/src/api/orders.create",
    timeoutSeconds: 10,
    trigger: { route: "POST /orders" },
    reads: [...DATABASE_SETTINGS, "EVENT_BUS_NAME", "OUTBOX_PUBLISH_BUDGET_MS"],
  },
  factoryCallback: {
    handler: "packages/functions/src/factory/callback.handler",
    timeoutSeconds: 10,
    trigger: { route: "POST /factory/callbacks/{restockId}" },
    reads: [
      ...DATABASE_SETTINGS,
      "FACTORY_CALLBACK_SECRET",
      "FACTORY_CALLBACK_SECRET_PREVIOUS",
      "EVENT_BUS_NAME",
      "OUTBOX_PUBLISH_BUDGET_MS",
    ],
  },
  /** A customer asks to be e-mailed when a product is back (an SNS e-mail subscription). */
  subscribeBackInStock: {
    handler: "packages/functions/src/api/subscriptions.create",
    timeoutSeconds: 10,
    trigger: { route: "POST /products/{sku}/subscriptions" },
    reads: [...DATABASE_SETTINGS, "BACK_IN_STOCK_TOPIC_ARN"],
  },
  /** Everything else: a JSON 404/405 in our error format instead of API Gateway's bare one. */
  fallback: {
    handler: "packages/functions/src/api/fallback.handler",
    timeoutSeconds: 10,
    trigger: { route: "$default" },
    reads: [],
  },
  factoryCaller: {
    handler: "packages/functions/src/factory/caller.handler",
    timeoutSeconds: factoryCaller.timeoutSeconds,
    trigger: { queue: factoryQueue.name },
    reads: [
      ...DATABASE_SETTINGS,
      "FACTORY_API_URL",
      "FACTORY_REQUESTER",
      "FACTORY_TIMEOUT_MS",
      "PUBLIC_API_URL",
      "FACTORY_CALLBACK_SECRET",
      "EVENT_BUS_NAME",
      "OUTBOX_PUBLISH_BUDGET_MS",
    ],
  },
  outboxRelay: {
    handler: "packages/functions/src/outbox/relay.handler",
    timeoutSeconds: 60,
    trigger: { schedule: schedules.outboxRelay },
    reads: [...DATABASE_SETTINGS, "EVENT_BUS_NAME"],
  },
  restockWatchdog: {
    handler: "packages/functions/src/restock/watchdog.handler",
    timeoutSeconds: 60,
    trigger: { schedule: schedules.restockWatchdog },
    reads: [
      ...DATABASE_SETTINGS,
      "ALERTS_TOPIC_ARN",
      "RESTOCK_SLA_SECONDS",
      "RESTOCK_PENDING_SECONDS",
      "EVENT_BUS_NAME",
      "OUTBOX_PUBLISH_BUDGET_MS",
      "FACTORY_DLQ_URL",
    ],
  },
  /** The DLQ alarm's follow-up, run by a rule on the default bus when the alarm enters ALARM. */
  dlqFollowUp: {
    handler: "packages/functions/src/restock/dlq-follow-up.handler",
    timeoutSeconds: dlqAlarmFollowUp.timeoutSeconds,
    trigger: { alarm: dlqAlarm.name },
    reads: [...DATABASE_SETTINGS, "FACTORY_DLQ_URL", "ALERTS_TOPIC_ARN"],
  },
  /** Publishes a restock's back-in-stock notice to the topic, with the SKU attribute the filter policies read. */
  backInStockNotifier: {
    handler: "packages/functions/src/subscription/back-in-stock.handler",
    timeoutSeconds: 30,
    trigger: { busRule: backInStockRule },
    reads: ["BACK_IN_STOCK_TOPIC_ARN"],
  },
  migrate: {
    handler: "packages/functions/src/database/migrate.handler",
    timeoutSeconds: 5 * 60,
    trigger: { deploy: true },
    reads: [...DATABASE_SETTINGS, "DATABASE_ADMIN_SECRET_ARN", "MIGRATIONS_FOLDER", "SEED_DEMO_DATA"],
  },
} as const satisfies Record<string, FunctionDefinition>;
export type FunctionName = keyof typeof functions;

type Functions = typeof functions;
type RouteOf<Name extends FunctionName> = Functions[Name]["trigger"] extends { route: infer Route extends string } ? Route : never;
/** The Sales API's route keys, from the functions table. */
export type RouteKey = { [Name in FunctionName]: RouteOf<Name> }[FunctionName];

/** HTTP routes of the Sales API: route key -> handler (derived from `functions`). */
export const routes = Object.fromEntries(
  Object.values(functions as Record<string, FunctionDefinition>).flatMap((fn) =>
    "route" in fn.trigger ? [[fn.trigger.route, fn.handler]] : [],
  ),
) as Record<RouteKey, string>;

/** The function a route runs. */
export const routeFunctions = Object.fromEntries(
  (Object.entries(functions) as Array<[FunctionName, FunctionDefinition]>).flatMap(([name, fn]) =>
    "route" in fn.trigger ? [[fn.trigger.route, name]] : [],
  ),
) as Record<RouteKey, FunctionName>;

/**
 * The admin API: operator routes on the same HTTP API, each behind API Gateway's AWS_IAM
 * authorizer (a SigV4-signed request from a principal whose IAM policy allows
 * execute-api:Invoke on the route). The offline gateway checks the same signature against the
 * offline credentials. The ops CLI calls these for a deployed stage and offline alike.
 */
export const adminRoutes = {
  "GET /admin/products": "packages/functions/src/admin/products.list",
  "POST /admin/products": "packages/functions/src/admin/products.create",
  "PATCH /admin/products/{sku}": "packages/functions/src/admin/products.update",
  "PUT /admin/products/{sku}/stock": "packages/functions/src/admin/stock.set",
  "GET /admin/products/{sku}/stock": "packages/functions/src/admin/stock.history",
  "POST /admin/products/{sku}/restock": "packages/functions/src/admin/restocks.open",
  "GET /admin/restocks": "packages/functions/src/admin/restocks.list",
  "POST /admin/restocks/{restockId}/re-request": "packages/functions/src/admin/restocks.reRequest",
  "GET /admin/outbox": "packages/functions/src/admin/outbox.summary",
  "GET /admin/dlq": "packages/functions/src/admin/dlq.depth",
} as const;
export type AdminRouteKey = keyof typeof adminRoutes;

/** What an admin function reads: the database, and what its work needs. */
const adminReads = (route: AdminRouteKey): readonly FunctionSetting[] =>
  route === "GET /admin/dlq"
    ? ["FACTORY_DLQ_URL"]
    : route === "POST /admin/products/{sku}/restock" || route === "POST /admin/restocks/{restockId}/re-request"
      ? [...DATABASE_SETTINGS, "EVENT_BUS_NAME", "OUTBOX_PUBLISH_BUDGET_MS"]
      : [...DATABASE_SETTINGS];

/** The admin routes' functions, in the shape of the `functions` table (the stacks build them with it). */
export const adminFunctions = Object.fromEntries(
  (Object.entries(adminRoutes) as Array<[AdminRouteKey, string]>).map(([route, handler]) => [
    route,
    { handler, timeoutSeconds: 10, trigger: { route }, reads: adminReads(route) } satisfies FunctionDefinition,
  ]),
) as Record<AdminRouteKey, FunctionDefinition>;

/** Every route the HTTP API serves: the public Sales API and the admin API. */
export const allRoutes = { ...routes, ...adminRoutes } as const;

/**
 * The fixed credentials of the offline stack: the emulators accept them, the offline gateway
 * verifies admin requests' SigV4 signatures against them, and the ops CLI signs with them when
 * it talks to the offline stack. Not a secret: nothing offline is reachable from elsewhere.
 */
export const offlineCredentials = {
  accessKeyId: "local",
  secretAccessKey: "local",
  accountId: "000000000000",
} as const;
