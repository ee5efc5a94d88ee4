import { isDatabaseUnavailable } from "@donut-states/core/drizzle/error";
import { AppError, DependencyUnavailableError, summarizeIssues, ValidationError } from "@donut-states/core/util/error";
import { logger } from "@donut-states/core/util/log";
import type * as z from "@donut-states/core/util/zod";
import type { APIGatewayProxyEventV2, APIGatewayProxyHandlerV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/**
 * The thin HTTP layer every API function shares: parse and validate at the boundary, call
 * core, shape the response. Errors always leave as `{ error: { code, message, ... } }`.
 */

export const MAX_BODY_BYTES = 8 * 1024;

export type ApiResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: AppError): ApiResult {
  return json(error.status, { error: { code: error.code, message: error.message, ...error.details } }, error.headers);
}

/** Header lookup that does not care how the client capitalised it (API Gateway lowercases; be safe anyway). */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const exact = event.headers?.[wanted];
  if (exact !== undefined) return exact;
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Turn zod issues into one sentence plus a machine-readable list. */
export function validationError(error: z.core.$ZodError, where = "request body"): ValidationError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  return new ValidationError(`Invalid ${where}: ${summarizeIssues(error)}`, { issues });
}

/** Decode, size-check, JSON-parse and validate a request body. */
export function parseJsonBody<Schema extends z.ZodMiniType>(event: APIGatewayProxyEventV2, schema: Schema): z.infer<Schema> {
  const raw = event.body ?? "";
  // A text body is measured without copying it; only a base64 one has to be decoded.
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(raw, "utf8");
  if (size > MAX_BODY_BYTES) {
    throw new AppError(413, "PAYLOAD_TOO_LARGE", `Request body is ${size} bytes; the limit is ${MAX_BODY_BYTES}`, {
      limit: MAX_BODY_BYTES,
    });
  }
  const contentType = header(event, "content-type");
  if (contentType !== undefined && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    throw new AppError(415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, got ${contentType.slice(0, 100)}`);
  }
  if (size === 0) throw new ValidationError("Request body is required (a JSON object)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes ? bytes.toString("utf8") : raw);
  } catch (error) {
    throw new ValidationError(`Request body is not valid JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

/** Validate one path parameter. */
export function pathParam<Schema extends z.ZodMiniType>(event: APIGatewayProxyEventV2, name: string, schema: Schema): z.infer<Schema> {
  const result = schema.safeParse(event.pathParameters?.[name]);
  if (!result.success) throw validationError(result.error, `path parameter ${name}`);
  return result.data;
}

/** Validate one query string parameter (absent: undefined, unless the schema gives a default or refuses it). */
export function queryParam<Schema extends z.ZodMiniType>(
  event: Pick<APIGatewayProxyEventV2, "queryStringParameters">,
  name: string,
  schema: Schema,
): z.infer<Schema> {
  const result = schema.safeParse(event.queryStringParameters?.[name]);
  if (!result.success) throw validationError(result.error, `query parameter ${name}`);
  return result.data;
}

/**
 * Wrap a handler so no error escapes as a bare 500 or a stack trace: domain errors keep their
 * status, an unreachable database becomes 503 + Retry-After, and anything unexpected is logged
 * with the request id and answered with a generic 500.
 */
export function apiHandler(
  fn: (event: APIGatewayProxyEventV2) => Promise<ApiResult>,
  /** How an error is answered: JSON by default, an HTML page for the routes a browser opens. */
  respond: (error: AppError) => ApiResult = errorResponse,
): APIGatewayProxyHandlerV2 {
  return async (event) => {
    // Correlation fields go on each log call, not appendKeys: the offline stack runs many
    // invocations in one process, where appended keys would bleed between them.
    const requestId = event.requestContext?.requestId;
    const where = { requestId, route: event.routeKey };
    try {
      return await fn(event);
    } catch (error) {
      if (error instanceof AppError) {
        if (error.status >= 500) logger.warn("request failed", { ...where, code: error.code, error: error.cause ?? error });
        return respond(error);
      }
      if (isDatabaseUnavailable(error)) {
        logger.warn("database unavailable", { ...where, error });
        return respond(new DependencyUnavailableError("database", error));
      }
      logger.error("unhandled error", { ...where, error });
      return respond(new AppError(500, "INTERNAL_ERROR", "Something went wrong on our side", { requestId }));
    }
  };
}
