/**
 * The HTTP load generator of the bench and the chaos run, a child process (started with
 * ./load-client.ts) so that autocannon does not share an event loop with the API it drives. It
 * receives one job at a time over IPC, drives POST /orders with autocannon's programmatic API and
 * answers with a summary.
 */
import autocannon from "autocannon";
import { processCpu } from "./cpu";
import { type LatencySummary, summarize } from "./stats";

export interface LoadJob {
  type: "run";
  id: number;
  url: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  /** Stop after this many requests instead of after `duration`. */
  amount?: number;
  /** SKUs to rotate through, one per request, shared by all connections. */
  skus: string[];
  /** Quantities to rotate through, one per request (a different cycle from the SKUs' when the lengths differ). */
  quantities: number[];
  /** Requests per second over all connections (an open-loop rate); unset: as fast as answers come. */
  overallRate?: number;
  /** Seconds before a request counts as timed out (default 10). */
  timeoutSeconds?: number;
}

export interface LoadResult {
  type: "result";
  id: number;
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: LatencySummary;
  /** CPU this load generator used, in % of one core. */
  cpu: number;
  /** When the job started (epoch ms), and every 5xx answer with its time since then. */
  startedAtEpochMs: number;
  serverErrors: Array<{ atMs: number; status: number }>;
}

function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const serverErrors: LoadResult["serverErrors"] = [];
    const startedAtEpochMs = Date.now();
    const started = performance.now();
    const cpu = processCpu();
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        pipelining: 1,
        timeout: job.timeoutSeconds ?? 10,
        ...(job.overallRate ? { overallRate: job.overallRate } : {}),
        // A fixed amount: autocannon waits for every answer (a duration cuts off those in flight).
        ...(job.amount ? { amount: job.amount } : { duration: job.duration }),
        requests: [
          {
            method: "POST",
            path: "/orders",
            headers: { "content-type": "application/json" },
            setupRequest: (request) => {
              const n = next++;
              return {
                ...request,
                body: JSON.stringify({ sku: job.skus[n % job.skus.length], quantity: job.quantities[n % job.quantities.length] }),
              };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = (performance.now() - started) / 1000;
        const ok = result["2xx"];
        resolve({
          type: "result",
          id: job.id,
          seconds,
          requests: latencies.length,
          statuses,
          ok,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          latency: summarize(latencies),
          cpu: cpu(),
          startedAtEpochMs,
          serverErrors,
        });
      },
    );
    // autocannon emits (client, statusCode, resBytes, responseTime); @types/autocannon omits `client`.
    (instance as unknown as NodeJS.EventEmitter).on(
      "response",
      (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
        if (statusCode >= 500) serverErrors.push({ atMs: Date.now() - startedAtEpochMs, status: statusCode });
      },
    );
  });
}

process.on("message", (message: LoadJob) => {
  if (message?.type !== "run") return;
  run(message).then(
    (result) => process.send!(result),
    (error: Error) => process.send!({ type: "error", id: message.id, message: error.message }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send!({ type: "ready" });
