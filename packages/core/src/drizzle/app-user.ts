import { getTableName, is } from "drizzle-orm";
import { MySqlTable } from "drizzle-orm/mysql-core";
import mysql from "mysql2/promise";
import { parseCredentialUrl } from "../util/url";
import { RedactedSqlError } from "./error";
import { databaseNameOf } from "./migrate";
import * as schema from "./schema";

/**
 * The application user: what every function connects as. DML on the app's tables and EXECUTE on
 * its procedures, nothing else: no DDL, no other database, no GRANT, no user management. The
 * admin (master) user keeps the rest and is used by migrations only.
 */
export const APPLICATION_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"] as const;

/** Multi-user rotation (Secrets Manager) alternates the secret between `<name>` and `<name>_clone`. */
const CLONE_SUFFIX = "_clone";

/**
 * Every table of the drizzle schema (./schema.ts re-exports each domain's tables), so a table a
 * new migration adds is granted by that same deploy without a list to keep. drizzle's own
 * migrations journal is not in it: the application never reads it.
 */
export function applicationTables(): string[] {
  const exported: unknown[] = Object.values(schema);
  return exported
    .filter((value): value is MySqlTable => is(value, MySqlTable))
    .map((table) => getTableName(table))
    .sort();
}

export interface ApplicationUser {
  username: string;
  password: string;
  /** Where it may connect from; `%` (any host: RDS sees the proxy's addresses). */
  host?: string;
}

export interface ApplicationGrants {
  /** The accounts granted: the user, and its rotation clone when that exists. */
  accounts: string[];
  tables: string[];
  procedures: string[];
}

/**
 * Create the application user, or set its password to the secret's, and grant it DML on every
 * application table and EXECUTE on every procedure of the database `adminUrl` names. Run as the
 * admin user after the migrations (so every table exists); idempotent, so every deploy runs it.
 * The same statements on MySQL 8.4 and MariaDB 10.11 (`CREATE USER IF NOT EXISTS`, `ALTER USER …
 * IDENTIFIED BY`, table-level and routine-level GRANT). Nothing is revoked first: a running
 * function never sees the user without its grants. The rotation clone (`<name>_clone`, made by
 * Secrets Manager's multi-user rotation, which copies the grants it had when it rotated) gets the
 * grants of a new table too, so the credentials a container still holds keep working on it.
 */
export async function ensureApplicationUser(adminUrl: string, user: ApplicationUser): Promise<ApplicationGrants> {
  // Both passwords stay out of any error this throws: see RedactedSqlError.
  const secrets = [user.password, decodeURIComponent(parseCredentialUrl(adminUrl, "the admin URL").password)];
  const database = databaseNameOf(adminUrl);
  const host = user.host ?? "%";
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw error instanceof RedactedSqlError ? error : new RedactedSqlError(what, error, secrets);
    }
  };
  const account = `${user.username}@${host}`;
  const connection = await step(`connecting as the admin to make ${account}`, () =>
    mysql.createConnection({ uri: adminUrl, connectTimeout: 5000 }),
  );
  try {
    return await step(`making ${account}`, async () => {
      await step(`CREATE USER ${account}`, () =>
        connection.query("CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?", [user.username, host, user.password]),
      );
      await step(`ALTER USER ${account}`, () => connection.query("ALTER USER ?@? IDENTIFIED BY ?", [user.username, host, user.password]));
      return grantApplicationPrivileges(connection, database, user.username, host);
    });
  } finally {
    await connection.end().catch(() => {});
  }
}

/** DML on every application table and EXECUTE on every procedure, to the user and to its rotation clone if there is one. */
async function grantApplicationPrivileges(
  connection: mysql.Connection,
  database: string,
  username: string,
  host: string,
): Promise<ApplicationGrants> {
  const alternate = username.endsWith(CLONE_SUFFIX) ? username.slice(0, -CLONE_SUFFIX.length) : `${username}${CLONE_SUFFIX}`;
  const [existing] = await connection.query<mysql.RowDataPacket[]>("SELECT User FROM mysql.user WHERE User = ? AND Host = ?", [
    alternate,
    host,
  ]);
  const accounts = [username, ...(existing.length > 0 ? [alternate] : [])];

  const tables = applicationTables();
  const [routines] = await connection.query<mysql.RowDataPacket[]>(
    "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE = 'PROCEDURE' ORDER BY ROUTINE_NAME",
    [database],
  );
  const procedures = routines.map((row) => String(row.name));

  for (const account of accounts) {
    for (const table of tables) {
      await connection.query(`GRANT ${APPLICATION_PRIVILEGES.join(", ")} ON ${mysql.escapeId(database)}.${mysql.escapeId(table)} TO ?@?`, [
        account,
        host,
      ]);
    }
    for (const procedure of procedures) {
      await connection.query(`GRANT EXECUTE ON PROCEDURE ${mysql.escapeId(database)}.${mysql.escapeId(procedure)} TO ?@?`, [account, host]);
    }
  }
  return { accounts, tables, procedures };
}
