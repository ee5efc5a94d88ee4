/**
 * Simulator settings from environment variables (used by `npm run factory`).
 * Parsed strictly: a typo like FACTORY_FAILURE_RATE=50 (meant 50%) should
 * stop startup with a clear message, not silently mean "always fail".
 */
import {
  CALLBACK_MODES,
  type CallbackMode,
  DEFAULT_OPTIONS,
  FAILURE_STATUSES,
  type FactorySimulatorConfig,
  type FailureStatus,
} from "./options";
import { OUTAGE_MODES, type OutageMode } from "./records";

type Env = Record<string, string | undefined>;

const INT = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

interface Rule<T> {
  variable: string;
  allowed: string;
  parse: (raw: string) => T | undefined;
}

function int(min: number, max: number) {
  return (raw: string) => {
    const n = Number(raw);
    return INT.test(raw) && n >= min && n <= max ? n : undefined;
  };
}

const rate = (raw: string) => (DECIMAL.test(raw) && Number(raw) <= 1 ? Number(raw) : undefined);

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string) => ((values as readonly string[]).includes(raw) ? (raw as T) : undefined);
}

/** "CP-1, CP-2": every item non-empty, so a stray comma is an error rather than a silent no-op. */
function skuList(raw: string): string[] | undefined {
  const skus = raw.split(",").map((sku) => sku.trim());
  return skus.every((sku) => sku.length > 0 && sku.length <= 64) ? skus : undefined;
}

const RULES = {
  port: { variable: "FACTORY_PORT", allowed: "an integer 0-65535 (0 = any free port)", parse: int(0, 65535) },
  host: { variable: "FACTORY_HOST", allowed: "a hostname or IP address", parse: (raw: string) => raw },
  delayMs: { variable: "FACTORY_DELAY_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  failureRate: { variable: "FACTORY_FAILURE_RATE", allowed: "a number from 0 to 1 (e.g. 0.2)", parse: rate },
  failureStatus: {
    variable: "FACTORY_FAILURE_STATUS",
    allowed: `one of ${FAILURE_STATUSES.join(", ")}`,
    parse: (raw: string) => FAILURE_STATUSES.find((status) => String(status) === raw) as FailureStatus | undefined,
  },
  timeoutRate: { variable: "FACTORY_TIMEOUT_RATE", allowed: "a number from 0 to 1 (e.g. 0.2)", parse: rate },
  hangMs: { variable: "FACTORY_HANG_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  answerDelayMs: { variable: "FACTORY_ANSWER_DELAY_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  answerDelayRate: { variable: "FACTORY_ANSWER_DELAY_RATE", allowed: "a number from 0 to 1 (e.g. 0.2)", parse: rate },
  rejectSkus: { variable: "FACTORY_REJECT_SKUS", allowed: "comma-separated SKUs (e.g. CP-502101,CP-502102)", parse: skuList },
  outageMode: { variable: "FACTORY_OUTAGE_MODE", allowed: `one of ${OUTAGE_MODES.join(", ")}`, parse: oneOf<OutageMode>(OUTAGE_MODES) },
  outageMs: { variable: "FACTORY_OUTAGE_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  outageAfterMs: { variable: "FACTORY_OUTAGE_AFTER_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  callback: { variable: "FACTORY_CALLBACK", allowed: `one of ${CALLBACK_MODES.join(", ")}`, parse: oneOf<CallbackMode>(CALLBACK_MODES) },
  callbackRetries: { variable: "FACTORY_CALLBACK_RETRIES", allowed: "an integer 0-10", parse: int(0, 10) },
} satisfies { [K in keyof FactorySimulatorConfig]: Rule<FactorySimulatorConfig[K]> };

/** Names of every variable read, for docs and `--help`-style output. */
export const FACTORY_ENV_VARS = Object.values(RULES).map((r) => r.variable);

/**
 * Reads FACTORY_* variables; unset or blank means the default. Throws one
 * Error listing every bad variable with its allowed values.
 */
export function loadFactoryConfig(env: Env = process.env): FactorySimulatorConfig {
  const config = { ...DEFAULT_OPTIONS } as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, rule] of Object.entries(RULES) as [string, Rule<unknown>][]) {
    const raw = env[rule.variable]?.trim();
    if (raw === undefined || raw === "") continue;
    const value = rule.parse(raw);
    if (value === undefined) problems.push(`${rule.variable} must be ${rule.allowed} (got ${JSON.stringify(raw)})`);
    else config[key] = value;
  }
  if (problems.length > 0) throw new Error(`Invalid factory simulator environment: ${problems.join("; ")}`);
  // Only the settings (DEFAULT_OPTIONS has no functions, but say so rather than rely on it).
  return Object.fromEntries(Object.keys(RULES).map((key) => [key, config[key]])) as unknown as FactorySimulatorConfig;
}
