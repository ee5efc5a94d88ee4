import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

// API Gateway passes these bodies as text; anything else arrives base64-encoded.
const TEXT_TYPES = /^(text\/|application\/(json|[\w.+-]+\+json|xml|x-www-form-urlencoded|javascript))/i;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** The body as text if it is valid UTF-8, else undefined. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export interface MatchedRoute {
  routeKey: string;
  pathParameters?: Record<string, string>;
}

/** Build the API Gateway HTTP API (payload v2.0) event for one request, as AWS documents it. */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  route: MatchedRoute,
  { stage = "$default", apiId = "local", target }: { stage?: string; apiId?: string; target?: RequestTarget } = {},
): APIGatewayProxyEventV2 {
  const url = target ?? parseRequestTarget(request.url);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") cookies.push(...String(value).split(/;\s*/));
    else headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;

  const contentType = headers["content-type"] ?? "";
  // Text only if it declares a text type AND really is UTF-8; anything else is passed base64,
  // byte for byte, so the handler sees (and measures) exactly what was sent.
  const text = TEXT_TYPES.test(contentType) || contentType === "" ? utf8(body) : undefined;
  const now = new Date();
  return {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    cookies: cookies.length ? cookies : undefined,
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: route.pathParameters,
    requestContext: {
      accountId: "000000000000",
      apiId,
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0],
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : (text ?? body.toString("base64")),
    isBase64Encoded: body.length > 0 && text === undefined,
  };
}

/** What the gateway reads of a request target. */
export type RequestTarget = Pick<URL, "pathname" | "search" | "searchParams">;

// A path of plain segments (no dots, percent-escapes, empty segments or query): WHATWG URL
// would hand it back unchanged, so the parse (the costliest step of building an event) is skipped.
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-]+)*\/?$/;
const NO_QUERY = new URLSearchParams();

function parseRequestTarget(target: string | undefined): RequestTarget {
  if (target !== undefined && PLAIN_PATH.test(target)) return { pathname: target, search: "", searchParams: NO_QUERY };
  return new URL(target ?? "/", "http://localhost");
}

/**
 * The request target as a URL, or undefined: Node's HTTP parser accepts targets that WHATWG
 * URL rejects (`http://[/orders`, `//%zz`). Those are the client's fault (400), not a crash.
 */
export function tryParseRequestTarget(target: string | undefined): RequestTarget | undefined {
  try {
    return parseRequestTarget(target);
  } catch {
    return undefined;
  }
}
