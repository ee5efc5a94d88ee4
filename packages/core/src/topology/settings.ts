/** The settings catalogue: every environment variable a function reads, and the defaults behind some. */

/** The AWS region of the app (SST), the offline stack's emulators and the ops CLI, unless told otherwise. */
export const DEFAULT_REGION = "ap-northeast-2";

/**
 * Every environment variable a function reads, with what it means. Readers (core's
 * `optionalEnv`, `requiredEnv`, `intEnv`, `secret`) and writers (the stacks' `appFunction()`, the
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
  PUBLIC_API_URL: "the API's base URL: of the CallbackUrl handed to the factory, and of the links in customer mails",
  FACTORY_CALLBACK_SECRET: "HMAC key of callback URLs (an SST Secret in AWS)",
  FACTORY_CALLBACK_SECRET_PREVIOUS: "while rotating the key above only: URLs signed with it stay valid (an SST Secret)",
  ALERTS_TOPIC_ARN: "where the watchdog's and the DLQ follow-up's alerts go",
  RESTOCK_SLA_SECONDS: "a requested restock without callback for this long is overdue",
  RESTOCK_PENDING_SECONDS: "a pending restock nothing touched for this long is stuck",
  FACTORY_DLQ_URL: "the factory DLQ: the admin API reports its depth, the DLQ follow-up and the watchdog read it (never delete)",
  BACK_IN_STOCK_TOPIC_ARN: "the back-in-stock topic: restock notices are published to it",
  MAIL_QUEUE_URL: "the customer mail queue: the subscription route enqueues confirmation mails on it (ids only, never an address)",
  SUBSCRIPTION_TOKEN_SECRET: "HMAC key of the links in customer mails (confirm, unsubscribe), at least 32 bytes (an SST Secret in AWS)",
  SUBSCRIPTION_TOKEN_SECRET_PREVIOUS: "while rotating the key above only: links signed with it stay valid (an SST Secret)",
  SUBSCRIPTION_COOLDOWN_SECONDS: "at most one confirmation mail per address per this long",
  SUBSCRIPTION_MAX_OPEN: "open (pending or confirmed) back-in-stock subscriptions an address may have",
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

/**
 * Back-in-stock subscriptions: the abuse limits (both kept in the database, neither visible in the
 * route's answer) and how long each part lives (docs/design.md#back-in-stock).
 */
export const subscriptionPolicy = {
  /** At most one confirmation mail per address per this long (SUBSCRIPTION_COOLDOWN_SECONDS overrides it). */
  confirmationCooldownSeconds: 10 * 60,
  /** Open (pending or confirmed) subscriptions per address (SUBSCRIPTION_MAX_OPEN overrides it). */
  maxOpenPerAddress: 20,
  /** An unconfirmed subscription expires this long after its last confirmation mail, as the link in that mail does. */
  pendingSeconds: 48 * 60 * 60,
  /** A confirmed subscription still waiting this long after it was asked for expires: an old wish is not consent to mail. */
  maxWaitDays: 365,
  /** An unsubscribe link works this long after it was made: longer than any subscription lives. */
  unsubscribeLinkDays: 400,
  /** An ended subscription (its address erased when it ended) is deleted this long after. */
  endedRetentionDays: 7,
} as const;
