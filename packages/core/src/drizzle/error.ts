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

type DriverError = Error & { code?: string; errno?: number; fatal?: boolean };

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
