/**
 * The factory down for a while, then back by itself. In `refuse` mode the listening socket is
 * closed, so the kernel refuses connections as it does when the factory's process is down, and
 * it is opened again on the same port when the outage ends; in `unavailable` mode the simulator
 * keeps listening and answers 503 (simulator.ts does that part).
 */
import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { OutageMode, SimOutage } from "./records";

export class OutageInProgressError extends Error {
  constructor(readonly outage: SimOutage) {
    super(`the factory is already down (${outage.mode}) until ${outage.endsAt}; end that outage first`);
    this.name = "OutageInProgressError";
  }
}

/** A timer that calls `fn` at `atMs` (epoch) or later: setTimeout may fire a millisecond early by the wall clock. */
export function callAt(atMs: number, fn: () => void): { clear(): void } {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = atMs - Date.now();
    timer = left > 0 ? setTimeout(arm, left) : setTimeout(fn, 0);
  };
  const first = atMs - Date.now();
  timer = setTimeout(first > 0 ? arm : fn, Math.max(0, first));
  return { clear: () => clearTimeout(timer) };
}

/** Another process took the port while it was closed: try again this often, this many times. */
const RELISTEN_RETRY_MS = 100;
const RELISTEN_ATTEMPTS = 100;

export interface OutageSwitch {
  /** The outage in progress, if any. */
  current(): SimOutage | undefined;
  /** Every outage so far (the live log, oldest first). */
  readonly log: SimOutage[];
  /**
   * Starts an outage of `ms` that ends by itself. In `refuse` mode the port stays open until
   * `refuse()` closes it, so an HTTP caller can still read the answer to its request.
   * Throws OutageInProgressError if the factory is already down.
   */
  begin(ms: number, mode: OutageMode): SimOutage;
  /** Closes the port for the outage in progress (`refuse` mode): connections are refused from now on. */
  refuse(): void;
  /** Ends the outage in progress now; resolves once calls are served again. No-op when up. */
  end(): Promise<void>;
  /** Cancels the timers for good (the simulator is closing); the port is not reopened. */
  dispose(): void;
}

export function createOutageSwitch({
  server,
  port,
  host,
  onChange,
}: {
  server: Server;
  port: number;
  host: string;
  /** Called when an outage starts and when it ends (or fails to). */
  onChange: (outage: SimOutage) => void;
}): OutageSwitch {
  const log: SimOutage[] = [];
  let active: { outage: SimOutage; timer: { clear(): void }; closed: boolean; ended?: Promise<void> } | undefined;
  const disposed = new AbortController();

  function begin(ms: number, mode: OutageMode): SimOutage {
    if (active) throw new OutageInProgressError(active.outage);
    const now = Date.now();
    const outage: SimOutage = {
      mode,
      startedAt: new Date(now).toISOString(),
      endsAt: new Date(now + ms).toISOString(),
      endedAt: null,
      error: null,
    };
    log.push(outage);
    // Ref'd on purpose: in `refuse` mode nothing else may keep a standalone simulator's process alive.
    active = { outage, timer: callAt(now + ms, () => void end()), closed: false };
    onChange(outage);
    return outage;
  }

  function refuse(): void {
    if (active?.outage.mode !== "refuse" || active.closed || active.ended) return;
    active.closed = true;
    // Closing the listening socket is immediate; hung calls, late answers and idle keep-alive
    // sockets go down with the factory.
    server.close();
    server.closeAllConnections();
  }

  async function listenAgain(): Promise<string | null> {
    for (let attempt = 1; ; attempt++) {
      if (disposed.signal.aborted) return "the simulator closed during the outage";
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, host, () => {
            server.off("error", reject);
            resolve();
          });
        });
        return null;
      } catch (error) {
        if (attempt >= RELISTEN_ATTEMPTS) return `could not listen on ${host}:${port} again: ${(error as Error).message}`;
        await sleep(RELISTEN_RETRY_MS, undefined, { signal: disposed.signal }).catch(() => undefined);
      }
    }
  }

  function end(): Promise<void> {
    if (!active) return Promise.resolve();
    const ending = active;
    ending.ended ??= (async () => {
      ending.timer.clear();
      if (ending.closed) ending.outage.error = await listenAgain();
      if (ending.outage.error === null) ending.outage.endedAt = new Date().toISOString();
      active = undefined;
      if (!disposed.signal.aborted) onChange(ending.outage);
    })();
    return ending.ended;
  }

  function dispose(): void {
    disposed.abort();
    active?.timer.clear();
  }

  return { current: () => active?.outage, log, begin, refuse, end, dispose };
}
