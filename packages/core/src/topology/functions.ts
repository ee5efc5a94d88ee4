/**
 * Every function of the app: handler, timeout, trigger, the settings it reads and what it may do.
 * The stacks (stacks/Api.ts, BackInStock.ts, Restock.ts, Database.ts) and the offline stack
 * (packages/local) both build their functions from this table; the route tables derive from it.
 */

import { dlqAlarm } from "./alarms";
import { ALL_DETAIL_TYPES, DetailType } from "./events";
import { type BusRule, backInStockRule, dlqAlarmFollowUp, factoryCaller, factoryQueue } from "./messaging";
import { DATABASE_SETTINGS, type FunctionSetting } from "./settings";

/** Cron functions: how often they run in AWS and offline. */
export const schedules = {
  outboxRelay: { aws: "rate(1 minute)", localIntervalMs: 5_000 },
  restockWatchdog: { aws: "rate(5 minutes)", localIntervalMs: 10_000 },
  housekeeping: { aws: "rate(1 hour)", localIntervalMs: 60_000 },
} as const;

/**
 * What starts a function: an HTTP route (behind the AWS_IAM authorizer for the admin API), the
 * factory queue, a schedule, an alarm's state change, a rule on our bus, or a deploy.
 */
export type FunctionTrigger =
  | { alarm: typeof dlqAlarm.name }
  | { route: string; authorizer?: "iam" }
  | { busRule: BusRule }
  | { queue: typeof factoryQueue.name }
  | { schedule: (typeof schedules)[keyof typeof schedules] }
  | { deploy: true };

/**
 * What a function may do besides reading its settings (the database and the secrets those imply
 * follow from `reads`, a trigger's own permissions from the trigger). stacks/grants.ts maps each
 * grant to its IAM statements on this stage's resources; statements follow the declared order.
 */
export interface FunctionGrants {
  /** events:PutEvents on our bus, for events of our source with exactly these detail types. */
  readonly putEvents?: readonly DetailType[];
  /** sns:Publish on the alerts topic. */
  readonly publishAlerts?: true;
  /** sqs:ReceiveMessage and sqs:ChangeMessageVisibility on the factory DLQ: reads it without consuming it. */
  readonly peekDlq?: true;
  /** sqs:GetQueueAttributes on the factory DLQ (its depth). */
  readonly dlqDepth?: true;
  /** sqs:SendMessage on the customer mail queue. */
  readonly sendMail?: true;
  /** sns:Publish on the back-in-stock topic (its policy denies everyone else). */
  readonly publishBackInStock?: true;
}

export interface FunctionDefinition {
  /** file#export under the repository root, as SST and the offline runtimes load it. */
  handler: string;
  timeoutSeconds: number;
  trigger: FunctionTrigger;
  /** Every setting the handler reads (the database's included when it uses one). */
  reads: readonly FunctionSetting[];
  /** Every permission it needs beyond those; `{}` for none. */
  grants: FunctionGrants;
}

/** The HTTP API's functions (public and admin routes) answer within this. */
const API_TIMEOUT_SECONDS = 10;

