/**
 * A live operations dashboard for the offline stack: one HTML page at `/` that redraws every
 * second from `/api/state` (stock per product, restock requests by state, factory queue and
 * DLQ depth, unpublished outbox events, the DLQ alarm, recent alert e-mails).
 * Read-only, local-only (binds 127.0.0.1 unless told otherwise); changes go through the ops CLI.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createClient } from "@donut-states/core/drizzle";
import { dashboardPage } from "./page";
import { createStateReader, type DashboardState } from "./state";
import { UPLOT_SCRIPT_PATH, uplotScript } from "./vendor";

export interface DashboardOptions {
  /** 0 picks a free port; the offline stack uses DASHBOARD_PORT (suggested default 3002). */
  port?: number;
  host?: string;
  databaseUrl: string;
  sqs: SQSClient;
  factoryQueueUrl: string;
  dlqUrl: string;
  /** The SMTP sink's directory; omitted when e-mail goes to a real SMTP server. */
  mailDir?: string;
  /** The DLQ alarm's state (e.g. `() => stack.alarm.state`); derived from DLQ depth if omitted. */
  alarmState?: () => string;
  /** How often the page polls; default 1000 ms. */
  pollMs?: number;
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  port: number;
  /** The snapshot /api/state serves. */
  state(): Promise<DashboardState>;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { port = 0, host = "127.0.0.1", pollMs = 1000, log = () => {} } = options;
  // Its own small pool: the dashboard must not compete with the functions for connections.
  const client = createClient(options.databaseUrl, 2);
  const state = createStateReader({
    db: client.db,
    sqs: options.sqs,
    factoryQueueUrl: options.factoryQueueUrl,
    dlqUrl: options.dlqUrl,
    mailDir: options.mailDir,
    alarmState: options.alarmState,
  });

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const send = (status: number, headers: Record<string, string>, body: string) => {
      response.writeHead(status, { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
      response.end(request.method === "HEAD" ? undefined : body);
    };
    const json = (status: number, body: unknown) =>
      send(status, { "content-type": "application/json; charset=utf-8" }, JSON.stringify(body));

    if (request.method !== "GET" && request.method !== "HEAD") {
      return send(
        405,
        { allow: "GET, HEAD", "content-type": "application/json; charset=utf-8" },
        JSON.stringify({ error: { code: "METHOD_NOT_ALLOWED", message: "The dashboard is read-only" } }),
      );
    }
    if (url.pathname === "/") {
      const nonce = randomBytes(16).toString("base64");
      // The page carries the current snapshot, so its first paint shows data (see page.ts).
      state()
        .catch((error: Error) => {
          log(`dashboard: state failed: ${error.message}`);
          return undefined;
        })
        .then((snapshot) =>
          send(
            200,
            {
              "content-type": "text/html; charset=utf-8",
              "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
              "referrer-policy": "no-referrer",
            },
            dashboardPage(nonce, pollMs, snapshot),
          ),
        );
      return;
    }
    if (url.pathname === UPLOT_SCRIPT_PATH) {
      response.writeHead(200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "max-age=3600",
        "x-content-type-options": "nosniff",
      });
      response.end(request.method === "HEAD" ? undefined : uplotScript);
      return;
    }
    if (url.pathname === "/api/state") {
      state().then(
        (snapshot) => json(200, snapshot),
        (error: Error) => {
          log(`dashboard: state failed: ${error.message}`);
          json(500, { error: { code: "STATE_FAILED", message: error.message } });
        },
      );
      return;
    }
    return json(404, {
      error: { code: "NOT_FOUND", message: `No ${url.pathname} here; the dashboard is at / and its data at /api/state` },
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host}:${actualPort}`;
  log(`dashboard at ${url}`);

  let closed = false;
  return {
    url,
    port: actualPort,
    state,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The page keeps a connection alive between polls: don't wait for it to idle out.
        server.closeAllConnections();
      });
      await client.pool.end();
    },
  };
}
