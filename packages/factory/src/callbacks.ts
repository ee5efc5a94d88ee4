/**
 * Callback delivery, mimicking the legacy factory: POST the echoed request to
 * CallbackUrl, retry transient failures a few times, then give up silently.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ManufactureRequest } from "./contract";
import type { SimCallback } from "./records";

/** First retry waits this long, doubling each time (100, 200, 400 ms ...). */
export const CALLBACK_BACKOFF_MS = 100;
/** A receiver that never answers must not pin a delivery forever. */
export const CALLBACK_TIMEOUT_MS = 5_000;

export interface Delivery {
  requestId: string;
  body: ManufactureRequest;
  /** 1, or 2 for the duplicate in "twice" mode. */
  delivery: number;
  retries: number;
  /** Aborted when the simulator closes; cancels waits and in-flight POSTs. */
  signal: AbortSignal;
  record: (entry: SimCallback) => void;
}

function describeError(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return `timeout after ${CALLBACK_TIMEOUT_MS}ms`;
  // undici reports "fetch failed" and hides the useful part (ECONNREFUSED...) in `cause`.
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Sends one delivery with retries; never throws (a closed simulator just stops). */
export async function deliverCallback(d: Delivery): Promise<void> {
  const url = d.body.CallbackUrl;
  try {
    for (let attempt = 1; attempt <= d.retries + 1; attempt++) {
      if (attempt > 1) await sleep(CALLBACK_BACKOFF_MS * 2 ** (attempt - 2), undefined, { signal: d.signal });
      const sentAt = new Date().toISOString();
      let status: number | null = null;
      let error: string | null = null;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(d.body),
          redirect: "manual",
          signal: AbortSignal.any([d.signal, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)]),
        });
        status = res.status;
        // Drain so undici can reuse/release the connection.
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        if (d.signal.aborted) return;
        error = describeError(err);
      }
      d.record({ requestId: d.requestId, url, sentAt, status, error, attempt, delivery: d.delivery });
      // Only network errors and 5xx are worth retrying; 2xx-4xx are final.
      if (status !== null && status < 500) return;
    }
  } catch (err) {
    if (!d.signal.aborted) throw err;
  }
}
