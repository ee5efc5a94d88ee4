/**
 * An EventBridge -> Lambda target for the local emulator: the function is invoked
 * asynchronously with the event envelope itself (no InputTransformer), as a rule's Lambda
 * target is.
 *
 * For an asynchronous invocation Lambda accepts the event, and it is Lambda that retries a
 * failed invocation, twice (about one and then two minutes later in AWS), before dropping the
 * event. So a function's error never reaches EventBridge's own delivery retries: this target
 * retries the invocation on Lambda's schedule (compressed offline) and never throws.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { HandlerPool } from "../runtime/handlers";
import type { Deliver, EventEnvelope } from "./emulator";

/** Delivers to the function; `stop()` cancels the retries still waiting (an invocation under way finishes). */
export type LambdaTarget = Deliver & { stop(): void };

export function lambdaTarget(
  pool: HandlerPool,
  timeoutMs: number,
  { retryDelaysMs = [5_000, 10_000], log = () => {} }: { retryDelaysMs?: number[]; log?: (line: string) => void } = {},
): LambdaTarget {
  const abort = new AbortController();
  const deliver = async (event: EventEnvelope) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await pool.invoke(event, { timeoutMs, signal: abort.signal });
        return;
      } catch (error) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined || abort.signal.aborted) {
          log(`${pool.functionName}: event ${event.id} dropped after ${attempt + 1} failed invocation(s): ${(error as Error).message}`);
          return;
        }
        log(`${pool.functionName}: invocation for event ${event.id} failed, retrying in ${delay} ms: ${(error as Error).message}`);
        await sleep(delay, undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  };
  return Object.assign(deliver, { stop: () => abort.abort() });
}
