/**
 * The chaos run's factory faults and the circuit breaker's invariants, apart from a run: the
 * plan is the seed's, and each invariant passes on the facts of a caller that heals outages and
 * fails on today's (a request caught by the outage in the DLQ, calls at full rate, two
 * production runs after a late answer, a mail per request).
 */
import type { SimOutage, SimRequest } from "@donut-states/factory";
import { describe, expect, it } from "vitest";
import {
  type BreakerExpectations,
  type BreakerFacts,
  checkBreakerInvariants,
  everyRequestFulfilledAfterRecovery,
  factoryCallsDuringOutageWithinProbes,
  noDeadLetterFromShortOutage,
  oneAlertPairPerOutage,
  oneProductionRunPerLateAnswer,
  refusedSkuFailsFast,
  restockIdOfCallback,
} from "../../bench/chaos/breaker-invariants";
import { seededRandom } from "../../bench/chaos/chaos";
import { FACTORY_FAULTS, type FactoryFault, factoryOptionsFor, planFactoryFaults, planRandomSalt } from "../../bench/chaos/factory-faults";

const clock = { durationMs: 15_000, visibilityTimeoutSeconds: 2, maxReceiveCount: 5, factoryTimeoutMs: 600 };
const skus = ["CHAOS-01", "CHAOS-02", "CHAOS-03", "CHAOS-04"];
const plan = (seed: number, faults: readonly FactoryFault[] = FACTORY_FAULTS) =>
  planFactoryFaults(faults, { skus, clock, random: seededRandom(planRandomSalt(seed)) });

describe("planFactoryFaults", () => {
  it("plans the same faults from the same seed, sized against the clock", () => {
    expect(plan(7)).toEqual(plan(7));
    const { outage, lateAnswers, rejectedSkus } = plan(7);
    // Longer than the five receives of a message last (5 x 2 s), so today it reaches the DLQ.
    expect(outage).toMatchObject({ atMs: 6000, ms: 12_000 });
    expect(["refuse", "unavailable"]).toContain(outage?.mode);
    // The 202 well after the caller's 600 ms; production past the 2 s visibility timeout.
    expect(lateAnswers).toEqual({ rate: 0.3, answerDelayMs: 1800, productionMs: 3000 });
    expect(rejectedSkus).toHaveLength(1);
    expect(skus).toContain(rejectedSkus[0]);
  });

  it("varies the outage's mode and the refused SKU with the seed, and one fault's plan does not move another's", () => {
    const seeds = Array.from({ length: 40 }, (_, index) => index);
    expect(new Set(seeds.map((seed) => plan(seed).outage?.mode)).size).toBe(2);
    expect(new Set(seeds.map((seed) => plan(seed).rejectedSkus[0])).size).toBe(skus.length);
    for (const seed of seeds) expect(plan(seed, ["rejected-sku"]).rejectedSkus).toEqual(plan(seed).rejectedSkus);
  });

  it("sets nothing on the simulator when no fault is asked for", () => {
    const none = plan(7, []);
    expect(none).toEqual({ faults: [], outage: undefined, lateAnswers: undefined, rejectedSkus: [] });
    expect(factoryOptionsFor(none)).toEqual({});
    expect(factoryOptionsFor(plan(7))).toEqual({
      answerDelayMs: 1800,
      answerDelayRate: 0.3,
      delayMs: 3000,
      rejectSkus: plan(7).rejectedSkus,
    });
  });
});

// ---------- the breaker's invariants ----------

const T0 = Date.parse("2026-12-02T05:00:00.000Z");
const at = (seconds: number) => T0 + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();
const outage = (from: number, until: number, mode: SimOutage["mode"] = "refuse"): SimOutage => ({
  mode,
  startedAt: iso(from),
  endsAt: iso(until),
  endedAt: iso(until),
  error: null,
});
const expectations: BreakerExpectations = {
  deliveryBudgetMs: 120_000,
  openAfterFailures: 5,
  callsInFlight: 2,
  probeIntervalMs: 2000,
  callbackGraceMs: 5000,
  mailWithinMs: 30_000,
  unreachableSubject: /^Factory unreachable/,
  backSubject: /^Factory back/,
};
function factoryCall(
  seconds: number,
  restockId: string,
  { outcome = "accepted", answerDelayed = false }: { outcome?: SimRequest["outcome"]; answerDelayed?: boolean } = {},
): SimRequest {
  return {
    id: `${restockId}-${seconds}`,
    receivedAt: iso(seconds),
    method: "POST",
    path: "/api/manufactures",
    body: { CallbackUrl: `http://127.0.0.1:3000/factory/callbacks/${restockId}?attempt=1&token=t` },
    outcome,
    status: outcome === "accepted" ? 202 : 503,
    message: null,
    answeredAt: null,
    answerDelayed,
  };
}

/** A 12 s outage (10-22 s) that a healing caller rides out: a few opening calls, probes, two mails. */
const healed: BreakerFacts = {
  outages: [outage(10, 22)],
  requests: [
    { id: "R1", sku: "CHAOS-01", status: "fulfilled", createdAtMs: at(5), lastError: null },
    { id: "R2", sku: "CHAOS-02", status: "fulfilled", createdAtMs: at(12), lastError: null },
    {
      id: "R3",
      sku: "CHAOS-03",
      status: "failed",
      createdAtMs: at(1),
      lastError:
        'Factory API answered 400: {"result":"FAIL","message":"MessageAttributeProductId CHAOS-03 cannot be produced by factory FF-500293 (simulated refusal)"}',
    },
  ],
  attempts: [
    { restockId: "R1", sentAtMs: at(11) },
    { restockId: "R2", sentAtMs: at(14) },
    { restockId: "R1", sentAtMs: at(23) },
    { restockId: "R3", sentAtMs: at(2) },
  ],
  deadLettered: new Set(["R3"]),
  factoryLog: [factoryCall(23, "R1"), factoryCall(24, "R2", { answerDelayed: true })],
  rejectedSkus: ["CHAOS-03"],
  productionMs: 3000,
  mails: [
    { subject: "Factory unreachable since 05:00:11: 2 restocks waiting", atMs: at(13) },
    { subject: "Factory back after 12 s: 2 restocks delivered", atMs: at(24) },
    { subject: "Restock DLQ: R3 (CHAOS-03) not delivered to the factory", atMs: at(9) },
  ],
};

