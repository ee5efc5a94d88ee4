/**
 * A local Amazon EventBridge endpoint for the unmodified EventBridgeClient (AWS JSON 1.1;
 * PutEvents only, rules given as configuration). Each entry is answered first and delivered to
 * the matching rules' targets after, as AWS only acknowledges ingestion: docs/emulators.md#eventbridge.
 */

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, connectableHost, listen, readBody, sendError as sendApiError, sendJson as sendApiJson } from "../http";
import { compilePattern, EventPatternError } from "./pattern";
import { busName, checkEntry, checkRequest, type EventEnvelope, isoSeconds, type PutEventsResultEntry } from "./put-events";

export type { EventEnvelope } from "./put-events";

/** Hands one event to a target. Throwing (or rejecting) means "delivery failed, retry". */
export type Deliver = (event: EventEnvelope) => Promise<void>;

export interface EventBridgeTarget {
  /** Unique within its rule, like the Id of a PutTargets target. */
  id: string;
  deliver: Deliver;
}

export interface EventBridgeRule {
  name: string;
  /** Name or ARN; defaults to "default", like PutRule. */
  eventBusName?: string;
  /** An EventBridge event pattern; validated at start-up (invalid -> start fails). */
  pattern: object;
  targets: EventBridgeTarget[];
}

export interface StartEventBridgeOptions {
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  region: string;
  accountId: string;
  rules: EventBridgeRule[];
  /**
   * Target retry policy. AWS retries failed deliveries with exponential
   * backoff for up to 24 hours / 185 attempts; locally a few quick retries
   * keep tests fast. Defaults: 3 retries, 25 ms base delay (25, 50, 100 ms).
   */
  retry?: { retries?: number; baseDelayMs?: number };
  /** Where give-ups are reported; default console.error. */
  log?: (message: string, error?: unknown) => void;
}

export interface EventBridgeEmulator {
  /** e.g. http://127.0.0.1:PORT - pass as `endpoint` to EventBridgeClient. */
  url: string;
  /** Stop listening, drop open connections, then wait for in-flight deliveries. */
  close(): Promise<void>;
  /** false: every request gets HTTP 503 ServiceUnavailable (a simulated outage); true restores. */
  setAvailable(up: boolean): void;
  /**
   * A silent bus: requests are read and never answered (the connection stays open until the
   * client gives up or close()). `true` silences every request, a predicate only the PutEvents
   * bodies it picks, `false` restores.
   */
  setSilent(when: boolean | ((body: unknown) => boolean)): void;
  /** How many requests were left unanswered by setSilent so far. */
  readonly silenced: number;
  /**
   * An event an AWS service puts on a bus itself (CloudWatch sends alarm state changes to the
   * default bus), routed like an accepted PutEvents entry. Callers cannot do this through
   * PutEvents: AWS refuses `aws.*` sources from them.
   */
  putServiceEvent(event: ServiceEvent): EventEnvelope;
  /** Every event accepted by PutEvents (or put by a service), in order, whether or not a rule matched it. */
  readonly published: EventEnvelope[];
  /** Resolves once every delivery started so far has finished (retries included). */
  idle(): Promise<void>;
  /**
   * Add a rule at run time, as PutRule + PutTargets would (tests listen on the bus this way).
   * Returns its removal (DeleteRule).
   */
  addRule(rule: EventBridgeRule): () => void;
}

/** An AWS service's event, e.g. CloudWatch's "CloudWatch Alarm State Change". */
export interface ServiceEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  time?: Date;
  /** Defaults to "default", where AWS services send their events. */
  eventBusName?: string;
}

const JSON_1_1 = "application/x-amz-json-1.1";
const TARGET_PREFIX = "AWSEvents.";

interface CompiledRule {
  name: string;
  busName: string;
  matches: (event: unknown) => boolean;
  targets: EventBridgeTarget[];
}

