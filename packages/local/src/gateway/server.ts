import http from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { toApiGatewayEvent, tryParseRequestTarget } from "./event";
import { createRouter } from "./router";
import { type HandlerPool, handlerPool } from "../runtime/handlers";

/** API Gateway's own payload limit; the handlers enforce their much smaller ones. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const HANDLER_TIMEOUT_MS = 30_000;
/**
 * Execution environments per route at most; more concurrent requests wait for one. Each is a
 * module evaluation here, and the database pool (not this) is what bounds throughput.
 */
const MAX_INSTANCES_PER_ROUTE = 64;

export interface Gateway {
  url: string;
  port: number;
  /** Requests being handled right now. */
  readonly active: number;
  /** Resolves once no request is being handled (e.g. after a load generator stopped mid-flight). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local API Gateway (HTTP API, payload v2.0): turns HTTP requests into the same events AWS
 * sends and runs the real handlers from the shared route table in this process.
 */
export async function startGateway({
  routes,
  port = 3000,
  host = "127.0.0.1",
  log = () => {},
}: {
  routes: Record<string, string>;
  port?: number;
  host?: string;
  log?: (line: string) => void;
}): Promise<Gateway> {
  // One pool of execution environments per route's function: concurrent requests each get an instance.
  const handlers = new Map<string, HandlerPool>(Object.entries(routes).map(([routeKey, reference]) => [routeKey, handlerPool(reference, { maxInstances: MAX_INSTANCES_PER_ROUTE })]));
  await Promise.all([...handlers.values()].map((pool) => pool.prewarm()));
  const match = createRouter(Object.keys(routes));

  let active = 0;
  const server = http.createServer((request, response) => {
    active++;
    handle(request, response)
      .catch((error) => {
        // Never let one request take the process down; answer like API Gateway would.
        console.error("[gateway] request failed:", error);
        if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ message: "Internal Server Error" }));
      })
      .finally(() => active--);
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse) {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    for await (const chunk of request) {
      size += chunk.length;
      if (size > GATEWAY_MAX_BODY) tooLarge = true;
      else chunks.push(chunk as Buffer);
    }
    const send = (status: number, headers: Record<string, string>, body: string | Buffer) => {
      response.writeHead(status, headers);
      response.end(body);
      log(`${request.method} ${request.url} -> ${status} (${Date.now() - started} ms)`);
    };
    if (tooLarge) return send(413, { "content-type": "application/json" }, JSON.stringify({ message: "Request Entity Too Large" }));

    const url = tryParseRequestTarget(request.url);
    if (!url) {
      const body = { error: { code: "BAD_REQUEST_TARGET", message: "The request target is not a valid URL" } };
      return send(400, { "content-type": "application/json" }, JSON.stringify(body));
    }
    const route = match(request.method ?? "GET", url.pathname);
    if (!route) return send(404, { "content-type": "application/json" }, JSON.stringify({ message: "Not Found" }));

    const event = toApiGatewayEvent(request, Buffer.concat(chunks), route);
    try {
      const result = await handlers.get(route.routeKey)!.invoke<APIGatewayProxyStructuredResultV2 | string | undefined>(event, {
        timeoutMs: HANDLER_TIMEOUT_MS,
      });
      const structured: APIGatewayProxyStructuredResultV2 =
        typeof result === "object" && result !== null && "statusCode" in result
          ? result
          : { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(result ?? null) };
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name] = String(value);
      const cookies = structured.cookies ?? [];
      if (cookies.length) response.setHeader("set-cookie", cookies);
      const body = structured.isBase64Encoded ? Buffer.from(structured.body ?? "", "base64") : (structured.body ?? "");
      send(structured.statusCode ?? 200, headers, body);
    } catch (error) {
      // What API Gateway answers when the integration itself fails.
      console.error(`[gateway] ${route.routeKey} threw:`, error);
      send(500, { "content-type": "application/json" }, JSON.stringify({ message: "Internal Server Error" }));
    }
  }

  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    get active() {
      return active;
    },
    async idle() {
      while (active > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
