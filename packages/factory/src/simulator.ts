/**
 * In-process stand-in for the legacy Factory API, so the restock pipeline can
 * be developed and chaos-tested without the real (slow, flaky) factory.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { deliverCallback } from "./callbacks";
import {
  type LegacyFailBody,
  type LegacyOkBody,
  MANUFACTURE_PATH,
  MAX_BODY_BYTES,
  type ManufactureRequest,
  validateManufactureRequest,
} from "./contract";
import { BodyAbortedError, isJsonContentType, readBody, sendEmpty, sendJson, tryParseJson } from "./http-util";
import {
  type FactorySimulatorConfig,
  type FactorySimulatorKnobs,
  type FactorySimulatorOptions,
  parseHttpKnobs,
  parseKnobs,
  resolveOptions,
  toConfig,
} from "./options";
import type { RequestOutcome, SimCallback, SimEvent, SimRequest } from "./records";

export interface FactorySimulator {
  /** Base URL, e.g. http://127.0.0.1:3001 (real port when started with port 0). */
  readonly url: string;
  /** Stops listening, cancels pending callbacks/retries, destroys hung sockets. Idempotent. */
  close(): Promise<void>;
  /** Changes knobs for requests received from now on; throws on invalid values. */
  setOptions(partial: Partial<FactorySimulatorKnobs>): FactorySimulatorConfig;
  getConfig(): FactorySimulatorConfig;
  /** Empties `requests` and `callbacks` in place (same as DELETE /_sim/requests). */
  clearLogs(): void;
  /**
   * Callbacks that fall due from now on wait (POST /_sim/callbacks/hold), until
   * releaseCallbacks() (POST /_sim/callbacks/release) sends them. Lets a test decide when
   * production "finishes" instead of racing a delay against its own work.
   */
  holdCallbacks(): void;
  releaseCallbacks(): void;
  /** Live log of requests to non-/_sim paths. */
  readonly requests: SimRequest[];
  /** Live log of callback attempts. */
  readonly callbacks: SimCallback[];
}

const fail = (message: string): LegacyFailBody => ({ result: "FAIL", message });

