/**
 * The loops of a local stack (pollers, bridges, alarm evaluators) call emulators with SDK clients
 * forever. An emulator that is slow, restarting or gone must cost them a log line and a wait,
 * never the process: each loop catches what a call throws, reports it here, and waits the delay
 * it gets back before trying again.
 */

import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  /** The first delay (default 250 ms); each further failure in a row doubles it. */
  baseMs?: number;
  /** The longest delay (default 10 s). */
  maxMs?: number;
  /** Every how many failures in a row a line is logged, after the first (default 10). */
  logEvery?: number;
  /** For tests: a source of numbers in [0, 1). */
  random?: () => number;
}

export interface Retry {
  /** Failures in a row so far. */
  readonly failures: number;
  /** A call failed: logs it (the first of a run, then every `logEvery`-th) and returns the delay before the next try. */
  failed(error: unknown): number;
  /** A call succeeded: logs the recovery if it ends a run of failures. */
  succeeded(): void;
}

/**
 * Exponential backoff with jitter (a delay between half and all of the doubled base, so loops
 * that failed together do not come back in lockstep), and a log that stays readable when many
 * loops fail at once: one line when a run of failures starts, one now and then, one when it ends.
 */
export function createRetry(what: string, log: (line: string) => void, options: RetryOptions = {}): Retry {
  const { baseMs = 250, maxMs = 10_000, logEvery = 10, random = Math.random } = options;
  let failures = 0;
  return {
    get failures() {
      return failures;
    },
    failed(error) {
      failures++;
      const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      if (failures === 1 || failures % logEvery === 0) {
        const attempts = failures === 1 ? "" : ` (${failures} failures in a row)`;
        log(`${what} failed${attempts}, retrying in ${delay} ms: ${messageOf(error)}`);
      }
      return delay;
    },
    succeeded() {
      if (failures > 0) log(`${what} works again after ${failures} failure${failures === 1 ? "" : "s"}`);
      failures = 0;
    },
  };
}

/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {});
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}