export async function startEventBridge(options: StartEventBridgeOptions): Promise<EventBridgeEmulator> {
  let rules = compileRules(options.rules);
  const retries = options.retry?.retries ?? 3;
  const baseDelayMs = options.retry?.baseDelayMs ?? 25;
  const log = options.log ?? ((message: string, error?: unknown) => console.error(message, error));
  const published: EventEnvelope[] = [];
  const inFlight = new Set<Promise<void>>();
  let available = true;
  let silent: boolean | ((body: unknown) => boolean) = false;
  let silenced = 0;

  const route = (envelope: EventEnvelope, bus: string) => {
    for (const rule of rules) {
      if (rule.busName !== bus || !rule.matches(envelope)) continue;
      for (const target of rule.targets) {
        // Each target gets its own copy, so one consumer mutating the event
        // cannot change what the next one sees (in AWS each is a separate
        // serialized delivery).
        const delivery = deliverWithRetry(target, structuredClone(envelope), rule.name).finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      }
    }
  };

  const deliverWithRetry = async (target: EventBridgeTarget, event: EventEnvelope, ruleName: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await target.deliver(event);
        return;
      } catch (error) {
        if (attempt >= retries) {
          // AWS would now drop the event (or send it to the target's DLQ);
          // there is no DLQ here, so make the loss visible instead.
          log(`[eventbridge] rule ${ruleName} target ${target.id}: giving up on event ${event.id} after ${attempt + 1} attempts`, error);
          return;
        }
        // Exponential backoff, jittered so that simultaneous failures do not
        // retry in lockstep.
        const delay = baseDelayMs * 2 ** attempt;
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  };

  const putEvents = (body: unknown) => {
    const entries = checkRequest(body);
    const now = new Date();
    const accepted: Array<{ envelope: EventEnvelope; bus: string }> = [];
    const results: PutEventsResultEntry[] = entries.map((raw) => {
      const outcome = checkEntry(raw, { region: options.region, accountId: options.accountId, now });
      if (!outcome.ok) return outcome.error;
      accepted.push({ envelope: outcome.entry.envelope, bus: outcome.entry.busName });
      return { EventId: outcome.entry.envelope.id };
    });
    return {
      response: { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results },
      // Routed only after the response is written (see file comment).
      afterResponse: () => {
        for (const { envelope, bus } of accepted) {
          published.push(envelope);
          route(envelope, bus);
        }
      },
    };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      // Only reachable on a bug; keep the client from hanging.
      log("[eventbridge] internal error", error);
      if (!res.headersSent) sendJson(res, 500, { __type: "InternalException", message: "internal error" });
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const text = (await readBody(req)).toString("utf8");
    if (!available) {
      // AWS common error ServiceUnavailable: "The request has failed due to a
      // temporary failure of the server." HTTP 503 is retryable for the SDK.
      return sendError(res, new ApiError("ServiceUnavailable", "EventBridge is unavailable (simulated outage)", 503));
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    if (target !== `${TARGET_PREFIX}PutEvents`) {
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target || "(no X-Amz-Target)";
      return sendError(
        res,
        new ApiError("UnknownOperationException", `Operation ${operation} is not supported by the local EventBridge emulator`),
      );
    }
    let body: unknown;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch {
      return sendError(res, new ApiError("SerializationException", "Request body is not valid JSON"));
    }
    if (silent === true || (typeof silent === "function" && silent(body))) {
      silenced++;
      return; // never answered; close() destroys the connection
    }
    let result: ReturnType<typeof putEvents>;
    try {
      result = putEvents(body);
    } catch (error) {
      if (error instanceof ApiError) return sendError(res, error);
      throw error;
    }
    sendJson(res, 200, result.response);
    result.afterResponse();
  };

  const host = options.host ?? "127.0.0.1";
  const port = await listen(server, options.port ?? 0, host);
  const idle = async () => {
    // Loop: a delivery may finish while new ones are being started.
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  return {
    url: `http://${connectableHost(host)}:${port}`,
    published,
    putServiceEvent(event) {
      const envelope: EventEnvelope = {
        version: "0",
        id: randomUUID(),
        "detail-type": event.detailType,
        source: event.source,
        account: options.accountId,
        time: isoSeconds(event.time ?? new Date()),
        region: options.region,
        resources: event.resources ?? [],
        detail: event.detail,
      };
      published.push(envelope);
      route(envelope, busName(event.eventBusName));
      return envelope;
    },
    addRule(rule: EventBridgeRule) {
      const [compiled] = compileRules([rule], rules);
      rules = [...rules, compiled];
      return () => {
        rules = rules.filter((candidate) => candidate !== compiled);
      };
    },
    setAvailable(up: boolean) {
      available = up;
    },
    setSilent(when) {
      silent = when;
    },
    get silenced() {
      return silenced;
    },
    idle,
    async close() {
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      // SDK clients keep connections alive; without this close() would wait for them.
      server.closeAllConnections();
      await closed;
      await idle();
    },
  };
}

function compileRules(rules: EventBridgeRule[], existing: CompiledRule[] = []): CompiledRule[] {
  const seen = new Set<string>(existing.map((rule) => `${rule.busName}/${rule.name}`));
  return rules.map((rule) => {
    const bus = busName(rule.eventBusName);
    // PutRule: rule names are unique per event bus; PutTargets: target ids are unique per rule.
    if (seen.has(`${bus}/${rule.name}`)) throw new Error(`Duplicate rule ${rule.name} on event bus ${bus}`);
    seen.add(`${bus}/${rule.name}`);
    const ids = rule.targets.map((t) => t.id);
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate !== undefined) throw new Error(`Rule ${rule.name} has two targets with id ${duplicate}`);
    try {
      return { name: rule.name, busName: bus, matches: compilePattern(rule.pattern), targets: rule.targets };
    } catch (error) {
      // Name the rule: the pattern error alone does not say which one is bad.
      if (error instanceof EventPatternError) error.message = `Rule ${rule.name}: ${error.message}`;
      throw error;
    }
  });
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => sendApiJson(res, status, body, { contentType: JSON_1_1 });
const sendError = (res: ServerResponse, error: ApiError) => sendApiError(res, error, JSON_1_1);
