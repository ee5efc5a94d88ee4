import http from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type HandlerPool, type HandlerSource, handlerPool } from "../runtime/handlers";
import { toApiGatewayEvent, tryParseRequestTarget } from "./event";
import type { IamVerifier } from "./iam";
import { createRouter } from "./router";

/** API Gateway's own payload limit; the handlers enforce their much smaller ones. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const HANDLER_TIMEOUT_MS = 30_000;
/**
 * Execution environments per route at most; more concurrent requests wait for one. Each is a
 * module evaluation here, and the database pool (not this) is what bounds throughput.
 */
const MAX_INSTANCES_PER_ROUTE = 64;
const JSON_TYPE = { "content-type": "application/json" };

export interface Gateway {
  url: string;
  port: number;
  /** Requests being handled right now. */
  readonly active: number;
  /** Resolves once no request is being handled (e.g. after a load generator stopped mid-flight). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Route key ("POST /things/{id}", "$default") -> handler reference. */
  routes: Record<string, string>;
  /** Where the handler references point. */
  handlers: HandlerSource;
  port?: number;
  host?: string;
  /** Routes behind the AWS_IAM authorizer, and how to check a request's SigV4 signature. */
  iam?: { routes: Iterable<string>; verify: IamVerifier };
  log?: (line: string) => void;
}

/**
 * A local API Gateway (HTTP API, payload v2.0): turns HTTP requests into the same events AWS
 * sends and runs the routes' handlers in this process.
 */
export async function startGateway({
  routes,
  handlers: source,
  port = 3000,
  host = "127.0.0.1",
  iam,
  log = () => {},
}: GatewayOptions): Promise<Gateway> {
  // One pool of execution environments per route's function: concurrent requests each get an instance.
  const handlers = new Map<string, HandlerPool>(
    Object.entries(routes).map(([routeKey, reference]) => [
      routeKey,
      handlerPool(reference, source, { maxInstances: MAX_INSTANCES_PER_ROUTE }),
    ]),
  );
  await Promise.all([...handlers.values()].map((pool) => pool.prewarm()));
  const match = createRouter(Object.keys(routes));
  const iamRoutes = new Set(iam?.routes ?? []);

  let active = 0;
  const server = http.createServer((request, response) => {
    active++;
    // The body as plain events: an async iterator over the request costs more per request.
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BODY) chunks.push(chunk);
    });
    let finished = false;
    const done = () => {
      if (!finished) active--;
      finished = true;
    };
    request.on("end", () => {
      handle(request, response, chunks, size)
        .catch((error) => {
          // Never let one request take the process down; answer like API Gateway would.
          console.error("[gateway] request failed:", error);
          if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
          response.end(JSON.stringify({ message: "Internal Server Error" }));
        })
        .finally(done);
    });
    // The client went away mid-body: nothing to answer.
    request.on("error", () => {
      done();
      response.destroy();
    });
  });

  function send(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    started: number,
    status: number,
    headers: Record<string, string>,
    body: string | Buffer,
  ) {
    response.writeHead(status, headers);
    response.end(body);
    log(`${request.method} ${request.url} -> ${status} (${Date.now() - started} ms)`);
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse, chunks: Buffer[], size: number) {
    const started = Date.now();
    if (size > GATEWAY_MAX_BODY)
      return send(request, response, started, 413, JSON_TYPE, JSON.stringify({ message: "Request Entity Too Large" }));

    const target = tryParseRequestTarget(request.url);
    if (!target) {
      const body = { error: { code: "BAD_REQUEST_TARGET", message: "The request target is not a valid URL" } };
      return send(request, response, started, 400, JSON_TYPE, JSON.stringify(body));
    }
    const route = match(request.method ?? "GET", target.pathname);
    if (!route) return send(request, response, started, 404, JSON_TYPE, JSON.stringify({ message: "Not Found" }));

    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const event = toApiGatewayEvent(request, body, route, { target });
    if (iam && iamRoutes.has(route.routeKey)) {
      // As API Gateway: the authorizer answers before any function runs.
      const rawPath = (request.url ?? "/").split("?")[0];
      const verdict = await iam.verify({
        method: request.method ?? "GET",
        path: rawPath,
        query: target.searchParams,
        headers: request.headers,
        body,
      });
      if (!verdict.ok) return send(request, response, started, 403, JSON_TYPE, JSON.stringify({ message: verdict.message }));
      event.requestContext = { ...event.requestContext, authorizer: { iam: verdict.identity } } as typeof event.requestContext;
    }
    try {
      const result = await handlers.get(route.routeKey)!.invoke<APIGatewayProxyStructuredResultV2 | string | undefined>(event, {
        timeoutMs: HANDLER_TIMEOUT_MS,
      });
      const structured: APIGatewayProxyStructuredResultV2 =
        typeof result === "object" && result !== null && "statusCode" in result
          ? result
          : { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(result ?? null) };
      const headers: Record<string, string> = {};
      for (const name in structured.headers) headers[name] = String(structured.headers[name]);
      const cookies = structured.cookies ?? [];
      if (cookies.length) response.setHeader("set-cookie", cookies);
      const body = structured.isBase64Encoded ? Buffer.from(structured.body ?? "", "base64") : (structured.body ?? "");
      send(request, response, started, structured.statusCode ?? 200, headers, body);
    } catch (error) {
      // What API Gateway answers when the integration itself fails.
      console.error(`[gateway] ${route.routeKey} threw:`, error);
      send(request, response, started, 500, JSON_TYPE, JSON.stringify({ message: "Internal Server Error" }));
    }
  }

  // Longer than any client's own idle timeout (undici: 4 s), so the client always closes an idle
  // keep-alive connection first: a server closing it first races a request being sent on it
  // (ECONNRESET on a busy machine).
  server.keepAliveTimeout = 65_000;

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
