/**
 * Simulator knobs: types, defaults and validation. Shared by the programmatic
 * API, POST /_sim/config and (indirectly) the env config, so a bad value is
 * rejected the same way everywhere.
 */
import { z } from "zod";
import { formatIssues } from "./contract";
import type { SimEvent } from "./records";

export const CALLBACK_MODES = ["once", "twice", "never"] as const;
export type CallbackMode = (typeof CALLBACK_MODES)[number];

export interface FactorySimulatorOptions {
  /** Listen port; 0 picks a free port (read the real one from `url`). */
  port: number;
  host: string;
  /** Wait before the (first) callback. */
  delayMs: number;
  /** Probability (0..1) of answering HTTP 500 instead of accepting. */
  failureRate: number;
  /** The body of that 500, sent as it is (text/plain); default a JSON error. Whatever a real factory might answer. */
  failureBody?: string;
  /** Probability (0..1) of never answering: hold the socket `hangMs`, then close it. */
  timeoutRate: number;
  hangMs: number;
  /** Wait before answering an accepted request (its callbacks are already scheduled): a 2xx slower than the caller's timeout. */
  answerDelayMs: number;
  /** "twice" resends the same callback delayMs/2 after the first one was delivered. */
  callback: CallbackMode;
  /** Extra attempts after a network error or 5xx from the receiver; 4xx is final. */
  callbackRetries: number;
  /** Injectable RNG (defaults to Math.random) so chaos is deterministic in tests. */
  random?: () => number;
  /** Observer for every logged request and callback attempt (the CLI prints them). */
  onEvent?: (event: SimEvent) => void;
}

/** What can change while running (port/host are fixed once listening). */
export type FactorySimulatorKnobs = Omit<FactorySimulatorOptions, "port" | "host">;

/** JSON view of the current settings (GET/POST /_sim/config, setOptions()). */
export interface FactorySimulatorConfig {
  port: number;
  host: string;
  delayMs: number;
  failureRate: number;
  timeoutRate: number;
  hangMs: number;
  answerDelayMs: number;
  callback: CallbackMode;
  callbackRetries: number;
}

export const DEFAULT_OPTIONS: Readonly<FactorySimulatorOptions> = Object.freeze({
  port: 3001,
  host: "127.0.0.1",
  delayMs: 3000,
  failureRate: 0,
  timeoutRate: 0,
  hangMs: 60_000,
  answerDelayMs: 0,
  callback: "once",
  callbackRetries: 2,
});

// setTimeout silently clamps larger values to 1 ms, which would turn a long
// "hang" into an instant one; reject them instead.
const MAX_TIMER_MS = 2_147_483_647;
const ms = z.number().int().min(0).max(MAX_TIMER_MS);
const rate = z.number().min(0).max(1);
const fn = <T>() => z.custom<T>((v) => typeof v === "function", { message: "must be a function" });

const serializableKnobs = {
  delayMs: ms,
  failureRate: rate,
  timeoutRate: rate,
  hangMs: ms,
  answerDelayMs: ms,
  callback: z.enum(CALLBACK_MODES),
  callbackRetries: z.number().int().min(0).max(10),
};

// Strict objects so a typo ("failRate") is an error rather than a silent no-op.
const httpKnobsSchema = z.strictObject(serializableKnobs).partial();
const allKnobs = { ...serializableKnobs, failureBody: z.string(), random: fn<() => number>(), onEvent: fn<(e: SimEvent) => void>() };
const knobsSchema = z.strictObject(allKnobs).partial();
const startSchema = z.strictObject({ ...allKnobs, port: z.number().int().min(0).max(65535), host: z.string().min(1) }).partial();

// `{ random: undefined }` must mean "keep the default", not "overwrite with undefined".
function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseWith<T extends object>(schema: z.ZodType<T>, input: unknown, what: string): Partial<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new Error(`Invalid ${what}: ${formatIssues(parsed.error)}`);
  return definedOnly(parsed.data);
}

/** Full options for startFactorySimulator; throws Error on any invalid value. */
export function resolveOptions(input: Partial<FactorySimulatorOptions> = {}): FactorySimulatorOptions {
  return { ...DEFAULT_OPTIONS, ...parseWith(startSchema, definedOnly(input), "factory simulator options") };
}

/** Validates a runtime change from code (functions allowed). */
export function parseKnobs(input: unknown): Partial<FactorySimulatorKnobs> {
  return parseWith(knobsSchema, input, "factory simulator options");
}

/** Validates a runtime change from HTTP (JSON-serializable knobs only). */
export function parseHttpKnobs(input: unknown): Partial<FactorySimulatorKnobs> {
  return parseWith(httpKnobsSchema, input, "config");
}

export function toConfig(o: FactorySimulatorOptions): FactorySimulatorConfig {
  return {
    port: o.port,
    host: o.host,
    delayMs: o.delayMs,
    failureRate: o.failureRate,
    timeoutRate: o.timeoutRate,
    hangMs: o.hangMs,
    answerDelayMs: o.answerDelayMs,
    callback: o.callback,
    callbackRetries: o.callbackRetries,
  };
}
