/**
 * What every database session of ours must run with, set by the server, never by a `SET` from
 * the app: RDS Proxy pins a client connection to one database connection as soon as the session
 * changes a variable, and a pinned connection is no longer multiplexed (docs/deploy.md,
 * "No proxy pinning"). The RDS parameter group (stacks/Database.ts) and the offline/test server
 * (packages/local/src/mysql) are configured from these values.
 * - UTC: CURRENT_TIMESTAMP(3) defaults and NOW() are stored as UTC (mysql2 reads and writes
 *   DATETIME as UTC with `timezone: "Z"`).
 * - READ COMMITTED: the order path's conditional UPDATE and its reads see committed rows only
 *   and take no gap locks.
 */
export const sessionDefaults = {
  /** RDS parameter `time_zone`; the server's `default-time-zone`. */
  timeZone: "UTC",
  /** RDS parameter and server option `transaction_isolation`. */
  transactionIsolation: "READ-COMMITTED",
} as const;

/**
 * The same defaults as options of a `mariadbd`/`mysqld` we start ourselves. UTC as an offset:
 * a zone name needs the server's time zone tables, which a fresh data directory lacks.
 */
export const sessionDefaultServerOptions = [
  "--default-time-zone=+00:00",
  `--transaction-isolation=${sessionDefaults.transactionIsolation}`,
];

/** Sets them on a running server (for new sessions; needs SUPER or SYSTEM_VARIABLES_ADMIN). MySQL 8.4 and MariaDB 10.11. */
export const SET_GLOBAL_SESSION_DEFAULTS = ["SET GLOBAL time_zone = '+00:00'", "SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED"];

/**
 * Reads the server's defaults for new sessions. MySQL 8.4 names the isolation variable
 * `transaction_isolation`, MariaDB 10.11 `tx_isolation`: SHOW answers with whichever exists.
 */
export const SESSION_DEFAULTS_QUERY = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('time_zone', 'transaction_isolation', 'tx_isolation')";

const UTC_NAMES = new Set(["+00:00", "utc", "etc/utc"]);

/** What differs from `sessionDefaults`, as readable lines; empty when the server is set up right. */
export function sessionDefaultsMismatch(rows: ReadonlyArray<{ Variable_name: string; Value: string }>): string[] {
  const value = (name: string) => rows.find((row) => row.Variable_name.toLowerCase() === name)?.Value;
  const problems: string[] = [];
  const timeZone = value("time_zone");
  if (!timeZone || !UTC_NAMES.has(timeZone.toLowerCase())) problems.push(`time_zone is ${timeZone ?? "unknown"}, not UTC (+00:00)`);
  const isolation = value("transaction_isolation") ?? value("tx_isolation");
  if (isolation?.toUpperCase() !== sessionDefaults.transactionIsolation) {
    problems.push(`transaction isolation is ${isolation ?? "unknown"}, not ${sessionDefaults.transactionIsolation}`);
  }
  return problems;
}
