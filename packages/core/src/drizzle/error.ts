/**
 * What a database error means, from the error object alone. Kept apart from the driver module
 * (./index.ts) so code that only classifies errors (the API's error wrapper, the `$default`
 * route) does not bundle mysql2, drizzle and the AWS SDK.
 */
import { DependencyUnavailableError } from "../util/error";

// Errors that mean "the database cannot be reached or went away", not "your query is wrong".
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_TOO_MANY_USER_CONNECTIONS",
  "ER_SERVER_IS_IN_SECURE_AUTH_MODE",
  "ER_ACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "ER_CONNECTION_KILLED",
  "ER_QUERY_INTERRUPTED",
  "ER_LOCK_WAIT_TIMEOUT",
]);

type DriverError = Error & { code?: string; errno?: number; fatal?: boolean; sqlState?: string; sqlMessage?: string };

/** Walk `cause` chains: drizzle wraps driver errors in DrizzleQueryError. */
export function driverError(error: unknown): DriverError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; errno?: unknown; fatal?: unknown; cause?: unknown };
    if (typeof candidate.code === "string" || typeof candidate.errno === "number" || candidate.fatal === true)
      return current as DriverError;
    current = candidate.cause;
  }
  return undefined;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true;
  const driver = driverError(error);
  if (!driver) return false;
  return (driver.code !== undefined && UNAVAILABLE_CODES.has(driver.code)) || driver.fatal === true;
}

/**
 * The server (or RDS Proxy) refused the credentials (ER_ACCESS_DENIED_ERROR): after a rotation,
 * the password this process read earlier is no longer valid. Nothing ran on such a connection.
 */
export function isAccessDenied(error: unknown): boolean {
  return driverError(error)?.errno === 1045;
}

export function isDuplicateKey(error: unknown, indexName?: string): boolean {
  const driver = driverError(error);
  if (driver?.code !== "ER_DUP_ENTRY") return false;
  return indexName === undefined || String(driver.message).includes(indexName);
}

/**
 * The error of a statement that carried a secret (`CREATE USER … IDENTIFIED BY ?`), rebuilt from
 * nothing but what classifies it: mysql2 keeps the statement, secret inlined, in `sql`, the
 * server may quote it in its message, and loggers (Lambda's runtime among them) print every field
 * and every `cause`. So: no `sql`, no cause, and the server's message only when no part of a
 * secret is in it. `code`/`errno` stay, so `isDatabaseUnavailable` still tells an outage from a
 * refusal.
 */
export class RedactedSqlError extends Error {
  readonly code?: string;
  readonly errno?: number;
  readonly sqlState?: string;
  readonly fatal?: boolean;

  constructor(step: string, error: unknown, secrets: readonly string[]) {
    const driver = driverError(error);
    const said = String(driver?.sqlMessage ?? (error as Error)?.message ?? error);
    const message = secrets.some((secret) => quotes(said, secret)) ? "the server's message quoted the statement; withheld" : said;
    super(`${step} failed: ${message}${driver?.code ? ` (${driver.code})` : ""}`);
    this.name = "RedactedSqlError";
    if (driver?.code !== undefined) this.code = driver.code;
    if (driver?.errno !== undefined) this.errno = driver.errno;
    if (driver?.sqlState !== undefined) this.sqlState = driver.sqlState;
    if (driver?.fatal !== undefined) this.fatal = driver.fatal;
  }
}

/** Whether `text` contains any 6 characters in a row of `secret` (or all of a shorter one), as written, SQL-escaped or URL-encoded. */
function quotes(text: string, secret: string): boolean {
  if (!secret) return false;
  const window = Math.min(6, secret.length);
  const haystacks = [text, text.replace(/\\(.)/g, "$1")];
  for (const form of new Set([secret, encodeURIComponent(secret)])) {
    for (let start = 0; start + window <= form.length; start++) {
      const piece = form.slice(start, start + window);
      if (haystacks.some((haystack) => haystack.includes(piece))) return true;
    }
  }
  return false;
}
