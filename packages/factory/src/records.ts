/** Shapes of the simulator's observable logs (also served by GET /_sim/*), and what they add up to. */

export const REQUEST_OUTCOMES = ["accepted", "rejected", "failed", "timed-out", "unavailable"] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** One request received on a non-/_sim path. */
export interface SimRequest {
  id: string;
  /** ISO timestamp of arrival (before the body was read). */
  receivedAt: string;
  method: string;
  path: string;
  /** Parsed JSON when the body parsed, otherwise the raw text ("" when empty). */
  body: unknown;
  /** `unavailable`: answered 503 during an outage in `unavailable` mode. */
  outcome: RequestOutcome;
  /** HTTP status answered; null for "timed-out" (no response is ever sent). */
  status: number | null;
  /** Why it was rejected/failed; null when accepted. */
  message: string | null;
  /**
   * When the answer was written. Null while an accepted answer is held back, and for good when
   * none was sent: a hang, a caller seen to hang up before a late answer, an outage that dropped
   * the connection.
   */
  answeredAt: string | null;
  /** True when an accepted request's 202 was held back on purpose (answerDelayMs, or answers held). */
  answerDelayed: boolean;
}

/** One callback POST attempt (retries are separate entries). */
export interface SimCallback {
  requestId: string;
  url: string;
  sentAt: string;
  /** Receiver's HTTP status; null when the attempt failed at the network level. */
  status: number | null;
  /** Network/timeout error text; null when the receiver answered at all. */
  error: string | null;
  /** 1 for the first try, 2+ for retries of the same delivery. */
  attempt: number;
  /** 1, or 2 for the duplicate sent in callback "twice" mode. */
  delivery: number;
}

export const OUTAGE_MODES = ["refuse", "unavailable"] as const;
/**
 * `refuse`: the port is closed, so callers get ECONNREFUSED (a factory whose process is down);
 * the simulator sees none of their calls. `unavailable`: every call is answered 503 and logged.
 */
export type OutageMode = (typeof OUTAGE_MODES)[number];

/** One window during which the factory was down. */
export interface SimOutage {
  mode: OutageMode;
  startedAt: string;
  /** When it ends by itself. */
  endsAt: string;
  /** When it ended (by itself or endOutage()); null while the factory is down. */
  endedAt: string | null;
  /** Why the port could not be opened again (`refuse` mode); the factory then stays down. */
  error: string | null;
}

export type SimEvent = { type: "request"; request: SimRequest } | { type: "callback"; callback: SimCallback };

/** A time window over the request log: `from` included, `until` not (an outage's `endedAt` is already up). Either may be left out. */
export interface SimWindow {
  from?: string | Date;
  until?: string | Date;
}

/** What the factory saw in a window, counted from its request log. */
export interface SimSummary {
  /** Requests received (every path and outcome; /_sim/* is never logged). */
  received: number;
  byOutcome: Record<RequestOutcome, number>;
  /** Accepted requests: production runs started. */
  accepted: number;
  /** Accepted requests whose 202 was held back (answerDelayMs, or answers held). */
  lateAnswers: number;
  /**
   * Production runs per callback target: accepted requests counted by their CallbackUrl with
   * the query string removed (a caller that names the request in the path and the attempt in
   * the query gets one entry per request).
   */
  productionRuns: Record<string, number>;
}

const time = (value: string | Date | undefined, otherwise: number) => (value === undefined ? otherwise : new Date(value).getTime());

/** A request's callback target: its CallbackUrl without query string or fragment. */
export function callbackTarget(body: unknown): string | undefined {
  const url = (body as { CallbackUrl?: unknown } | null)?.CallbackUrl;
  if (typeof url !== "string") return undefined;
  return url.split(/[?#]/)[0];
}

/** Counts the requests received in `window`. */
export function summarize(requests: readonly SimRequest[], window: SimWindow = {}): SimSummary {
  const from = time(window.from, Number.NEGATIVE_INFINITY);
  const until = time(window.until, Number.POSITIVE_INFINITY);
  const seen = requests.filter((request) => {
    const at = new Date(request.receivedAt).getTime();
    return at >= from && at < until;
  });
  const byOutcome = Object.fromEntries(REQUEST_OUTCOMES.map((outcome) => [outcome, 0])) as Record<RequestOutcome, number>;
  const productionRuns: Record<string, number> = {};
  for (const request of seen) {
    byOutcome[request.outcome]++;
    if (request.outcome !== "accepted") continue;
    const target = callbackTarget(request.body) ?? "";
    productionRuns[target] = (productionRuns[target] ?? 0) + 1;
  }
  return {
    received: seen.length,
    byOutcome,
    accepted: byOutcome.accepted,
    lateAnswers: seen.filter((request) => request.answerDelayed).length,
    productionRuns,
  };
}