export async function startFactorySimulator(options: Partial<FactorySimulatorOptions> = {}): Promise<FactorySimulator> {
  let opts = resolveOptions(options);
  const requests: SimRequest[] = [];
  const callbacks: SimCallback[] = [];
  const lifetime = new AbortController();
  const pending = new Set<Promise<void>>();
  /** Set while callbacks are held: resolves when they are released. */
  let hold: { released: Promise<void>; release: () => void } | undefined;

  function emit(event: SimEvent): void {
    try {
      opts.onEvent?.(event);
    } catch {
      // An observer bug must not take the simulated factory down.
    }
  }

  function recordCallback(entry: SimCallback): void {
    callbacks.push(entry);
    emit({ type: "callback", callback: entry });
  }

  function track(task: Promise<void>): void {
    pending.add(task);
    void task.finally(() => pending.delete(task));
  }

  function scheduleCallbacks(requestId: string, body: ManufactureRequest): void {
    // Snapshot now: a later setOptions() affects new requests, not queued ones.
    const { delayMs, callback, callbackRetries: retries } = opts;
    if (callback === "never") return;
    const deliver = (delivery: number) =>
      deliverCallback({ requestId, body, delivery, retries, signal: lifetime.signal, record: recordCallback });
    const task = (async () => {
      await sleep(delayMs, undefined, { signal: lifetime.signal });
      if (hold) await hold.released;
      await deliver(1);
      if (callback === "twice") {
        // After the first one, not after acceptance: the gap holds however late the first was.
        await sleep(Math.round(delayMs / 2), undefined, { signal: lifetime.signal });
        await deliver(2);
      }
    })().catch(() => undefined); // aborted by close()
    track(task);
  }

  function holdCallbacks(): void {
    if (hold) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    hold = { released, release };
  }

  function releaseCallbacks(): void {
    hold?.release();
    hold = undefined;
  }

  /**
   * Legacy failure mode: the request is never answered; the socket is dropped
   * after hangMs. close() needs no bookkeeping for these: closeAllConnections()
   * destroys them, and the socket's "close" clears the timer.
   */
  function hang(req: IncomingMessage): void {
    const socket = req.socket;
    if (socket.destroyed) return; // caller already gave up
    const timer = setTimeout(() => socket.destroy(), opts.hangMs);
    socket.once("close", () => clearTimeout(timer));
  }

  async function handleManufacture(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const entry: SimRequest = {
      id: randomUUID(),
      receivedAt: new Date().toISOString(),
      method: req.method ?? "",
      path: pathname,
      body: "",
      outcome: "rejected",
      status: null,
      message: null,
    };
    const finish = (outcome: RequestOutcome, status: number | null, message: string | null) => {
      Object.assign(entry, { outcome, status, message });
      requests.push(entry);
      emit({ type: "request", request: entry });
    };
    const reject = (status: number, message: string, headers = {}) => {
      finish("rejected", status, message);
      sendJson(res, status, fail(message), headers);
    };

    const raw = await readBody(req, MAX_BODY_BYTES);
    const parsed = tryParseJson(raw.text);
    entry.body = parsed.ok && !raw.tooLarge ? parsed.value : raw.text;

    if (pathname !== MANUFACTURE_PATH) return reject(404, `no route for ${pathname}`);
    if (req.method !== "POST") return reject(405, `method ${req.method} not allowed; use POST`, { allow: "POST" });
    if (!isJsonContentType(req.headers["content-type"])) {
      return reject(400, `content-type must be application/json (got ${req.headers["content-type"] ?? "none"})`);
    }
    if (raw.tooLarge) return reject(400, `body must be at most ${MAX_BODY_BYTES} bytes (got ${raw.bytes})`);
    if (!parsed.ok) return reject(400, `body is not valid JSON: ${parsed.error}`);
    const valid = validateManufactureRequest(parsed.value);
    if (!valid.ok) return reject(400, valid.message);

    // Always draw twice per valid request (failure, then timeout) so a scripted
    // RNG in tests maps to outcomes predictably.
    const random = opts.random ?? Math.random;
    const failRoll = random();
    const hangRoll = random();
    if (failRoll < opts.failureRate) {
      finish("failed", 500, "simulated internal error");
      if (opts.failureBody !== undefined)
        return void res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(opts.failureBody);
      return sendJson(res, 500, fail("Internal Server Error (simulated)"));
    }
    if (hangRoll < opts.timeoutRate) {
      finish("timed-out", null, `simulated hang; socket closed after ${opts.hangMs}ms`);
      return hang(req);
    }

    finish("accepted", 202, null);
    const ok: LegacyOkBody = { result: "OK", requestId: entry.id };
    scheduleCallbacks(entry.id, valid.value);
    // Accepted either way: production goes ahead even if the caller stops waiting for the answer.
    if (opts.answerDelayMs > 0) await sleep(opts.answerDelayMs, undefined, { signal: lifetime.signal }).catch(() => undefined);
    if (!res.destroyed) sendJson(res, 202, ok);
  }

  /** /_sim/* control plane: inspection and runtime knobs; never logged. */
  async function handleControl(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const method = req.method ?? "";
    const raw = await readBody(req, MAX_BODY_BYTES);
    const routes: Record<string, Record<string, () => void>> = {
      "/_sim/requests": {
        GET: () => sendJson(res, 200, requests),
        DELETE: () => {
          clearLogs();
          sendEmpty(res, 204);
        },
      },
      "/_sim/callbacks": { GET: () => sendJson(res, 200, callbacks) },
      "/_sim/callbacks/hold": {
        POST: () => {
          holdCallbacks();
          sendEmpty(res, 204);
        },
      },
      "/_sim/callbacks/release": {
        POST: () => {
          releaseCallbacks();
          sendEmpty(res, 204);
        },
      },
      "/_sim/config": {
        GET: () => sendJson(res, 200, getConfig()),
        POST: () => {
          // Any content-type: `curl -d '{...}'` sends form-urlencoded by default.
          const parsed = tryParseJson(raw.text);
          if (raw.tooLarge || !parsed.ok) return sendJson(res, 400, fail("config body must be JSON"));
          try {
            sendJson(res, 200, applyKnobs(parseHttpKnobs(parsed.value)));
          } catch (err) {
            sendJson(res, 400, fail((err as Error).message));
          }
        },
      },
    };
    const route = routes[pathname];
    if (!route) return sendJson(res, 404, fail(`no route for ${pathname}`));
    const handler = route[method];
    if (!handler) {
      const allow = Object.keys(route).join(", ");
      return sendJson(res, 405, fail(`method ${method} not allowed; use ${allow}`), { allow });
    }
    handler();
  }

  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://simulator.invalid").pathname;
    const handle = pathname.startsWith("/_sim/") ? handleControl : handleManufacture;
    handle(req, res, pathname).catch((err) => {
      // Client went away mid-body, or an oversized upload was cut off: nothing to answer.
      if (err instanceof BodyAbortedError || req.destroyed) return;
      if (!res.headersSent) sendJson(res, 500, fail(`simulator bug: ${(err as Error).message}`));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  opts = { ...opts, port };
  const hostForUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;

  function getConfig(): FactorySimulatorConfig {
    return toConfig(opts);
  }

  function applyKnobs(knobs: Partial<FactorySimulatorKnobs>): FactorySimulatorConfig {
    opts = { ...opts, ...knobs };
    return getConfig();
  }

  function clearLogs(): void {
    requests.length = 0;
    callbacks.length = 0;
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      lifetime.abort();
      releaseCallbacks(); // held deliveries see the abort and end
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Destroys idle keep-alive sockets and hung (never-answered) requests alike;
      // either would otherwise hold server.close() open.
      server.closeAllConnections();
      await stopped;
      await Promise.allSettled([...pending]);
    })();
    return closing;
  }

  return {
    url: `http://${hostForUrl}:${port}`,
    close,
    setOptions: (partial) => applyKnobs(parseKnobs(partial)),
    getConfig,
    clearLogs,
    holdCallbacks,
    releaseCallbacks,
    requests,
    callbacks,
  };
}
