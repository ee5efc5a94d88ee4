/** Shapes of the simulator's observable logs (also served by GET /_sim/*). */

export type RequestOutcome = "accepted" | "rejected" | "failed" | "timed-out";

/** One request received on a non-/_sim path. */
export interface SimRequest {
  id: string;
  /** ISO timestamp of arrival (before the body was read). */
  receivedAt: string;
  method: string;
  path: string;
  /** Parsed JSON when the body parsed, otherwise the raw text ("" when empty). */
  body: unknown;
  outcome: RequestOutcome;
  /** HTTP status answered; null for "timed-out" (no response is ever sent). */
  status: number | null;
  /** Why it was rejected/failed; null when accepted. */
  message: string | null;
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

export type SimEvent = { type: "request"; request: SimRequest } | { type: "callback"; callback: SimCallback };