describe("breaker invariants", () => {
  it("all hold for a caller that rides out the outage", () => {
    const results = checkBreakerInvariants(healed, expectations);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect(results).toHaveLength(6);
  });

  it("find our restock id in the callback URL's path", () => {
    expect(restockIdOfCallback({ CallbackUrl: "http://h/factory/callbacks/01ABC?attempt=2&token=x" })).toBe("01ABC");
    expect(restockIdOfCallback({ CallbackUrl: "http://h/elsewhere" })).toBeUndefined();
    expect(restockIdOfCallback("not json")).toBeUndefined();
  });

  it("a request the outage caught in the DLQ fails the first, unless the outage outlasted the budget or the SKU is refused", () => {
    const today = { ...healed, deadLettered: new Set(["R1", "R3"]) };
    expect(noDeadLetterFromShortOutage(today, expectations)).toMatchObject({ ok: false, detail: expect.stringContaining("R1") });
    expect(noDeadLetterFromShortOutage(today, { ...expectations, deliveryBudgetMs: 10_000 }).ok).toBe(true);
    expect(noDeadLetterFromShortOutage({ ...today, rejectedSkus: ["CHAOS-01", "CHAOS-03"] }, expectations).ok).toBe(true);
  });

  it("a request open during the outage and not fulfilled fails the second", () => {
    const failed = { ...healed, requests: healed.requests.map((r) => (r.id === "R2" ? { ...r, status: "failed" } : r)) };
    expect(everyRequestFulfilledAfterRecovery(failed)).toMatchObject({ ok: false, detail: expect.stringContaining("R2:failed") });
    // Opened after the factory came back: not the outage's.
    const later = { ...failed, requests: failed.requests.map((r) => (r.id === "R2" ? { ...r, createdAtMs: at(30) } : r)) };
    expect(everyRequestFulfilledAfterRecovery(later).ok).toBe(true);
  });

  it("calls at full rate during the outage fail the third, counted where they can be seen", () => {
    // Refused connections: the caller's own record of its calls.
    const hammered = { ...healed, attempts: Array.from({ length: 24 }, (_, i) => ({ restockId: `R${i % 3}`, sentAtMs: at(10 + i / 2) })) };
    expect(factoryCallsDuringOutageWithinProbes(hammered, expectations)).toMatchObject({
      ok: false,
      detail: "refuse 12.0s: 24 call(s), at most 13",
    });
    // 503s: what the factory logged.
    const unavailable = { ...healed, outages: [outage(10, 22, "unavailable")] };
    const answered503 = Array.from({ length: 14 }, (_, i) => factoryCall(10 + i / 2, "R1", { outcome: "unavailable" }));
    expect(factoryCallsDuringOutageWithinProbes({ ...unavailable, factoryLog: answered503 }, expectations).ok).toBe(false);
    expect(factoryCallsDuringOutageWithinProbes({ ...unavailable, factoryLog: answered503.slice(0, 13) }, expectations).ok).toBe(true);
  });

  it("a second production run after a late answer fails the fourth, unless production outlasts the grace", () => {
    const twice = { ...healed, factoryLog: [...healed.factoryLog, factoryCall(27, "R2")] };
    expect(oneProductionRunPerLateAnswer(twice, expectations)).toMatchObject({ ok: false, detail: expect.stringContaining("R2 x2") });
    expect(oneProductionRunPerLateAnswer({ ...twice, productionMs: 6000 }, expectations).ok).toBe(true);
  });

  it("a mail per request, or none when it is back, fails the fifth", () => {
    const perRequest = { ...healed, mails: [...healed.mails, { subject: "Factory unreachable since 05:00:14: R2", atMs: at(15) }] };
    expect(oneAlertPairPerOutage(perRequest, expectations)).toMatchObject({
      ok: false,
      detail: expect.stringContaining("2 unreachable, 1 back"),
    });
    const noBack = { ...healed, mails: healed.mails.filter((mail) => !mail.subject.startsWith("Factory back")) };
    expect(oneAlertPairPerOutage(noBack, expectations).ok).toBe(false);
  });

  it("a refused SKU's request called more than once, or failed without the factory's answer, fails the sixth", () => {
    const retried = { ...healed, attempts: [...healed.attempts, { restockId: "R3", sentAtMs: at(4) }] };
    expect(refusedSkuFailsFast(retried)).toMatchObject({ ok: false, detail: expect.stringContaining("R3:failed after 2 call(s)") });
    const unexplained = { ...healed, requests: healed.requests.map((r) => (r.id === "R3" ? { ...r, lastError: "no answer" } : r)) };
    expect(refusedSkuFailsFast(unexplained).ok).toBe(false);
  });

  it("hold vacuously in a run without an outage", () => {
    const calm = { ...healed, outages: [], mails: [] };
    expect(checkBreakerInvariants(calm, expectations).filter((result) => !result.ok)).toEqual([]);
  });
});
