/**
 * Simulator knobs: types, defaults and validation. Shared by the programmatic
 * API, POST /_sim/config and (indirectly) the env config, so a bad value is
 * rejected the same way everywhere.
 */
import { z } from "zod";
import { formatIssues } from "./contract";
import { OUTAGE_MODES, type OutageMode, type SimEvent, type SimOutage } from "./records";

export const CALLBACK_MODES = ["once", "twice", "never"] as const;
export type CallbackMode = (typeof CALLBACK_MODES)[number];

/** What a simulated failure answers: a server error, or one of the 4xx a caller should retry (timeout, throttling). */
export const FAILURE_STATUSES = [500, 502, 503, 504, 408, 429] as const;
export type FailureStatus = (typeof FAILURE_STATUSES)[number];

export interface FactorySimulatorOptions {
  /** Listen port; 0 picks a free port (read the real one from `url`). */
  port: number;
  host: string;
  /** Wait before the (first) callback. */
  delayMs: number;
  /** Probability (0..1) of answering `failureStatus` instead of accepting. */
  failureRate: number;
  failureStatus: FailureStatus;
  /** The body of that answer, sent as it is (text/plain); default a JSON error. Whatever a real factory might answer. */
  failureBody?: string;
  /** Probability (0..1) of never answering: hold the socket `hangMs`, then close it. */
  timeoutRate: number;
  hangMs: number;
  /** Wait before answering an accepted request (its callbacks are already scheduled): a 2xx slower than the caller's timeout. */
  answerDelayMs: number;
  /** Probability (0..1) that an accepted request's answer waits `answerDelayMs` (1: every one). */
  answerDelayRate: number;
  /** SKUs (MessageAttributeProductId) this factory refuses with a 400 that says why: a permanent refusal. */
  rejectSkus: readonly string[];
  /** How the factory is down during an outage: refused connections, or 503 to every call. */
  outageMode: OutageMode;
  /** Start-time only: an outage of this long (0: none), `outageAfterMs` after startup. */
  outageMs: number;
  outageAfterMs: number;
  /** "twice" resends the same callback delayMs/2 after the first one was delivered. */
  callback: CallbackMode;
  /** Extra attempts after a network error or 5xx from the receiver; 4xx is final. */
  callbackRetries: number;
  /** Injectable RNG (defaults to Math.random) so chaos is deterministic in tests. */
  random?: () => number;
  /** Observer for every logged request and callback attempt (the CLI prints them). */
  onEvent?: (event: SimEvent) => void;
  /** Observer called when an outage starts and when it ends (`endedAt` set). */
  onOutage?: (outage: SimOutage) => void;
}

/** Settings fixed once started: where it listens, and the outage scheduled at startup. */
type StartTimeOnly = "port" | "host" | "outageMs" | "outageAfterMs";

/** What can change while running. */
export type FactorySimulatorKnobs = Omit<FactorySimulatorOptions, StartTimeOnly>;

/** JSON view of the current settings (GET/POST /_sim/config, setOptions()). */
export interface FactorySimulatorConfig {
  port: number;
  host: string;
  delayMs: number;
  failureRate: number;
  failureStatus: FailureStatus;
  timeoutRate: number;
  hangMs: number;
  answerDelayMs: number;
  answerDelayRate: number;
  rejectSkus: readonly string[];
  outageMode: OutageMode;
  outageMs: number;
  outageAfterMs: number;
  callback: CallbackMode;
  callbackRetries: number;
}

export const DEFAULT_OPTIONS: Readonly<FactorySimulatorOptions> = Object.freeze({
  port: 3001,
  host: "127.0.0.1",
  delayMs: 3000,
  failureRate: 0,
  failureStatus: 500,
  timeoutRate: 0,
  hangMs: 60_000,
  answerDelayMs: 0,
  answerDelayRate: 1,
  rejectSkus: Object.freeze([]) as readonly string[],
  outageMode: "refuse",
  outageMs: 0,
  outageAfterMs: 0,
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
  failureStatus: z.union(FAILURE_STATUSES.map((status) => z.literal(status))),
  timeoutRate: rate,
  hangMs: ms,
  answerDelayMs: ms,
  answerDelayRate: rate,
  rejectSkus: z.array(z.string().trim().min(1).max(64)).max(1000),
  outageMode: z.enum(OUTAGE_MODES),
  callback: z.enum(CALLBACK_MODES),
  callbackRetries: z.number().int().min(0).max(10),
};

// Strict objects so a typo ("failRate") is an error rather than a silent no-op.
const httpKnobsSchema = z.strictObject(serializableKnobs).partial();
const allKnobs = {
  ...serializableKnobs,
  failureBody: z.string(),
  random: fn<() => number>(),
  onEvent: fn<(e: SimEvent) => void>(),
  onOutage: fn<(o: SimOutage) => void>(),
};
const knobsSchema = z.strictObject(allKnobs).partial();
const startSchema = z
  .strictObject({ ...allKnobs, port: z.number().int().min(0).max(65535), host: z.string().min(1), outageMs: ms, outageAfterMs: ms })
  .partial();

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
    failureStatus: o.failureStatus,
    timeoutRate: o.timeoutRate,
    hangMs: o.hangMs,
    answerDelayMs: o.answerDelayMs,
    answerDelayRate: o.answerDelayRate,
    rejectSkus: [...o.rejectSkus],
    outageMode: o.outageMode,
    outageMs: o.outageMs,
    outageAfterMs: o.outageAfterMs,
    callback: o.callback,
    callbackRetries: o.callbackRetries,
  };
}

/** An outage to start now: how long, and how the factory is down (default: the `outageMode` knob). */
export interface OutageRequest {
  ms: number;
  mode?: OutageMode;
}

const outageRequestSchema = z.strictObject({ ms: ms.min(1), mode: z.enum(OUTAGE_MODES).optional() });

/** Validates an outage request (startOutage(), POST /_sim/outage); throws Error on a bad value. */
export function parseOutageRequest(input: unknown): OutageRequest {
  const parsed = outageRequestSchema.safeParse(input);
  if (!parsed.success) throw new Error(`Invalid outage: ${formatIssues(parsed.error)}`);
  return definedOnly(parsed.data) as OutageRequest;
}
