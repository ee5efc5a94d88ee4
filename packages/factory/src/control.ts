/**
 * The simulator's /_sim/* endpoints: its logs, its knobs, holds on callbacks and answers, and
 * outages. Not part of the real API; never recorded in the request log.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { failBody, MAX_BODY_BYTES } from "./contract";
import { readBody, sendEmpty, sendJson, tryParseJson } from "./http-util";
import { type FactorySimulatorConfig, parseOutageRequest } from "./options";
import { OutageInProgressError, type OutageSwitch } from "./outage";
import { type SimCallback, type SimOutage, type SimRequest, summarize } from "./records";

/** What the control plane reads and changes. */
export interface ControlledSimulator {
  readonly requests: SimRequest[];
  readonly callbacks: SimCallback[];
  readonly outages: OutageSwitch;
  clearLogs(): void;
  holdCallbacks(): void;
  releaseCallbacks(): void;
  holdAnswers(): void;
  releaseAnswers(): void;
  getConfig(): FactorySimulatorConfig;
  /** Validates and applies a POST /_sim/config body; throws Error on a bad one (nothing changes). */
  applyKnobs(input: unknown): FactorySimulatorConfig;
}

/** /_sim/* control plane: inspection and runtime knobs; never logged. */
export async function handleControl(req: IncomingMessage, res: ServerResponse, pathname: string, sim: ControlledSimulator): Promise<void> {
  const method = req.method ?? "";
  const raw = await readBody(req, MAX_BODY_BYTES);
  const routes: Record<string, Record<string, () => void>> = {
    "/_sim/requests": {
      GET: () => sendJson(res, 200, sim.requests),
      DELETE: () => {
        sim.clearLogs();
        sendEmpty(res, 204);
      },
    },
    "/_sim/callbacks": { GET: () => sendJson(res, 200, sim.callbacks) },
    "/_sim/callbacks/hold": {
      POST: () => {
        sim.holdCallbacks();
        sendEmpty(res, 204);
      },
    },
    "/_sim/callbacks/release": {
      POST: () => {
        sim.releaseCallbacks();
        sendEmpty(res, 204);
      },
    },
    "/_sim/answers/hold": {
      POST: () => {
        sim.holdAnswers();
        sendEmpty(res, 204);
      },
    },
    "/_sim/answers/release": {
      POST: () => {
        sim.releaseAnswers();
        sendEmpty(res, 204);
      },
    },
    "/_sim/outage": {
      POST: () => {
        const parsed = tryParseJson(raw.text);
        if (raw.tooLarge || !parsed.ok) return sendJson(res, 400, failBody('outage body must be JSON, e.g. {"ms":60000}'));
        let outage: SimOutage;
        try {
          const { ms, mode = sim.getConfig().outageMode } = parseOutageRequest(parsed.value);
          outage = sim.outages.begin(ms, mode);
        } catch (err) {
          return sendJson(res, err instanceof OutageInProgressError ? 409 : 400, failBody((err as Error).message));
        }
        // The caller reads its answer, then the port closes.
        res.once("finish", () => sim.outages.refuse());
        sendJson(res, 201, outage);
      },
      DELETE: () => {
        void sim.outages.end().then(() => sendEmpty(res, 204));
      },
    },
    "/_sim/outages": { GET: () => sendJson(res, 200, sim.outages.log) },
    "/_sim/summary": {
      GET: () => {
        const query = new URL(req.url ?? "/", "http://simulator.invalid").searchParams;
        const window = { from: query.get("from") ?? undefined, until: query.get("until") ?? undefined };
        const bad = Object.entries(window).filter(([, value]) => value !== undefined && Number.isNaN(Date.parse(value)));
        if (bad.length) return sendJson(res, 400, failBody(`${bad.map(([key]) => key).join(" and ")} must be ISO timestamps`));
        sendJson(res, 200, summarize(sim.requests, window));
      },
    },
    "/_sim/config": {
      GET: () => sendJson(res, 200, sim.getConfig()),
      POST: () => {
        // Any content-type: `curl -d '{...}'` sends form-urlencoded by default.
        const parsed = tryParseJson(raw.text);
        if (raw.tooLarge || !parsed.ok) return sendJson(res, 400, failBody("config body must be JSON"));
        try {
          sendJson(res, 200, sim.applyKnobs(parsed.value));
        } catch (err) {
          sendJson(res, 400, failBody((err as Error).message));
        }
      },
    },
  };
  const route = routes[pathname];
  if (!route) return sendJson(res, 404, failBody(`no route for ${pathname}`));
  const handler = route[method];
  if (!handler) {
    const allow = Object.keys(route).join(", ");
    return sendJson(res, 405, failBody(`method ${method} not allowed; use ${allow}`), { allow });
  }
  handler();
}
