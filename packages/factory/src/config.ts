/**
 * Simulator settings from environment variables (used by `npm run factory`).
 * Parsed strictly: a typo like FACTORY_FAILURE_RATE=50 (meant 50%) should
 * stop startup with a clear message, not silently mean "always fail".
 */
import { CALLBACK_MODES, type CallbackMode, DEFAULT_OPTIONS, type FactorySimulatorConfig } from "./options";

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

const RULES = {
  port: { variable: "FACTORY_PORT", allowed: "an integer 0-65535 (0 = any free port)", parse: int(0, 65535) },
  host: { variable: "FACTORY_HOST", allowed: "a hostname or IP address", parse: (raw: string) => raw },
  delayMs: { variable: "FACTORY_DELAY_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  failureRate: { variable: "FACTORY_FAILURE_RATE", allowed: "a number from 0 to 1 (e.g. 0.2)", parse: rate },
  timeoutRate: { variable: "FACTORY_TIMEOUT_RATE", allowed: "a number from 0 to 1 (e.g. 0.2)", parse: rate },
  hangMs: { variable: "FACTORY_HANG_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  answerDelayMs: { variable: "FACTORY_ANSWER_DELAY_MS", allowed: "whole milliseconds >= 0", parse: int(0, 2_147_483_647) },
  callback: {
    variable: "FACTORY_CALLBACK",
    allowed: `one of ${CALLBACK_MODES.join(", ")}`,
    parse: (raw: string) => ((CALLBACK_MODES as readonly string[]).includes(raw) ? (raw as CallbackMode) : undefined),
  },
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
  const { port, host, delayMs, failureRate, timeoutRate, hangMs, answerDelayMs, callback, callbackRetries } =
    config as unknown as FactorySimulatorConfig;
  return { port, host, delayMs, failureRate, timeoutRate, hangMs, answerDelayMs, callback, callbackRetries };
}
