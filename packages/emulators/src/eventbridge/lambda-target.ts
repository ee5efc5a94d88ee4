/**
 * An EventBridge -> Lambda target: the function is invoked asynchronously with the envelope, and
 * retried on Lambda's schedule (never by EventBridge), then its invocation record goes to the
 * on-failure destination, as Lambda does: docs/emulators.md#lambda-targets.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { HandlerPool } from "../runtime/handlers";
import type { Deliver, EventEnvelope } from "./emulator";

/** Delivers to the function; `stop()` cancels the retries still waiting (an invocation under way finishes). */
export type LambdaTarget = Deliver & { stop(): void };

/**
 * What Lambda sends to an on-failure destination once an asynchronous invocation's retries are
 * exhausted: the event itself (`requestPayload`) and the last error. The shape of AWS's record
 * ("Capturing records of Lambda asynchronous invocations" in the Lambda guide).
 */
export interface AsyncInvocationFailureRecord {
  version: "1.0";
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: "RetriesExhausted"; approximateInvokeCount: number };
  requestPayload: EventEnvelope;
  responseContext: { statusCode: 200; executedVersion: "$LATEST"; functionError: "Unhandled" };
  responsePayload: { errorType: string; errorMessage: string };
}

export interface LambdaTargetOptions {
  /** Waits before each retry: Lambda's two retries, compressed. */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
  /**
   * The function's on-failure destination: receives the invocation record once the retries are
   * exhausted. A destination that fails is logged (Lambda counts DestinationDeliveryFailures).
   */
  onFailure?: { functionArn: string; send: (record: AsyncInvocationFailureRecord) => Promise<void> };
}

export function lambdaTarget(
  pool: HandlerPool,
  timeoutMs: number,
  { retryDelaysMs = [5_000, 10_000], log = () => {}, onFailure }: LambdaTargetOptions = {},
): LambdaTarget {
  const abort = new AbortController();
  const giveUp = async (event: EventEnvelope, invocations: number, error: Error) => {
    if (!onFailure) {
      log(`${pool.functionName}: event ${event.id} dropped after ${invocations} failed invocation(s): ${error.message}`);
      return;
    }
    const record: AsyncInvocationFailureRecord = {
      version: "1.0",
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: crypto.randomUUID(),
        functionArn: `${onFailure.functionArn}:$LATEST`,
        condition: "RetriesExhausted",
        approximateInvokeCount: invocations,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: error.name, errorMessage: error.message },
    };
    try {
      await onFailure.send(record);
      log(
        `${pool.functionName}: event ${event.id} sent to its on-failure destination after ${invocations} failed invocation(s): ${error.message}`,
      );
    } catch (sendError) {
      log(
        `${pool.functionName}: event ${event.id} failed ${invocations} time(s) and its on-failure destination refused it, so it is dropped: ${(sendError as Error).message}`,
      );
    }
  };
  const deliver = async (event: EventEnvelope) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await pool.invoke(event, { timeoutMs, signal: abort.signal });
        return;
      } catch (error) {
        if (abort.signal.aborted) {
          log(`${pool.functionName}: event ${event.id} abandoned, the target is stopping: ${(error as Error).message}`);
          return;
        }
        const delay = retryDelaysMs[attempt];
        if (delay === undefined) return giveUp(event, attempt + 1, error as Error);
        log(`${pool.functionName}: invocation for event ${event.id} failed, retrying in ${delay} ms: ${(error as Error).message}`);
        await sleep(delay, undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  };
  return Object.assign(deliver, { stop: () => abort.abort() });
}
