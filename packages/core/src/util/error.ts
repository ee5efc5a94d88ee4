/**
 * Errors the domain raises on purpose. Each one knows its HTTP status and a stable code, so
 * handlers can turn it into `{ error: { code, message, ...details } }` without guessing.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    // A 4xx is an answer, not a fault: nobody reads its stack, and capturing one is the
    // costliest part of a refusal (a sell-out spike is thousands of 409s a second).
    const stackTraceLimit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(400, "VALIDATION_FAILED", message, details);
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(404, code, message, details);
  }
}

/**
 * A dependency (the database, usually) is unreachable. Nothing was changed; the client should
 * retry later. Mapped to 503 with Retry-After.
 */
export class DependencyUnavailableError extends AppError {
  constructor(
    readonly dependency: string,
    cause?: unknown,
    readonly retryAfterSeconds = 2,
    /** The connection dropped while committing: the change may or may not have been saved. */
    readonly outcomeUnknown = false,
  ) {
    super(
      503,
      "SERVICE_UNAVAILABLE",
      outcomeUnknown
        ? `The ${dependency} became unavailable while saving; the request may or may not have been applied. Retry shortly with the same Idempotency-Key: a retry with it is never applied twice.`
        : `The ${dependency} is temporarily unavailable; nothing was changed. Retry shortly.`,
      outcomeUnknown ? { outcomeUnknown: true } : {},
      { "retry-after": String(retryAfterSeconds) },
    );
    if (cause !== undefined) this.cause = cause;
  }
}

/** A failed parse in one line: each issue as `path: message` (the message alone at the root), `; ` between. */
export function summarizeIssues(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
