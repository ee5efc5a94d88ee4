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
