/**
 * Real HTTP end to end: the simulator on a free port, and a real node:http
 * receiver for callbacks. No mocks, so these also prove the wire contract.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadFactoryConfig } from "./config";
import { MANUFACTURE_FIELDS, type ManufactureRequest } from "./contract";
import { DEFAULT_OPTIONS, type FactorySimulatorOptions } from "./options";
import { type FactorySimulator, startFactorySimulator } from "./simulator";

// ---------- helpers ----------

interface Receiver {
  url: string;
  hits: { at: number; body: unknown; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Callback receiver; `statusFor(n)` picks the answer for the n-th hit (1-based). */
async function startReceiver(statusFor: (n: number) => number = () => 200): Promise<Receiver> {
  const hits: Receiver["hits"] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => {
      hits.push({ at: Date.now(), body: JSON.parse(text), headers: req.headers });
      res.writeHead(statusFor(hits.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callbacks/factory`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function sim(options: Partial<FactorySimulatorOptions> = {}): Promise<FactorySimulator> {
  const s = await startFactorySimulator({ port: 0, delayMs: 50, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function receiver(statusFor?: (n: number) => number): Promise<Receiver> {
  const r = await startReceiver(statusFor);
  cleanups.push(() => r.close());
  return r;
}

function validBody(callbackUrl: string): ManufactureRequest {
  return {
    MessageGroupId: "stock-arrival-group",
    MessageAttributeProductId: "CP-502101",
    MessageAttributeProductCnt: "10",
    MessageAttributeFactoryId: "FF-500293",
    MessageAttributeRequester: "restock-service",
    CallbackUrl: callbackUrl,
  };
}

function post(s: FactorySimulator, body: unknown, init: { contentType?: string | null; signal?: AbortSignal; path?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.contentType !== null) headers["content-type"] = init.contentType ?? "application/json";
  // Uint8Array so fetch adds no content-type of its own.
  const payload = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  return fetch(`${s.url}${init.path ?? "/api/manufactures"}`, { method: "POST", headers, body: payload, signal: init.signal });
}

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await sleep(5);
  }
}

// ---------- accepted requests and callbacks ----------

describe("POST /api/manufactures (accepted)", () => {
  it("answers 202 OK with a requestId and calls back after delayMs echoing exactly the six fields", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 120 });
    const body = validBody(r.url);

    const sentAt = Date.now();
    const res = await post(s, body);
    expect(res.status).toBe(202);
    const json = (await res.json()) as { result: string; requestId: string };
    expect(json).toEqual({ result: "OK", requestId: expect.any(String) });

    // The attempt is logged once the receiver's answer arrives, just after the hit.
    await waitFor(() => r.hits.length === 1 && s.callbacks.length === 1);
    expect(r.hits[0].at - sentAt).toBeGreaterThanOrEqual(110);
    expect(r.hits[0].body).toStrictEqual(body);
    expect(Object.keys(r.hits[0].body as object)).toEqual([...MANUFACTURE_FIELDS]);
    expect(r.hits[0].headers["content-type"]).toMatch(/^application\/json/);
    expect(s.callbacks).toEqual([
      { requestId: json.requestId, url: r.url, sentAt: expect.any(String), status: 200, error: null, attempt: 1, delivery: 1 },
    ]);
    expect(s.requests).toMatchObject([{ id: json.requestId, outcome: "accepted", status: 202, body }]);
  });

  it("accepts unknown extra fields but does not echo them", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    const body = validBody(r.url);
    const res = await post(s, { ...body, Extra: "ignored", MessageAttributeStatus: "DONE" });
    expect(res.status).toBe(202);
    await waitFor(() => r.hits.length === 1);
    expect(r.hits[0].body).toStrictEqual(body);
  });

  it("calls back twice in 'twice' mode, the duplicate about delayMs/2 later", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 80, callback: "twice" });
    const body = validBody(r.url);
    expect((await post(s, body)).status).toBe(202);
    await waitFor(() => r.hits.length === 2 && s.callbacks.length === 2);
    expect(r.hits[0].body).toStrictEqual(body);
    expect(r.hits[1].body).toStrictEqual(body);
    expect(r.hits[1].at - r.hits[0].at).toBeGreaterThanOrEqual(30);
    expect(s.callbacks.map((c) => c.delivery)).toEqual([1, 2]);
    await sleep(150);
    expect(r.hits).toHaveLength(2);
  });

  it("never calls back in 'never' mode", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 20, callback: "never" });
    expect((await post(s, validBody(r.url))).status).toBe(202);
    await sleep(200); // 10x delayMs
    expect(r.hits).toHaveLength(0);
    expect(s.callbacks).toHaveLength(0);
    expect(s.requests[0].outcome).toBe("accepted");
  });
});

// ---------- slow answers ----------

describe("answerDelayMs", () => {
  it("accepts and calls back even when the caller gave up before the late 202", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0, answerDelayMs: 500 });
    const err = await post(s, validBody(r.url), { signal: AbortSignal.timeout(100) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    await waitFor(() => r.hits.length === 1);
    expect(s.requests[0].outcome).toBe("accepted");
  });
});

describe("late answers", () => {
  it("answers only answerDelayRate of accepted requests late, with a third draw for each accepted one", async () => {
    const r = await receiver();
    // failure, hang, late: the first accepted request is late (0.4 < 0.5), the second is not.
    const draws = [0.9, 0.9, 0.4, /* */ 0.9, 0.9, 0.6];
    const s = await sim({ delayMs: 0, answerDelayMs: 60_000, answerDelayRate: 0.5, random: () => draws.shift()! });
    const late = await post(s, validBody(r.url), { signal: AbortSignal.timeout(200) }).catch((e: Error) => e);
    expect((late as Error).name).toBe("TimeoutError");
    expect((await post(s, validBody(r.url))).status).toBe(202);
    expect(draws).toEqual([]);
    // The production run happened for both: each calls back.
    await waitFor(() => r.hits.length === 2);
    expect(s.requests).toMatchObject([
      { outcome: "accepted", answerDelayed: true, answeredAt: null },
      { outcome: "accepted", answerDelayed: false, answeredAt: expect.any(String) },
    ]);
  });

  it("holds answers until released: the callback comes first, the 202 when the test says", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    s.holdAnswers();
    const answer = post(s, validBody(r.url));
    await waitFor(() => r.hits.length === 1 && s.callbacks.length === 1);
    expect(s.requests).toMatchObject([{ outcome: "accepted", answerDelayed: true, answeredAt: null }]);
    s.releaseAnswers();
    expect((await answer).status).toBe(202);
    expect(s.requests[0].answeredAt! >= s.callbacks[0].sentAt).toBe(true);
    // Released: the next one answers at once.
    expect((await post(s, validBody(r.url))).status).toBe(202);
    expect(s.requests[1].answerDelayed).toBe(false);
  });

  it("is switched over HTTP with POST /_sim/answers/hold and /release; production goes ahead for a caller that gave up", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    expect((await fetch(`${s.url}/_sim/answers/hold`, { method: "POST" })).status).toBe(204);
    const err = await post(s, validBody(r.url), { signal: AbortSignal.timeout(200) }).catch((e: Error) => e);
    expect((err as Error).name).toBe("TimeoutError");
    await waitFor(() => r.hits.length === 1);
    expect((await fetch(`${s.url}/_sim/answers/release`, { method: "POST" })).status).toBe(204);
    expect((await post(s, validBody(r.url))).status).toBe(202);
    expect(s.requests.map((q) => [q.outcome, q.answerDelayed])).toEqual([
      ["accepted", true],
      ["accepted", false],
    ]);
  });
});

// ---------- refused SKUs ----------

describe("rejectSkus", () => {
  it("answers 400 naming the SKU and the factory, never calls back, and rolls no dice", async () => {
    const r = await receiver();
    const draws: number[] = [];
    const s = await sim({
      delayMs: 0,
      rejectSkus: ["CP-502101", "CP-502102"],
      random: () => {
        draws.push(0);
        return 0.99;
      },
    });
    const res = await post(s, validBody(r.url));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      result: "FAIL",
      message: "MessageAttributeProductId CP-502101 cannot be produced by factory FF-500293 (simulated refusal)",
    });
    expect(draws).toEqual([]);
    expect((await post(s, { ...validBody(r.url), MessageAttributeProductId: "CP-502103" })).status).toBe(202);
    await waitFor(() => r.hits.length === 1);
    expect(r.hits[0].body).toMatchObject({ MessageAttributeProductId: "CP-502103" });
    expect(s.requests.map((q) => [q.outcome, q.status])).toEqual([
      ["rejected", 400],
      ["accepted", 202],
    ]);
    await sleep(60);
    expect(r.hits).toHaveLength(1);
  });

  it("is set over HTTP with POST /_sim/config; a bad list is a 400 that changes nothing", async () => {
    const s = await sim({ callback: "never" });
    const res = await fetch(`${s.url}/_sim/config`, { method: "POST", body: JSON.stringify({ rejectSkus: ["CP-502101"] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rejectSkus: string[] }).rejectSkus).toEqual(["CP-502101"]);
    expect((await post(s, base)).status).toBe(400);
    for (const bad of ['{"rejectSkus":"CP-502101"}', '{"rejectSkus":[""]}', '{"rejectSkus":[7]}']) {
      expect((await fetch(`${s.url}/_sim/config`, { method: "POST", body: bad })).status, bad).toBe(400);
    }
    expect(s.getConfig().rejectSkus).toEqual(["CP-502101"]);
    s.setOptions({ rejectSkus: [] });
    expect((await post(s, base)).status).toBe(202);
  });
});

// ---------- holding callbacks ----------

describe("holding callbacks", () => {
  it("keeps due callbacks until released, then sends every one", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    s.holdCallbacks();
    expect((await post(s, validBody(r.url))).status).toBe(202);
    expect((await post(s, validBody(r.url))).status).toBe(202);
    await sleep(200); // long past delayMs: only the hold keeps them back
    expect(r.hits).toHaveLength(0);
    s.releaseCallbacks();
    await waitFor(() => r.hits.length === 2 && s.callbacks.length === 2);
    expect(s.callbacks.map((c) => c.status)).toEqual([200, 200]);
  });

  it("is switched over HTTP with POST /_sim/callbacks/hold and /release", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    expect((await fetch(`${s.url}/_sim/callbacks/hold`, { method: "POST" })).status).toBe(204);
    expect((await post(s, validBody(r.url))).status).toBe(202);
    await sleep(100);
    expect(r.hits).toHaveLength(0);
    expect((await fetch(`${s.url}/_sim/callbacks/release`, { method: "POST" })).status).toBe(204);
    await waitFor(() => r.hits.length === 1);
  });

  it("closes promptly with callbacks held, sending none", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    s.holdCallbacks();
    expect((await post(s, validBody(r.url))).status).toBe(202);
    await s.close();
    expect(r.hits).toHaveLength(0);
  });
});

// ---------- callback retries ----------

describe("callback delivery retries", () => {
  it("retries after a 503 and stops once the receiver answers 200", async () => {
    const r = await receiver((n) => (n === 1 ? 503 : 200));
    const s = await sim({ delayMs: 0 });
    const body = validBody(r.url);
    await post(s, body);
    await waitFor(() => s.callbacks.length === 2);
    expect(s.callbacks.map((c) => [c.attempt, c.status, c.error])).toEqual([
      [1, 503, null],
      [2, 200, null],
    ]);
    expect(r.hits.map((h) => h.body)).toStrictEqual([body, body]);
    await sleep(400); // longer than the next backoff would be
    expect(r.hits).toHaveLength(2);
  });

  it("treats a 4xx as final (no retry)", async () => {
    const r = await receiver(() => 404);
    const s = await sim({ delayMs: 0, callbackRetries: 3 });
    await post(s, validBody(r.url));
    await waitFor(() => s.callbacks.length === 1);
    await sleep(300); // first retry would fire after 100 ms
    expect(r.hits).toHaveLength(1);
    expect(s.callbacks).toMatchObject([{ attempt: 1, status: 404, error: null }]);
  });

  it("retries network errors callbackRetries times, then gives up", async () => {
    const dead = await startReceiver();
    await dead.close(); // nothing listens on this port any more
    const s = await sim({ delayMs: 0, callbackRetries: 1 });
    await post(s, validBody(dead.url));
    await waitFor(() => s.callbacks.length === 2);
    expect(s.callbacks.map((c) => [c.attempt, c.status])).toEqual([
      [1, null],
      [2, null],
    ]);
    expect(s.callbacks[0].error).toMatch(/ECONNREFUSED/);
    await sleep(300);
    expect(s.callbacks).toHaveLength(2);
  });
});

// ---------- legacy validation ----------

const base = validBody("http://127.0.0.1:9/cb");
const without = (field: string) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== field));

const badBodies: [label: string, body: unknown, message: string, contentType?: string | null][] = [
  ["invalid JSON", '{"MessageGroupId":', "body is not valid JSON"],
  ["empty body", "", "body is not valid JSON"],
  ["JSON array", [base], "body must be a JSON object"],
  ["JSON null", null, "body must be a JSON object"],
  ["JSON string", '"hello"', "body must be a JSON object"],
  ...MANUFACTURE_FIELDS.map((f): [string, unknown, string] => [`missing ${f}`, without(f), `${f} is required`]),
  ["ProductCnt as number", { ...base, MessageAttributeProductCnt: 10 }, "MessageAttributeProductCnt must be a string (got number)"],
  ["FactoryId null", { ...base, MessageAttributeFactoryId: null }, "MessageAttributeFactoryId must be a string (got null)"],
  ["Requester empty", { ...base, MessageAttributeRequester: "  " }, "MessageAttributeRequester must not be empty"],
  ...["0", "-3", "1.5", "ten", "010", " 10", "1e3", "99999999999999999999"].map((cnt): [string, unknown, string] => [
    `ProductCnt ${JSON.stringify(cnt)}`,
    { ...base, MessageAttributeProductCnt: cnt },
    "MessageAttributeProductCnt must be a positive integer string",
  ]),
  ...["not a url", "ftp://example.com/cb", "/relative/cb", "mailto:ops@example.com"].map((u): [string, unknown, string] => [
    `CallbackUrl ${JSON.stringify(u)}`,
    { ...base, CallbackUrl: u },
    "CallbackUrl must be an absolute http(s) URL",
  ]),
  ["text/plain content-type", base, "content-type must be application/json", "text/plain"],
  ["no content-type", base, "content-type must be application/json", null],
  ["body over 64 KiB", { ...base, Padding: "x".repeat(70 * 1024) }, "body must be at most 65536 bytes"],
];

describe("legacy validation", () => {
  it.each(badBodies)("rejects %s with 400 and never calls back", async (_label, body, message, contentType) => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 }); // an accidental accept would call back at once
    const res = await post(s, body, { contentType });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const json = (await res.json()) as { result: string; message: string };
    expect(json.result).toBe("FAIL");
    expect(json.message).toContain(message);
    expect(s.requests).toMatchObject([{ outcome: "rejected", status: 400, message: json.message }]);
    await sleep(60);
    expect(r.hits).toHaveLength(0);
  });

  it("accepts a body of exactly 64 KiB", async () => {
    const s = await sim({ callback: "never" });
    const skeleton = JSON.stringify({ ...base, Padding: "" });
    const body = { ...base, Padding: "x".repeat(64 * 1024 - skeleton.length) };
    expect(JSON.stringify(body)).toHaveLength(64 * 1024);
    expect((await post(s, body)).status).toBe(202);
  });

  it("answers 404 for other paths and 405 (Allow: POST) for other methods", async () => {
    const s = await sim();
    for (const path of ["/api/manufacture", "/api/manufactures/", "/"]) {
      const res = await post(s, base, { path });
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ result: "FAIL", message: `no route for ${path}` });
    }
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await fetch(`${s.url}/api/manufactures`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(((await res.json()) as { result: string }).result).toBe("FAIL");
    }
    expect(s.requests.map((r) => [r.outcome, r.status])).toEqual([
      ...Array(3).fill(["rejected", 404]),
      ...Array(3).fill(["rejected", 405]),
    ]);
  });
});

// ---------- chaos knobs ----------

describe("chaos knobs", () => {
  it("failureRate=1 answers 500 and never calls back", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0, failureRate: 1 });
    const res = await post(s, validBody(r.url));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ result: "FAIL", message: expect.any(String) });
    await sleep(100);
    expect(r.hits).toHaveLength(0);
    expect(s.requests).toMatchObject([{ outcome: "failed", status: 500 }]);
  });

  it.each([
    [503, "Service Unavailable (simulated)"],
    [429, "Too Many Requests (simulated)"],
    [408, "Request Timeout (simulated)"],
  ] as const)("failureStatus=%i answers that status instead of 500, and never calls back", async (status, message) => {
    const r = await receiver();
    const s = await sim({ delayMs: 0, failureRate: 1, failureStatus: status });
    const res = await post(s, validBody(r.url));
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ result: "FAIL", message });
    expect(s.requests).toMatchObject([{ outcome: "failed", status, message: `simulated ${status}` }]);
    await sleep(60);
    expect(r.hits).toHaveLength(0);
    expect(() => s.setOptions({ failureStatus: 404 as never })).toThrow(/failureStatus/);
  });

  it("timeoutRate=1 hangs so the client's own timeout fires, and never calls back", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0, timeoutRate: 1, hangMs: 5000 });
    const started = Date.now();
    const err = await post(s, validBody(r.url), { signal: AbortSignal.timeout(200) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await sleep(100);
    expect(r.hits).toHaveLength(0);
    expect(s.requests).toMatchObject([{ outcome: "timed-out", status: null }]);
  });

  it("closes a hung socket without any response after hangMs", async () => {
    const s = await sim({ timeoutRate: 1, hangMs: 150 });
    const started = Date.now();
    const err = await post(s, base).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TypeError); // undici: "fetch failed" (other side closed)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("close() destroys hung sockets instead of waiting hangMs", async () => {
    const s = await startFactorySimulator({ port: 0, timeoutRate: 1, hangMs: 60_000 });
    const pending = post(s, base).catch((e: Error) => e);
    await waitFor(() => s.requests.length === 1);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(TypeError);
  });

  it("uses the injected RNG: two draws per valid request, failure first, then timeout", async () => {
    const draws = [0.49, 0.99, /* */ 0.5, 0.5, /* */ 0.99, 0.49];
    const s = await sim({ failureRate: 0.5, timeoutRate: 0.5, callback: "never", random: () => draws.shift()! });
    expect((await post(s, base)).status).toBe(500);
    expect((await post(s, base)).status).toBe(202); // 0.5 is not < 0.5
    await post(s, base, { signal: AbortSignal.timeout(100) }).catch(() => undefined);
    expect(s.requests.map((r) => r.outcome)).toEqual(["failed", "accepted", "timed-out"]);
    expect(draws).toEqual([]);
  });
});

// ---------- outages ----------

/** The error a caller gets from fetch, with the socket-level code undici keeps in `cause`. */
async function fetchError(url: string, init?: RequestInit): Promise<string> {
  const outcome = await fetch(url, init).then(
    (res) => `HTTP ${res.status}`,
    (e: Error) => (e.cause as { code?: string } | undefined)?.code ?? e.name,
  );
  return outcome;
}

describe("outages", () => {
  it("refuse: the port refuses connections (API and /_sim alike), then opens again on the same URL", async () => {
    const r = await receiver();
    const seen: [string, string | null][] = [];
    const s = await sim({ delayMs: 0, onOutage: (o) => seen.push([o.mode, o.endedAt]) });
    expect((await post(s, validBody(r.url))).status).toBe(202); // a keep-alive socket the outage must not spare
    const outage = await s.startOutage({ ms: 60_000 });
    expect(outage).toMatchObject({ mode: "refuse", endedAt: null, error: null });
    expect(Date.parse(outage.endsAt) - Date.parse(outage.startedAt)).toBe(60_000);
    expect(await fetchError(`${s.url}/api/manufactures`, { method: "POST", body: "{}" })).toBe("ECONNREFUSED");
    expect(await fetchError(`${s.url}/_sim/config`)).toBe("ECONNREFUSED");
    await expect(s.startOutage({ ms: 1000 })).rejects.toThrow(/already down/);

    await s.endOutage();
    expect((await post(s, validBody(r.url))).status).toBe(202);
    expect(s.outages).toEqual([{ ...outage, endedAt: expect.any(String) }]);
    expect(seen).toEqual([
      ["refuse", null],
      ["refuse", s.outages[0].endedAt],
    ]);
    // The refused calls never reached it: the log holds the two accepted ones only.
    expect(s.summary({ from: outage.startedAt, until: s.outages[0].endedAt! }).received).toBe(0);
    expect(s.summary().byOutcome).toMatchObject({ accepted: 2, unavailable: 0 });
  });

  it("refuse: drops a call in progress, and ends by itself after ms", async () => {
    const s = await sim({ timeoutRate: 1, hangMs: 60_000 });
    const hung = post(s, base).catch((e: Error) => e);
    await waitFor(() => s.requests.length === 1);
    await s.startOutage({ ms: 300, mode: "refuse" });
    expect(await hung).toBeInstanceOf(TypeError); // the connection went down with the factory
    await waitFor(() => s.outages[0].endedAt !== null);
    expect(Date.parse(s.outages[0].endedAt!) - Date.parse(s.outages[0].startedAt)).toBeGreaterThanOrEqual(300);
    expect(s.outages[0].endedAt! >= s.outages[0].endsAt).toBe(true);
    s.setOptions({ timeoutRate: 0, callback: "never" });
    expect((await post(s, base)).status).toBe(202);
  });

  it("unavailable: every call is answered 503 and logged, before any check; DELETE /_sim/outage ends it", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0, outageMode: "unavailable" });
    const started = await fetch(`${s.url}/_sim/outage`, { method: "POST", body: JSON.stringify({ ms: 60_000 }) });
    expect(started.status).toBe(201);
    const outage = (await started.json()) as { mode: string; startedAt: string; endsAt: string };
    expect(outage.mode).toBe("unavailable");

    const res = await post(s, validBody(r.url));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ result: "FAIL", message: `Service Unavailable (simulated outage until ${outage.endsAt})` });
    expect((await post(s, "{oops")).status).toBe(503);
    expect((await fetch(`${s.url}/elsewhere`)).status).toBe(503);
    const again = await fetch(`${s.url}/_sim/outage`, { method: "POST", body: JSON.stringify({ ms: 1000 }) });
    expect(again.status).toBe(409);

    expect((await fetch(`${s.url}/_sim/outage`, { method: "DELETE" })).status).toBe(204);
    expect((await post(s, validBody(r.url))).status).toBe(202);
    await waitFor(() => r.hits.length === 1); // only the call after the outage was produced
    const outages = (await (await fetch(`${s.url}/_sim/outages`)).json()) as { endedAt: string }[];
    expect(outages).toEqual([{ ...outage, endedAt: expect.any(String), error: null }]);

    const during = await fetch(`${s.url}/_sim/summary?from=${outage.startedAt}&until=${outages[0].endedAt}`);
    expect(await during.json()).toEqual({
      received: 3,
      byOutcome: { accepted: 0, rejected: 0, failed: 0, "timed-out": 0, unavailable: 3 },
      accepted: 0,
      lateAnswers: 0,
      productionRuns: {},
    });
    expect(s.requests.map((q) => [q.outcome, q.status])).toEqual([
      ["unavailable", 503],
      ["unavailable", 503],
      ["unavailable", 503],
      ["accepted", 202],
    ]);
  });

  it("refuse over HTTP: the caller reads its 201, then the port closes until the outage ends by itself", async () => {
    const s = await sim({ callback: "never" });
    const res = await fetch(`${s.url}/_sim/outage`, { method: "POST", body: JSON.stringify({ ms: 500, mode: "refuse" }) });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ mode: "refuse", endedAt: null });
    await waitFor(() => s.outages[0].endedAt !== null);
    expect((await post(s, base)).status).toBe(202);
    expect(await (await fetch(`${s.url}/_sim/outages`)).json()).toMatchObject([{ mode: "refuse", endedAt: expect.any(String) }]);
  });

  it("rejects a bad outage request with 400", async () => {
    const s = await sim();
    for (const bad of ['{"ms":0}', '{"seconds":60}', '{"ms":1000,"mode":"down"}', "soon"]) {
      const res = await fetch(`${s.url}/_sim/outage`, { method: "POST", body: bad });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { result: string }).result).toBe("FAIL");
    }
    await expect(s.startOutage({ ms: -1 })).rejects.toThrow(/ms/);
    expect(s.outages).toEqual([]);
    expect((await fetch(`${s.url}/_sim/summary?from=yesterday`)).status).toBe(400);
  });

  it("starts the outage the options schedule, outageAfterMs after startup", async () => {
    const startedAt = Date.now();
    const s = await sim({ outageMs: 60_000, outageAfterMs: 200, outageMode: "unavailable" });
    await waitFor(() => s.outages.length === 1);
    expect(Date.parse(s.outages[0].startedAt) - startedAt).toBeGreaterThanOrEqual(200);
    expect((await post(s, base)).status).toBe(503);
    expect(s.getConfig()).toMatchObject({ outageMs: 60_000, outageAfterMs: 200, outageMode: "unavailable" });
    // Start-time settings, not runtime knobs.
    expect((await fetch(`${s.url}/_sim/config`, { method: "POST", body: '{"outageMs":1}' })).status).toBe(400);
  });

  it("close() during a refused outage returns at once and does not open the port again", async () => {
    const s = await startFactorySimulator({ port: 0 });
    await s.startOutage({ ms: 100, mode: "refuse" });
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(300); // past the outage's end
    expect(await fetchError(`${s.url}/_sim/config`)).toBe("ECONNREFUSED");
    expect(s.outages[0].endedAt).toBeNull();
  });

  it("DELETE /_sim/requests clears the outage log but keeps the outage in progress", async () => {
    const s = await sim({ outageMode: "unavailable" });
    await s.startOutage({ ms: 50 });
    await waitFor(() => s.outages[0].endedAt !== null);
    await s.startOutage({ ms: 60_000 });
    expect((await fetch(`${s.url}/_sim/requests`, { method: "DELETE" })).status).toBe(204);
    expect(s.outages).toMatchObject([{ endedAt: null }]);
  });
});

// ---------- what the factory saw ----------

describe("summary", () => {
  it("counts production runs per callback target (the URL without its query) and late answers, in a window", async () => {
    const s = await sim({ callback: "never" });
    const target = "http://127.0.0.1:9/factory/callbacks/01ABC";
    await post(s, { ...base, CallbackUrl: `${target}?attempt=1&token=a` });
    s.setOptions({ answerDelayMs: 1 });
    await post(s, { ...base, CallbackUrl: `${target}?attempt=2&token=b` });
    s.setOptions({ answerDelayMs: 0, failureRate: 1 });
    await post(s, { ...base, CallbackUrl: `${target}?attempt=3&token=c` });
    s.setOptions({ failureRate: 0 });
    await post(s, { ...base, CallbackUrl: "http://127.0.0.1:9/factory/callbacks/01DEF?attempt=1" });

    expect(s.summary()).toEqual({
      received: 4,
      byOutcome: { accepted: 3, rejected: 0, failed: 1, "timed-out": 0, unavailable: 0 },
      accepted: 3,
      lateAnswers: 1,
      productionRuns: { [target]: 2, "http://127.0.0.1:9/factory/callbacks/01DEF": 1 },
    });
    expect(s.summary({ from: s.requests[2].receivedAt })).toMatchObject({ received: 2, accepted: 1 });
    // `until` is not included: an outage's endedAt is the first moment it serves again.
    expect(s.summary({ until: s.requests[0].receivedAt }).received).toBe(0);
    expect(s.summary({ from: s.requests[0].receivedAt, until: s.requests[3].receivedAt }).received).toBeLessThan(4);
  });
});

// ---------- runtime control ----------

describe("runtime control", () => {
  it("setOptions changes behaviour for new requests and validates input", async () => {
    const s = await sim({ callback: "never" });
    expect(s.setOptions({ failureRate: 1 })).toMatchObject({ failureRate: 1 });
    expect((await post(s, base)).status).toBe(500);
    s.setOptions({ failureRate: 0 });
    expect((await post(s, base)).status).toBe(202);
    expect(() => s.setOptions({ failureRate: 1.5 })).toThrow(/failureRate/);
    expect(() => s.setOptions({ callback: "thrice" as never })).toThrow(/callback/);
    expect(() => s.setOptions({ port: 1 } as never)).toThrow(/port/);
    expect(s.getConfig().failureRate).toBe(0);
  });

  it("POST /_sim/config changes knobs, GET returns them, bad input is a 400 that changes nothing", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    const res = await fetch(`${s.url}/_sim/config`, { method: "POST", body: JSON.stringify({ callback: "twice", delayMs: 10 }) });
    expect(res.status).toBe(200);
    const port = Number(new URL(s.url).port);
    const expected = { ...DEFAULT_OPTIONS, port, callback: "twice", delayMs: 10 };
    expect(await res.json()).toEqual(expected);
    expect(await (await fetch(`${s.url}/_sim/config`)).json()).toEqual(expected);

    await post(s, validBody(r.url));
    await waitFor(() => r.hits.length === 2);

    for (const bad of ['{"failureRate":"high"}', '{"failRate":0.5}', "not json"]) {
      const badRes = await fetch(`${s.url}/_sim/config`, { method: "POST", body: bad });
      expect(badRes.status, bad).toBe(400);
      expect(((await badRes.json()) as { result: string }).result).toBe("FAIL");
    }
    expect(s.getConfig()).toEqual(expected);
  });

  it("GET /_sim/requests and /_sim/callbacks expose the logs; DELETE /_sim/requests clears them", async () => {
    const r = await receiver();
    const s = await sim({ delayMs: 0 });
    await post(s, validBody(r.url));
    await post(s, "{oops");
    s.setOptions({ failureRate: 1 });
    await post(s, base);
    await waitFor(() => s.callbacks.length === 1);

    const requests = (await (await fetch(`${s.url}/_sim/requests`)).json()) as Record<string, unknown>[];
    expect(requests.map((q) => [q.outcome, q.status])).toEqual([
      ["accepted", 202],
      ["rejected", 400],
      ["failed", 500],
    ]);
    expect(requests[0]).toMatchObject({ method: "POST", path: "/api/manufactures", body: validBody(r.url) });
    expect(requests[1].body).toBe("{oops"); // unparseable bodies are kept raw
    expect(new Date(requests[0].receivedAt as string).toISOString()).toBe(requests[0].receivedAt);

    const callbacks = (await (await fetch(`${s.url}/_sim/callbacks`)).json()) as Record<string, unknown>[];
    expect(callbacks).toMatchObject([{ requestId: requests[0].id, url: r.url, status: 200, error: null, attempt: 1 }]);

    const del = await fetch(`${s.url}/_sim/requests`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(await (await fetch(`${s.url}/_sim/requests`)).json()).toEqual([]);
    expect(await (await fetch(`${s.url}/_sim/callbacks`)).json()).toEqual([]);
    expect(s.requests).toHaveLength(0); // /_sim/* calls themselves are never logged
  });

  it("rejects invalid start options and reports the real port when started on port 0", async () => {
    await expect(startFactorySimulator({ port: 0, failureRate: 2 })).rejects.toThrow(/failureRate/);
    await expect(startFactorySimulator({ port: 0, callback: "always" as never })).rejects.toThrow(/callback/);
    const s = await sim();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(s.url).port).not.toBe("0");
    expect(s.getConfig().port).toBe(Number(new URL(s.url).port));
  });
});

// ---------- env config ----------

describe("loadFactoryConfig", () => {
  it("uses defaults when nothing (or blanks) are set", () => {
    const { random: _r, onEvent: _e, onOutage: _o, ...defaults } = DEFAULT_OPTIONS;
    expect(loadFactoryConfig({})).toEqual(defaults);
    expect(loadFactoryConfig({ FACTORY_PORT: "", FACTORY_CALLBACK: "  " })).toEqual(defaults);
    expect(defaults).toEqual({
      port: 3001,
      host: "127.0.0.1",
      delayMs: 3000,
      failureRate: 0,
      failureStatus: 500,
      timeoutRate: 0,
      hangMs: 60000,
      answerDelayMs: 0,
      answerDelayRate: 1,
      rejectSkus: [],
      outageMode: "refuse",
      outageMs: 0,
      outageAfterMs: 0,
      callback: "once",
      callbackRetries: 2,
    });
  });

  it("parses every variable", () => {
    expect(
      loadFactoryConfig({
        FACTORY_PORT: "0",
        FACTORY_HOST: "0.0.0.0",
        FACTORY_DELAY_MS: "250",
        FACTORY_FAILURE_RATE: "0.25",
        FACTORY_FAILURE_STATUS: "503",
        FACTORY_TIMEOUT_RATE: "1",
        FACTORY_HANG_MS: "5000",
        FACTORY_ANSWER_DELAY_MS: "700",
        FACTORY_ANSWER_DELAY_RATE: "0.1",
        FACTORY_REJECT_SKUS: "CP-502101, CP-502102",
        FACTORY_OUTAGE_MODE: "unavailable",
        FACTORY_OUTAGE_MS: "60000",
        FACTORY_OUTAGE_AFTER_MS: "30000",
        FACTORY_CALLBACK: "twice",
        FACTORY_CALLBACK_RETRIES: "0",
      }),
    ).toEqual({
      port: 0,
      host: "0.0.0.0",
      delayMs: 250,
      failureRate: 0.25,
      failureStatus: 503,
      timeoutRate: 1,
      hangMs: 5000,
      answerDelayMs: 700,
      answerDelayRate: 0.1,
      rejectSkus: ["CP-502101", "CP-502102"],
      outageMode: "unavailable",
      outageMs: 60000,
      outageAfterMs: 30000,
      callback: "twice",
      callbackRetries: 0,
    });
  });

  it.each([
    ["FACTORY_FAILURE_RATE", "1.5", "a number from 0 to 1"],
    ["FACTORY_FAILURE_RATE", "50%", "a number from 0 to 1"],
    ["FACTORY_FAILURE_RATE", "-0.1", "a number from 0 to 1"],
    ["FACTORY_TIMEOUT_RATE", "abc", "a number from 0 to 1"],
    ["FACTORY_PORT", "70000", "an integer 0-65535"],
    ["FACTORY_PORT", "30o1", "an integer 0-65535"],
    ["FACTORY_DELAY_MS", "-1", "whole milliseconds >= 0"],
    ["FACTORY_DELAY_MS", "1.5", "whole milliseconds >= 0"],
    ["FACTORY_HANG_MS", "forever", "whole milliseconds >= 0"],
    ["FACTORY_CALLBACK", "thrice", "one of once, twice, never"],
    ["FACTORY_CALLBACK_RETRIES", "99", "an integer 0-10"],
    ["FACTORY_ANSWER_DELAY_RATE", "2", "a number from 0 to 1"],
    ["FACTORY_FAILURE_STATUS", "404", "one of 500, 502, 503, 504, 408, 429"],
    ["FACTORY_REJECT_SKUS", "CP-1,,CP-2", "comma-separated SKUs"],
    ["FACTORY_REJECT_SKUS", "CP-1,", "comma-separated SKUs"],
    ["FACTORY_OUTAGE_MODE", "down", "one of refuse, unavailable"],
    ["FACTORY_OUTAGE_MS", "1m", "whole milliseconds >= 0"],
    ["FACTORY_OUTAGE_AFTER_MS", "-5", "whole milliseconds >= 0"],
  ])("rejects %s=%s naming the variable and allowed values", (variable, value, allowed) => {
    const thrown = (() => {
      try {
        loadFactoryConfig({ [variable]: value });
      } catch (err) {
        return (err as Error).message;
      }
      return "did not throw";
    })();
    expect(thrown).toContain(`${variable} must be ${allowed}`);
    expect(thrown).toContain(`(got "${value}")`);
  });

  it("reports every bad variable at once", () => {
    expect(() => loadFactoryConfig({ FACTORY_PORT: "x", FACTORY_CALLBACK: "always" })).toThrow(/FACTORY_PORT.*FACTORY_CALLBACK/);
  });
});

// ---------- CLI ----------

// A cold `tsx` start takes tens of seconds on a busy machine: generous bounds, not races.
describe("cli", { timeout: 300_000 }, () => {
  it("prints the URL and knobs, logs requests, and exits 0 on SIGINT", async () => {
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", cli], {
      env: { ...process.env, FACTORY_PORT: "0", FACTORY_CALLBACK: "never", FACTORY_FAILURE_RATE: "0.5" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(async () => void child.kill("SIGKILL"));
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

    await waitFor(() => /listening on http:\/\/\S+/.test(out), 240_000);
    expect(out).toMatch(/failureRate=0\.5 .*callback=never/);
    const url = out.match(/listening on (http:\/\/\S+)/)![1];
    await fetch(`${url}/nope`);
    await waitFor(() => out.includes("/nope"));
    expect(out).toMatch(/request \S+ GET \/nope -> 404 rejected/);

    await fetch(`${url}/_sim/outage`, { method: "POST", body: '{"ms":600000,"mode":"unavailable"}' });
    await waitFor(() => out.includes("outage: the factory is DOWN (answering 503)"));
    await fetch(`${url}/_sim/outage`, { method: "DELETE" });
    await waitFor(() => out.includes("outage over: the factory is back"));

    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("exits 1 with the variable name on bad env", async () => {
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", cli], {
      env: { ...process.env, FACTORY_PORT: "0", FACTORY_TIMEOUT_RATE: "2" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(async () => void child.kill("SIGKILL"));
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(err).toContain("FACTORY_TIMEOUT_RATE must be a number from 0 to 1");
  });
});
