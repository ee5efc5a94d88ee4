import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_REGION, factoryQueue, offlineClock, schedules } from "@donut-states/core/topology";
import { MIN_KEY_BYTES } from "@donut-states/core/util/signing-keys";
import { z } from "zod";
import { REPO_ROOT } from "./runtime";

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const emails = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((email) => email.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.email("ALERT_EMAILS must be comma-separated e-mail addresses")).min(1, "ALERT_EMAILS needs at least one address"));

/**
 * Every knob of the offline stack, from the environment (documented in the README's
 * configuration table). Unset means the default; a bad value stops start-up with a message
 * naming the variable.
 */
export const OfflineConfigSchema = z.object({
  PORT: port(3000),
  DASHBOARD_PORT: port(3002),
  HOST: z.string().default("127.0.0.1"),
  AWS_REGION: z.string().default(DEFAULT_REGION),
  LOCAL_DIR: z.string().default(path.join(REPO_ROOT, ".local")),
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\//, "DATABASE_URL must start with mysql://")
    .optional(),
  SEED_DEMO_DATA: z.enum(["true", "false"]).default("true"),
  SQS_PORT: port(9324),
  EVENTBRIDGE_PORT: port(9325),
  SMTP_PORT: port(2525),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "SMTP_URL must start with smtp:// or smtps://")
    .optional(),
  MAIL_DIR: z.string().optional(),
  ALERT_EMAILS: emails.default(["ops@donut-states.local"]),
  FACTORY_API_URL: z.url().optional(),
  FACTORY_CALLBACK_SECRET: z.string().min(16, "FACTORY_CALLBACK_SECRET must be at least 16 characters").optional(),
  SUBSCRIPTION_TOKEN_SECRET: z
    .string()
    .refine(
      (value) => Buffer.byteLength(value, "utf8") >= MIN_KEY_BYTES,
      `SUBSCRIPTION_TOKEN_SECRET must be at least ${MIN_KEY_BYTES} bytes`,
    )
    .optional(),
  QUEUE_VISIBILITY_TIMEOUT_SECONDS: positiveInt(offlineClock.visibilityTimeoutSeconds),
  QUEUE_MAX_RECEIVE_COUNT: positiveInt(factoryQueue.maxReceiveCount),
  FACTORY_TIMEOUT_MS: positiveInt(offlineClock.factoryRequestTimeoutMs),
  RESTOCK_SLA_SECONDS: positiveInt(offlineClock.restockSlaSeconds),
  RESTOCK_PENDING_SECONDS: positiveInt(offlineClock.restockPendingSeconds),
  OUTBOX_RELAY_INTERVAL_MS: positiveInt(schedules.outboxRelay.localIntervalMs),
  WATCHDOG_INTERVAL_MS: positiveInt(schedules.restockWatchdog.localIntervalMs),
  HOUSEKEEPING_INTERVAL_MS: positiveInt(schedules.housekeeping.localIntervalMs),
  ALARM_INTERVAL_MS: positiveInt(1000),
});
export type OfflineConfig = z.infer<typeof OfflineConfigSchema>;

export function loadOfflineConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<OfflineConfig> = {},
): OfflineConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = OfflineConfigSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  return { ...result.data, ...overrides };
}

/**
 * An HMAC key of the offline stack: the variable `name` if set, else one generated on first start
 * and kept in .local/`file`, so the URLs and links handed out before a restart still work after it.
 */
function keptSecret(config: OfflineConfig, name: "FACTORY_CALLBACK_SECRET" | "SUBSCRIPTION_TOKEN_SECRET", file: string): string {
  const given = config[name];
  if (given) return given;
  const kept = path.join(config.LOCAL_DIR, file);
  if (existsSync(kept)) return readFileSync(kept, "utf8").trim();
  mkdirSync(config.LOCAL_DIR, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(kept, secret, { mode: 0o600 });
  return secret;
}

/** The factory callbacks' HMAC key (FACTORY_CALLBACK_SECRET, else kept in .local/callback-secret). */
export const callbackSecret = (config: OfflineConfig) => keptSecret(config, "FACTORY_CALLBACK_SECRET", "callback-secret");

/** The customer mail links' HMAC key (SUBSCRIPTION_TOKEN_SECRET, else kept in .local/subscription-token-secret). */
export const subscriptionTokenSecret = (config: OfflineConfig) =>
  keptSecret(config, "SUBSCRIPTION_TOKEN_SECRET", "subscription-token-secret");

/**
 * Every port of the offline stack on "any free one": for the stacks that tests, the bench and
 * the chaos run start, so they can run beside `npm start` and beside each other.
 */
export const FREE_PORTS = {
  PORT: 0,
  SQS_PORT: 0,
  EVENTBRIDGE_PORT: 0,
  DASHBOARD_PORT: 0,
  SMTP_PORT: 0,
} as const satisfies Partial<OfflineConfig>;
