/**
 * The factory faults a chaos run can add to its mix, on request (`--faults`): the factory down
 * for longer than the queue's receives last, a factory that answers after the caller's timeout
 * while its production run goes ahead, and a factory that refuses one SKU for good. Each is
 * planned from the run's seed (its own stream, so the factory's dice roll as in a run without
 * them) and injected through the factory simulator.
 */
import type { FactorySimulator, FactorySimulatorOptions, OutageMode, SimOutage } from "@donut-states/factory";

export const FACTORY_FAULTS = ["outage", "late-answer", "rejected-sku"] as const;
export type FactoryFault = (typeof FACTORY_FAULTS)[number];

/** The clock the faults are sized against: the chaos run's queue and factory caller settings. */
export interface FaultClock {
  durationMs: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  factoryTimeoutMs: number;
}

export interface FactoryFaultPlan {
  faults: readonly FactoryFault[];
  outage?: {
    mode: OutageMode;
    /** After this much of the load. */
    atMs: number;
    /** Longer than a message's receives last, so today every request caught in it reaches the DLQ. */
    ms: number;
  };
  lateAnswers?: {
    /** Share of accepted calls answered late. */
    rate: number;
    /** When their 202 comes: well after the caller gave up. */
    answerDelayMs: number;
    /** Production time of every run while late answers are in the mix (the callback's delay). */
    productionMs: number;
  };
  /** SKUs the factory answers 400, for good. */
  rejectedSkus: string[];
}

/** Salt of the fault planner's stream, so it never replays the factory's dice. */
const PLAN_SALT = 0x0fa17ed;

/**
 * What each requested fault does in this run. `random` is a fresh seeded stream (see
 * `seededRandom`): the same seed plans the same faults.
 */
export function planFactoryFaults(
  faults: readonly FactoryFault[],
  { skus, clock, random }: { skus: readonly string[]; clock: FaultClock; random: () => number },
): FactoryFaultPlan {
  const receivesLastMs = clock.maxReceiveCount * clock.visibilityTimeoutSeconds * 1000;
  const visibilityMs = clock.visibilityTimeoutSeconds * 1000;
  // Always draw in the same order, whichever faults are on, so one fault's plan does not move another's.
  const modeRoll = random();
  const skuRoll = random();
  return {
    faults,
    outage: faults.includes("outage")
      ? // Not at once: late answers and refusals get some calls in first.
        { mode: modeRoll < 0.5 ? "refuse" : "unavailable", atMs: Math.round(clock.durationMs * 0.4), ms: Math.round(receivesLastMs * 1.2) }
      : undefined,
    lateAnswers: faults.includes("late-answer")
      ? {
          rate: 0.3,
          answerDelayMs: clock.factoryTimeoutMs * 3,
          // Production outlasts the visibility timeout, as on AWS (hours against minutes): a caller
          // that asks again after a lost answer does so before the first run called back.
          productionMs: Math.round(visibilityMs * 1.5),
        }
      : undefined,
    rejectedSkus: faults.includes("rejected-sku") ? [skus[Math.floor(skuRoll * skus.length)]] : [],
  };
}

export const planRandomSalt = (seed: number) => (seed ^ PLAN_SALT) >>> 0;

/** The simulator options the plan sets from the start (late answers, refused SKUs). */
export function factoryOptionsFor(plan: FactoryFaultPlan): Partial<FactorySimulatorOptions> {
  return {
    ...(plan.lateAnswers && {
      answerDelayMs: plan.lateAnswers.answerDelayMs,
      answerDelayRate: plan.lateAnswers.rate,
      delayMs: plan.lateAnswers.productionMs,
    }),
    ...(plan.rejectedSkus.length && { rejectSkus: plan.rejectedSkus }),
  };
}

/** One line per planned fault, for the run's timeline. */
export function describePlan(plan: FactoryFaultPlan): string[] {
  return [
    ...(plan.outage
      ? [
          `factory outage planned: ${plan.outage.mode === "refuse" ? "connections refused" : "503 to every call"} for ${plan.outage.ms / 1000}s from +${plan.outage.atMs / 1000}s of load`,
        ]
      : []),
    ...(plan.lateAnswers
      ? [
          `late answers: ${plan.lateAnswers.rate * 100} % of accepted calls answered after ${plan.lateAnswers.answerDelayMs / 1000}s; production takes ${plan.lateAnswers.productionMs / 1000}s`,
        ]
      : []),
    ...(plan.rejectedSkus.length ? [`the factory refuses ${plan.rejectedSkus.join(", ")} with a 400`] : []),
  ];
}

/** Takes the factory down when the plan says (relative to `loadStarted`); resolves once it is down. */
export async function injectOutage(
  plan: FactoryFaultPlan,
  factory: FactorySimulator,
  { loadStarted, sleep }: { loadStarted: number; sleep: (ms: number) => Promise<unknown> },
): Promise<SimOutage | undefined> {
  if (!plan.outage) return undefined;
  await sleep(Math.max(0, loadStarted + plan.outage.atMs - Date.now()));
  return factory.startOutage({ ms: plan.outage.ms, mode: plan.outage.mode });
}
