/**
 * The invariants of a factory caller that heals outages itself: a circuit breaker per factory,
 * a delivery budget counted in time, a grace for the callback after a lost answer, one alert per
 * outage, and permanent refusals failed at once. The factory caller does not have them yet, so a chaos run checks them only when
 * asked (`--breaker-invariants`); with today's caller they fail on the factory faults
 * (`--faults`), which is what they are for. Each is a function of facts the run collected, so
 * it can be checked (and tested) apart from a run.
 */
import { callbackTarget, type SimOutage, type SimRequest } from "@donut-states/factory";

export interface InvariantCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the run saw, in epoch milliseconds. */
export interface BreakerFacts {
  outages: readonly SimOutage[];
  requests: ReadonlyArray<{ id: string; sku: string; status: string; createdAtMs: number; lastError: string | null }>;
  /** Every factory call the caller recorded (restock_attempt), refused connections included. */
  attempts: ReadonlyArray<{ restockId: string; sentAtMs: number }>;
  /** Restock ids of the messages in the DLQ. */
  deadLettered: ReadonlySet<string>;
  /** The simulator's request log: what reached the factory. */
  factoryLog: readonly SimRequest[];
  /** SKUs the factory refuses for good: their requests fail fast, and are not the breaker's business. */
  rejectedSkus: readonly string[];
  /** The factory's production time in this run (the callback comes this long after acceptance). */
  productionMs: number;
  mails: ReadonlyArray<{ subject: string; atMs: number }>;
}

/** The product's settings the checks hold it to. */
export interface BreakerExpectations {
  /** RESTOCK_DELIVERY_BUDGET_SECONDS, in ms: an outage shorter than this sends nothing to the DLQ. */
  deliveryBudgetMs: number;
  /** Consecutive transient failures that open the breaker. */
  openAfterFailures: number;
  /** Calls that may already be under way when it opens (batch size x the event source's concurrency). */
  callsInFlight: number;
  /** While open, at most one probe this often. */
  probeIntervalMs: number;
  /** After a lost answer, the request is not called again for this long. */
  callbackGraceMs: number;
  /** How long after an outage's start (end) its "unreachable" ("back") mail may come. */
  mailWithinMs: number;
  unreachableSubject: RegExp;
  backSubject: RegExp;
}

/** The restock id in our callback URL's path (`…/factory/callbacks/{restockId}`). */
export function restockIdOfCallback(body: unknown): string | undefined {
  return /\/factory\/callbacks\/([^/]+)$/.exec(callbackTarget(body) ?? "")?.[1];
}

const window = (outage: SimOutage) => ({
  from: Date.parse(outage.startedAt),
  until: outage.endedAt ? Date.parse(outage.endedAt) : Number.POSITIVE_INFINITY,
});
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const closedOutages = (facts: BreakerFacts) => facts.outages.filter((outage) => outage.endedAt !== null);

/**
 * No DLQ message caused by an outage shorter than the delivery budget: the breaker holds the
 * messages without spending their budget, so a request the outage caught (a call recorded while
 * the factory was down) is delivered once it is back. Refused SKUs fail fast and do not count.
 */
export function noDeadLetterFromShortOutage(facts: BreakerFacts, expect: BreakerExpectations): InvariantCheck {
  const name = `no DLQ message caused by an outage shorter than the delivery budget (${seconds(expect.deliveryBudgetMs)})`;
  const short = closedOutages(facts).filter((outage) => {
    const { from, until } = window(outage);
    return until - from < expect.deliveryBudgetMs;
  });
  const caught = (restockId: string) =>
    facts.attempts.some(
      (attempt) =>
        attempt.restockId === restockId &&
        short.some((outage) => attempt.sentAtMs >= window(outage).from && attempt.sentAtMs <= window(outage).until),
    );
  const culprits = facts.requests.filter((r) => !facts.rejectedSkus.includes(r.sku) && facts.deadLettered.has(r.id) && caught(r.id));
  return {
    name,
    ok: culprits.length === 0,
    detail: `${short.length} outage(s) shorter than the budget; ${culprits.length} request(s) they caught in the DLQ${culprits.length ? `: ${culprits.map((r) => r.id).join(", ")}` : ""}`,
  };
}

/**
 * Every request fulfilled after recovery: whatever was open while the factory was down (and
 * is not for a refused SKU) ends fulfilled once it is back.
 */
export function everyRequestFulfilledAfterRecovery(facts: BreakerFacts): InvariantCheck {
  const lastEnd = Math.max(Number.NEGATIVE_INFINITY, ...closedOutages(facts).map((outage) => window(outage).until));
  const affected = facts.requests.filter((r) => r.createdAtMs <= lastEnd && !facts.rejectedSkus.includes(r.sku));
  const unfulfilled = affected.filter((r) => r.status !== "fulfilled");
  return {
    name: "every request open during an outage fulfilled after recovery",
    ok: unfulfilled.length === 0,
    detail: `${affected.length} request(s) opened by the end of the last outage, ${unfulfilled.length} not fulfilled${unfulfilled.length ? `: ${unfulfilled.map((r) => `${r.id}:${r.status}`).join(", ")}` : ""}`,
  };
}

/**
 * Factory calls during an outage no more than the breaker's: the calls that open it (and those
 * already under way then), then one probe per interval. Counted on the factory's side when it
 * answers 503 (it sees every call), on the caller's side when it refuses connections (it sees none).
 */