export const functions = {
  listProducts: {
    handler: "packages/functions/src/api/products.list",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /products" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  getProduct: {
    handler: "packages/functions/src/api/products.get",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /products/{sku}" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  /** A sale that brings the product to its reorder point opens a restock request: OutOfStock. */
  createOrder: {
    handler: "packages/functions/src/api/orders.create",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /orders" },
    reads: [...DATABASE_SETTINGS, "EVENT_BUS_NAME", "OUTBOX_PUBLISH_BUDGET_MS"],
    grants: { putEvents: [DetailType.OutOfStock] },
  },
  factoryCallback: {
    handler: "packages/functions/src/factory/callback.handler",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /factory/callbacks/{restockId}" },
    reads: [
      ...DATABASE_SETTINGS,
      "FACTORY_CALLBACK_SECRET",
      "FACTORY_CALLBACK_SECRET_PREVIOUS",
      "EVENT_BUS_NAME",
      "OUTBOX_PUBLISH_BUDGET_MS",
    ],
    grants: { putEvents: [DetailType.RestockFulfilled] },
  },
  /** A customer asks to be e-mailed once when a product is back: a pending subscription, and its confirmation mail enqueued. */
  subscribeBackInStock: {
    handler: "packages/functions/src/api/subscriptions.create",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /products/{sku}/subscriptions" },
    reads: [...DATABASE_SETTINGS, "MAIL_QUEUE_URL", "SUBSCRIPTION_COOLDOWN_SECONDS", "SUBSCRIPTION_MAX_OPEN"],
    grants: { sendMail: true },
  },
  /** The link in the confirmation mail: an HTML page; confirms the subscription (idempotent). */
  confirmSubscription: {
    handler: "packages/functions/src/api/subscription-links.confirm",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /subscriptions/confirm" },
    reads: [...DATABASE_SETTINGS, "SUBSCRIPTION_TOKEN_SECRET", "SUBSCRIPTION_TOKEN_SECRET_PREVIOUS"],
    grants: {},
  },
  /** The unsubscribe link opened in a browser: a page whose button POSTs to the same URL; changes nothing. */
  unsubscribePage: {
    handler: "packages/functions/src/api/subscription-links.unsubscribePage",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /subscriptions/unsubscribe" },
    reads: [...DATABASE_SETTINGS, "SUBSCRIPTION_TOKEN_SECRET", "SUBSCRIPTION_TOKEN_SECRET_PREVIOUS"],
    grants: {},
  },
  /** RFC 8058 one-click unsubscribe (and the page's button): ends the subscription (idempotent). */
  unsubscribe: {
    handler: "packages/functions/src/api/subscription-links.unsubscribe",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /subscriptions/unsubscribe" },
    reads: [...DATABASE_SETTINGS, "SUBSCRIPTION_TOKEN_SECRET", "SUBSCRIPTION_TOKEN_SECRET_PREVIOUS"],
    grants: {},
  },
  /** Everything else: a JSON 404/405 in our error format instead of API Gateway's bare one. */
  fallback: {
    handler: "packages/functions/src/api/fallback.handler",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "$default" },
    reads: [],
    grants: {},
  },

  // The admin API: operator routes on the same HTTP API, each behind API Gateway's AWS_IAM
  // authorizer (a SigV4-signed request from a principal whose IAM policy allows
  // execute-api:Invoke on the route). The offline gateway checks the same signature against the
  // offline credentials. The ops CLI calls these for a deployed stage and offline alike.
  adminListProducts: {
    handler: "packages/functions/src/admin/products.list",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /admin/products", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  adminCreateProduct: {
    handler: "packages/functions/src/admin/products.create",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /admin/products", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  adminUpdateProduct: {
    handler: "packages/functions/src/admin/products.update",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "PATCH /admin/products/{sku}", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  adminSetStock: {
    handler: "packages/functions/src/admin/stock.set",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "PUT /admin/products/{sku}/stock", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  adminStockHistory: {
    handler: "packages/functions/src/admin/stock.history",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /admin/products/{sku}/stock", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  /** Opens a request for a product sold out with none open: OutOfStock, published after commit. */
  adminOpenRestock: {
    handler: "packages/functions/src/admin/restocks.open",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /admin/products/{sku}/restock", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS, "EVENT_BUS_NAME", "OUTBOX_PUBLISH_BUDGET_MS"],
    grants: { putEvents: [DetailType.OutOfStock] },
  },
  adminListRestocks: {
    handler: "packages/functions/src/admin/restocks.list",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /admin/restocks", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  /** Asks the factory again: a fresh OutOfStock, published after commit. */
  adminReRequestRestock: {
    handler: "packages/functions/src/admin/restocks.reRequest",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "POST /admin/restocks/{restockId}/re-request", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS, "EVENT_BUS_NAME", "OUTBOX_PUBLISH_BUDGET_MS"],
    grants: { putEvents: [DetailType.OutOfStock] },
  },
  adminOutboxSummary: {
    handler: "packages/functions/src/admin/outbox.summary",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /admin/outbox", authorizer: "iam" },
    reads: [...DATABASE_SETTINGS],
    grants: {},
  },
  /** The DLQ's depth, from SQS alone (no database). */
  adminDlqDepth: {
    handler: "packages/functions/src/admin/dlq.depth",
    timeoutSeconds: API_TIMEOUT_SECONDS,
    trigger: { route: "GET /admin/dlq", authorizer: "iam" },
    reads: ["FACTORY_DLQ_URL"],
    grants: { dlqDepth: true },
  },

  /** Calls the factory for each OutOfStock: RestockRequested when it accepts, RestockFailed after the last refusal. */
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
    grants: { putEvents: [DetailType.RestockRequested, DetailType.RestockFailed] },
  },
  /** Republishes any outbox row whose after-commit publish did not happen: every detail type of ours. */
  outboxRelay: {
    handler: "packages/functions/src/outbox/relay.handler",
    timeoutSeconds: 60,
    trigger: { schedule: schedules.outboxRelay },
    reads: [...DATABASE_SETTINGS, "EVENT_BUS_NAME"],
    grants: { putEvents: ALL_DETAIL_TYPES },
  },
  /**
   * Mails operations what needs them; records overdue requests (RestockOverdue) and marks failed
   * a stuck request whose message it finds in the DLQ (RestockFailed).
   */
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
    grants: { publishAlerts: true, putEvents: [DetailType.RestockOverdue, DetailType.RestockFailed], peekDlq: true },
  },
  /**
   * The DLQ alarm's follow-up, run by a rule on the default bus when the alarm enters ALARM. The
   * RestockFailed events it commits reach the bus through the outbox relay (no EVENT_BUS_NAME).
   */
  dlqFollowUp: {
    handler: "packages/functions/src/restock/dlq-follow-up.handler",
    timeoutSeconds: dlqAlarmFollowUp.timeoutSeconds,
    trigger: { alarm: dlqAlarm.name },
    reads: [...DATABASE_SETTINGS, "FACTORY_DLQ_URL", "ALERTS_TOPIC_ARN"],
    grants: { peekDlq: true, publishAlerts: true },
  },
  /** Periodic clean-ups: expires unconfirmed and stale subscriptions, deletes ended ones and spent abuse-limit records. */
  housekeeping: {
    handler: "packages/functions/src/housekeeping/purge.handler",
    timeoutSeconds: 60,
    trigger: { schedule: schedules.housekeeping },
    reads: [...DATABASE_SETTINGS, "SUBSCRIPTION_COOLDOWN_SECONDS"],
    grants: {},
  },
  /** Publishes a restock's back-in-stock notice to the topic, with the SKU in a message attribute. */
  backInStockNotifier: {
    handler: "packages/functions/src/subscription/back-in-stock.handler",
    timeoutSeconds: 30,
    trigger: { busRule: backInStockRule },
    reads: ["BACK_IN_STOCK_TOPIC_ARN"],
    grants: { publishBackInStock: true },
  },
  migrate: {
    handler: "packages/functions/src/database/migrate.handler",
    timeoutSeconds: 5 * 60,
    trigger: { deploy: true },
    reads: [...DATABASE_SETTINGS, "DATABASE_ADMIN_SECRET_ARN", "MIGRATIONS_FOLDER", "SEED_DEMO_DATA"],
    grants: {},
  },
} as const satisfies Record<string, FunctionDefinition>;
export type FunctionName = keyof typeof functions;

type Functions = typeof functions;
type TriggerOf<Name extends FunctionName> = Functions[Name]["trigger"];
type PublicRouteOf<Name extends FunctionName> =
  TriggerOf<Name> extends { authorizer: "iam" } ? never : TriggerOf<Name> extends { route: infer Route extends string } ? Route : never;
type AdminRouteOf<Name extends FunctionName> =
  TriggerOf<Name> extends { route: infer Route extends string; authorizer: "iam" } ? Route : never;
/** The Sales API's route keys, from the functions table. */
export type RouteKey = { [Name in FunctionName]: PublicRouteOf<Name> }[FunctionName];
/** The admin API's route keys, from the functions table. */
export type AdminRouteKey = { [Name in FunctionName]: AdminRouteOf<Name> }[FunctionName];

/** [name, definition] of every function a route runs, public or admin. */
export function routeFunctionEntries(): Array<[FunctionName, FunctionDefinition & { trigger: { route: string; authorizer?: "iam" } }]> {
  return (Object.entries(functions) as Array<[FunctionName, FunctionDefinition]>).flatMap(([name, fn]) =>
    "route" in fn.trigger ? [[name, fn as FunctionDefinition & { trigger: { route: string; authorizer?: "iam" } }]] : [],
  );
}

const routeTable = (admin: boolean) =>
  Object.fromEntries(
    routeFunctionEntries()
      .filter(([, fn]) => (fn.trigger.authorizer === "iam") === admin)
      .map(([, fn]) => [fn.trigger.route, fn.handler]),
  );

/** HTTP routes of the Sales API: route key -> handler. */
export const routes = routeTable(false) as Record<RouteKey, string>;

/** The admin API's routes (behind AWS_IAM): route key -> handler. */
export const adminRoutes = routeTable(true) as Record<AdminRouteKey, string>;

/** Every route the HTTP API serves: the public Sales API and the admin API. */
export const allRoutes = { ...routes, ...adminRoutes } as const;
