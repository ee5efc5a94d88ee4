/**
 * The session defaults every server of ours must have (packages/core/src/drizzle/session.ts), on a
 * server the offline stack or the tests found rather than started.
 */

import { SESSION_DEFAULTS_QUERY, SET_GLOBAL_SESSION_DEFAULTS, sessionDefaultsMismatch } from "@donut-states/core/drizzle/session";
import mysql from "mysql2/promise";

/**
 * Make sure a server we did not start gives new sessions the defaults the app relies on (UTC,
 * READ COMMITTED; RDS has them from its parameter group). A server that differs gets them as
 * GLOBAL defaults when this user may set them (root on a development server: the local
 * counterpart of the parameter group; they last until the server restarts); otherwise this
 * fails with what to configure. Silently running with other defaults would test different
 * semantics than production runs.
 */
export async function ensureSessionDefaults(serverUrl: string, source: string, log: (line: string) => void = () => {}): Promise<void> {
  const connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: 3000 });
  try {
    const read = async () => {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(SESSION_DEFAULTS_QUERY);
      return sessionDefaultsMismatch(rows as Array<{ Variable_name: string; Value: string }>);
    };
    const problems = await read();
    if (problems.length === 0) return;
    try {
      for (const statement of SET_GLOBAL_SESSION_DEFAULTS) await connection.query(statement);
    } catch (error) {
      throw new Error(
        `${source} (${new URL(serverUrl).host}): ${problems.join("; ")}, and this user may not change the server's defaults ` +
          `(${(error as Error).message}). Donut-States sends no SET per session (RDS Proxy would pin it), so the server must default to them: ` +
          `add "default-time-zone = '+00:00'" and "transaction-isolation = READ-COMMITTED" under [mysqld] in its configuration and restart it, ` +
          `or run as an administrator: ${SET_GLOBAL_SESSION_DEFAULTS.join("; ")}`,
      );
    }
    const remaining = await read();
    if (remaining.length > 0)
      throw new Error(`${source}: the server kept ${remaining.join("; ")} after ${SET_GLOBAL_SESSION_DEFAULTS.join("; ")}`);
    log(`${source}: ${problems.join("; ")}: set the server's GLOBAL defaults to UTC and READ-COMMITTED (until it restarts)`);
  } finally {
    await connection.end();
  }
}
