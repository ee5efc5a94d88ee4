/**
 * In-process stand-in for the legacy Factory API, so the restock pipeline can
 * be developed and chaos-tested without the real (slow, flaky) factory.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { deliverCallback } from "./callbacks";
import {
  failBody,
  type LegacyOkBody,
  MANUFACTURE_PATH,
  MAX_BODY_BYTES,
  type ManufactureRequest,
  validateManufactureRequest,
} from "./contract";
import { handleControl } from "./control";
import { type Hold, newHold } from "./hold";
import { BodyAbortedError, isJsonContentType, readBody, sendJson, tryParseJson } from "./http-util";
import {
  type FactorySimulatorConfig,
  type FactorySimulatorKnobs,
  type FactorySimulatorOptions,
  type OutageRequest,
  parseHttpKnobs,
  parseKnobs,
  parseOutageRequest,
  resolveOptions,
  toConfig,
} from "./options";
import { callAt, createOutageSwitch, type OutageSwitch } from "./outage";
import {
  type RequestOutcome,
  type SimCallback,
  type SimEvent,
  type SimOutage,
  type SimRequest,
  type SimSummary,
  type SimWindow,
  summarize,
} from "./records";

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
  /**
   * Answers of accepted requests that fall due from now on wait (POST /_sim/answers/hold),
   * until releaseAnswers() (POST /_sim/answers/release): a 2xx that comes after the caller's
   * timeout, at a moment the test chooses. Their callbacks are scheduled as usual.
   */
  holdAnswers(): void;
  releaseAnswers(): void;
  /**
   * Takes the factory down for `ms` (POST /_sim/outage); it comes back by itself. Resolves once
   * it is down: in `refuse` mode, once its port refuses connections. Throws if already down.
   */
  startOutage(outage: OutageRequest): Promise<SimOutage>;
  /** Ends the outage in progress now (DELETE /_sim/outage); resolves once calls are served again. */
  endOutage(): Promise<void>;
  /** Live log of outages (GET /_sim/outages); the one in progress has `endedAt: null`. */
  readonly outages: SimOutage[];
  /** What the factory saw in a window, counted from `requests` (GET /_sim/summary?from=…&until=…). */
  summary(window?: SimWindow): SimSummary;
  /** Live log of requests to non-/_sim paths. */
  readonly requests: SimRequest[];
  /** Live log of callback attempts. */
  readonly callbacks: SimCallback[];
}