export function factoryCallsDuringOutageWithinProbes(facts: BreakerFacts, expect: BreakerExpectations): InvariantCheck {
  const lines = closedOutages(facts).map((outage) => {
    const { from, until } = window(outage);
    const during = (atMs: number) => atMs >= from && atMs <= until;
    const attempts = facts.attempts.filter((attempt) => during(attempt.sentAtMs));
    const calls =
      outage.mode === "unavailable"
        ? facts.factoryLog.filter((request) => request.outcome === "unavailable" && during(Date.parse(request.receivedAt))).length
        : attempts.length;
    // Under way when it opens: no more than the requests there were to call.
    const inFlight = Math.min(expect.callsInFlight, new Set(attempts.map((attempt) => attempt.restockId)).size);
    const allowed = expect.openAfterFailures + inFlight + Math.ceil((until - from) / expect.probeIntervalMs);
    return { ok: calls <= allowed, text: `${outage.mode} ${seconds(until - from)}: ${calls} call(s), at most ${allowed}` };
  });
  return {
    name: "factory calls during an outage no more than the breaker's opening calls and probes",
    ok: lines.every((line) => line.ok),
    detail: lines.map((line) => line.text).join("; ") || "no outage in this run",
  };
}

/**
 * One production run per request when its answer came late but its callback within the grace:
 * the caller waits for the callback instead of asking again. Counted from what the factory
 * accepted, per request (its callback URL's path).
 */
export function oneProductionRunPerLateAnswer(facts: BreakerFacts, expect: BreakerExpectations): InvariantCheck {
  const name = `one production run per request answered late (callback within the ${seconds(expect.callbackGraceMs)} grace)`;
  if (facts.productionMs > expect.callbackGraceMs)
    return { name, ok: true, detail: `production takes ${seconds(facts.productionMs)}, past the grace: not checked` };
  const runs = new Map<string, number>();
  const late = new Set<string>();
  for (const request of facts.factoryLog) {
    if (request.outcome !== "accepted") continue;
    const restockId = restockIdOfCallback(request.body) ?? "?";
    runs.set(restockId, (runs.get(restockId) ?? 0) + 1);
    if (request.answerDelayed) late.add(restockId);
  }
  const twice = [...late].filter((restockId) => (runs.get(restockId) ?? 0) > 1);
  return {
    name,
    ok: twice.length === 0,
    detail: `${late.size} request(s) answered late, ${twice.length} produced more than once${twice.length ? `: ${twice.map((id) => `${id} x${runs.get(id)}`).join(", ")}` : ""}`,
  };
}

/**
 * Exactly one "unreachable" mail and one "back" mail per outage, not one per request: the first
 * within `mailWithinMs` of its start, the second within `mailWithinMs` of its end.
 */
export function oneAlertPairPerOutage(facts: BreakerFacts, expect: BreakerExpectations): InvariantCheck {
  const unreachable = facts.mails.filter((mail) => expect.unreachableSubject.test(mail.subject));
  const back = facts.mails.filter((mail) => expect.backSubject.test(mail.subject));
  const within = (mails: typeof unreachable, from: number, until: number) =>
    mails.filter((mail) => mail.atMs >= from && mail.atMs <= until);
  const lines = closedOutages(facts).map((outage) => {
    const { from, until } = window(outage);
    const down = within(unreachable, from, from + expect.mailWithinMs).length;
    const up = within(back, until, until + expect.mailWithinMs).length;
    return { ok: down === 1 && up === 1, text: `${outage.mode} outage from ${outage.startedAt}: ${down} unreachable, ${up} back` };
  });
  return {
    name: 'exactly one "unreachable" and one "back" mail per outage',
    ok: lines.every((line) => line.ok),
    detail: `${lines.map((line) => line.text).join("; ") || "no outage in this run"} (${unreachable.length} unreachable and ${back.length} back mail(s) in all)`,
  };
}

/**
 * A permanent refusal fails fast: a request for a SKU the factory refuses (a 4xx other than 408
 * or 429) is failed after its first call, with the factory's answer as its last error.
 */
export function refusedSkuFailsFast(facts: BreakerFacts): InvariantCheck {
  const refused = facts.requests.filter((r) => facts.rejectedSkus.includes(r.sku));
  const calls = (restockId: string) => facts.attempts.filter((attempt) => attempt.restockId === restockId).length;
  const slow = refused.filter((r) => r.status !== "failed" || calls(r.id) !== 1 || !r.lastError?.includes("cannot be produced"));
  return {
    name: "a request the factory refuses with a 400 fails on its first call, with the factory's answer",
    ok: slow.length === 0,
    detail: `${refused.length} request(s) for ${facts.rejectedSkus.join(", ") || "no refused SKU"}${slow.length ? `; not failed fast: ${slow.map((r) => `${r.id}:${r.status} after ${calls(r.id)} call(s), last error ${JSON.stringify(r.lastError)}`).join(", ")}` : ""}`,
  };
}

/** Every breaker invariant, in the order the report prints them. */
export function checkBreakerInvariants(facts: BreakerFacts, expect: BreakerExpectations): InvariantCheck[] {
  return [
    noDeadLetterFromShortOutage(facts, expect),
    everyRequestFulfilledAfterRecovery(facts),
    factoryCallsDuringOutageWithinProbes(facts, expect),
    oneProductionRunPerLateAnswer(facts, expect),
    oneAlertPairPerOutage(facts, expect),
    refusedSkuFailsFast(facts),
  ];
}