export async function startFactorySimulator(options: Partial<FactorySimulatorOptions> = {}): Promise<FactorySimulator> {
  let opts = resolveOptions(options);
  const requests: SimRequest[] = [];
  const callbacks: SimCallback[] = [];
  const lifetime = new AbortController();
  const pending = new Set<Promise<void>>();
  /** Set while callbacks (answers) are held: resolves when they are released. */
  let hold: Hold | undefined;
  let answerHold: Hold | undefined;
  /** Set once listening (the port is known then); requests arrive only after that. */
  let outages: OutageSwitch;
  let scheduledOutage: { clear(): void } | undefined;

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
    hold ??= newHold();
  }

  function releaseCallbacks(): void {
    hold?.release();
    hold = undefined;
  }

  function holdAnswers(): void {
    answerHold ??= newHold();
  }

  function releaseAnswers(): void {
    answerHold?.release();
    answerHold = undefined;
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

  /** A request's log entry, logged (and observed) once its outcome is known. */
  function logEntry(req: IncomingMessage, pathname: string) {
    const entry: SimRequest = {
      id: randomUUID(),
      receivedAt: new Date().toISOString(),
      method: req.method ?? "",
      path: pathname,
      body: "",
      outcome: "rejected",
      status: null,
      message: null,
      answeredAt: null,
      answerDelayed: false,
    };
    const finish = (outcome: RequestOutcome, status: number | null, message: string | null) => {
      Object.assign(entry, { outcome, status, message });
      requests.push(entry);
      emit({ type: "request", request: entry });
    };
    const answer = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
      sendJson(res, status, body, headers);
      entry.answeredAt = new Date().toISOString();
    };
    /** A body sent as it is, whatever a real factory might answer. */
    const answerText = (res: ServerResponse, status: number, text: string) => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
      entry.answeredAt = new Date().toISOString();
    };
    return { entry, finish, answer, answerText };
  }

  async function readLoggedBody(req: IncomingMessage, entry: SimRequest) {
    const raw = await readBody(req, MAX_BODY_BYTES);
    const parsed = tryParseJson(raw.text);
    entry.body = parsed.ok && !raw.tooLarge ? parsed.value : raw.text;
    return { raw, parsed };
  }

  /** Down in `unavailable` mode: every call (any path) is answered 503, before anything is checked. */
  async function handleUnavailable(req: IncomingMessage, res: ServerResponse, pathname: string, outage: SimOutage): Promise<void> {
    const { entry, finish, answer } = logEntry(req, pathname);
    await readLoggedBody(req, entry);
    finish("unavailable", 503, `simulated outage until ${outage.endsAt}`);
    answer(res, 503, failBody(`Service Unavailable (simulated outage until ${outage.endsAt})`));
  }

  async function handleManufacture(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const { entry, finish, answer, answerText } = logEntry(req, pathname);
    const reject = (status: number, message: string, headers = {}) => {
      finish("rejected", status, message);
      answer(res, status, failBody(message), headers);
    };

    const { raw, parsed } = await readLoggedBody(req, entry);

    if (pathname !== MANUFACTURE_PATH) return reject(404, `no route for ${pathname}`);
    if (req.method !== "POST") return reject(405, `method ${req.method} not allowed; use POST`, { allow: "POST" });
    if (!isJsonContentType(req.headers["content-type"])) {
      return reject(400, `content-type must be application/json (got ${req.headers["content-type"] ?? "none"})`);
    }
    if (raw.tooLarge) return reject(400, `body must be at most ${MAX_BODY_BYTES} bytes (got ${raw.bytes})`);
    if (!parsed.ok) return reject(400, `body is not valid JSON: ${parsed.error}`);
    const valid = validateManufactureRequest(parsed.value);
    if (!valid.ok) return reject(400, valid.message);
    // A permanent refusal of a valid request: like the validation errors, it never rolls the dice.
    const sku = valid.value.MessageAttributeProductId;
    if (opts.rejectSkus.includes(sku)) {
      return reject(
        400,
        `MessageAttributeProductId ${sku} cannot be produced by factory ${valid.value.MessageAttributeFactoryId} (simulated refusal)`,
      );
    }

    // Always draw twice per valid request (failure, then timeout) so a scripted
    // RNG in tests maps to outcomes predictably.
    const random = opts.random ?? Math.random;
    const failRoll = random();
    const hangRoll = random();
    if (failRoll < opts.failureRate) {
      const status = opts.failureStatus;
      finish("failed", status, `simulated ${status}`);
      if (opts.failureBody !== undefined) return answerText(res, status, opts.failureBody);
      return answer(res, status, failBody(`${STATUS_CODES[status]} (simulated)`));
    }
    if (hangRoll < opts.timeoutRate) {
      finish("timed-out", null, `simulated hang; socket closed after ${opts.hangMs}ms`);
      return hang(req);
    }

    // A third draw only when some answers are late and some are not: a rate of 1 (the
    // default) keeps every existing sequence of draws as it was.
    const { answerDelayMs, answerDelayRate } = opts;
    const lateRoll = answerDelayRate < 1 ? random() : 0;
    entry.answerDelayed = answerDelayMs > 0 && lateRoll < answerDelayRate;
    finish("accepted", 202, null);
    const ok: LegacyOkBody = { result: "OK", requestId: entry.id };
    scheduleCallbacks(entry.id, valid.value);
    // Accepted either way: production goes ahead even if the caller stops waiting for the answer.
    if (entry.answerDelayed) await sleep(answerDelayMs, undefined, { signal: lifetime.signal }).catch(() => undefined);
    if (answerHold) {
      entry.answerDelayed = true;
      await answerHold.released;
    }
    if (!res.destroyed && !req.socket.destroyed) answer(res, 202, ok);
  }

  /** The factory's front door: the control plane always; the API unless the factory is down. */
  function route(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (pathname.startsWith("/_sim/")) return handleControl(req, res, pathname, control);
    const outage = outages.current();
    if (outage?.mode === "unavailable") return handleUnavailable(req, res, pathname, outage);
    if (outage?.mode === "refuse") {
      // Arrived as the port was closing: it goes down with the factory, unseen.
      req.socket.destroy();
      return Promise.resolve();
    }
    return handleManufacture(req, res, pathname);
  }

  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://simulator.invalid").pathname;
    route(req, res, pathname).catch((err) => {
      // Client went away mid-body, or an oversized upload was cut off: nothing to answer.
      if (err instanceof BodyAbortedError || req.destroyed) return;
      if (!res.headersSent) sendJson(res, 500, failBody(`simulator bug: ${(err as Error).message}`));
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
  outages = createOutageSwitch({
    server,
    port,
    host: opts.host,
    onChange: (outage) => {
      try {
        opts.onOutage?.(outage);
      } catch {
        // An observer bug must not take the simulated factory down (or keep it down).
      }
    },
  });

  const control = {
    requests,
    callbacks,
    outages,
    clearLogs,
    holdCallbacks,
    releaseCallbacks,
    holdAnswers,
    releaseAnswers,
    getConfig,
    applyKnobs: (input: unknown) => applyKnobs(parseHttpKnobs(input)),
  };

  async function startOutage(request: OutageRequest): Promise<SimOutage> {
    const { ms, mode = opts.outageMode } = parseOutageRequest(request);
    const outage = outages.begin(ms, mode);
    outages.refuse();
    return outage;
  }

  if (opts.outageMs > 0) {
    const { outageMs: ms, outageMode: mode } = opts;
    scheduledOutage = callAt(Date.now() + opts.outageAfterMs, () => void startOutage({ ms, mode }).catch(() => undefined));
  }

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
    // An outage in progress goes on, and stays in the log.
    outages.log.splice(0, outages.log.length, ...outages.log.filter((outage) => outage === outages.current()));
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      lifetime.abort();
      scheduledOutage?.clear();
      outages.dispose();
      releaseCallbacks(); // held deliveries see the abort and end
      releaseAnswers(); // held answers go to sockets about to be destroyed
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
    holdAnswers,
    releaseAnswers,
    startOutage,
    endOutage: () => outages.end(),
    outages: outages.log,
    summary: (window) => summarize(requests, window),
    requests,
    callbacks,
  };
}
