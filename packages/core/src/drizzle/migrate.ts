import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/mysql2/migrator";
import mysql from "mysql2/promise";
import { optionalEnv } from "../util/config";
import { createClient, driverError } from "./index";

/** Where drizzle-kit writes migrations (committed). Functions that migrate copy this folder. */
export const MIGRATIONS_FOLDER =
  optionalEnv("MIGRATIONS_FOLDER") ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

/** Apply every pending migration to the database at `url`. Run it once per deploy or start: drizzle's migrator takes no lock. */
export async function migrateDatabase(url: string): Promise<void> {
  const client = createClient(url, 1);
  try {
    await migrate(client.db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.pool.end();
  }
}

/** The database a URL names (its path), e.g. `donut_states` for mysql://…/donut_states. */
export function databaseNameOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  if (!name) throw new Error(`${new URL(url).host}: the URL names no database (expected mysql://user@host:port/<database>)`);
  return name;
}

/**
 * Create the database `url` names if the server does not have it yet (utf8mb4, the collation the
 * schema expects). For tools run against a fresh server (`npm run db:migrate`); deployed stages
 * get theirs from RDS. Resolves to whether it had to create it.
 */
export async function ensureDatabase(url: string): Promise<{ name: string; created: boolean }> {
  const name = databaseNameOf(url);
  const serverUrl = new URL(url);
  serverUrl.pathname = "/";
  const connection = await mysql.createConnection({ uri: serverUrl.toString(), connectTimeout: 5000 });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [name],
    );
    if (rows.length > 0) return { name, created: false };
    try {
      await connection.query(`CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } catch (error) {
      throw new Error(
        `database ${name} does not exist on ${serverUrl.host} and this user may not create it (${(error as Error).message}); ` +
          `create it first: CREATE DATABASE ${mysql.escapeId(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      );
    }
    return { name, created: true };
  } finally {
    await connection.end();
  }
}

/** The message of the driver error under drizzle's "Failed query: <the migrator's SQL>" wrapper. */
export function migrationErrorMessage(error: unknown): string {
  const driver = driverError(error);
  if (driver && driver !== error) return driver.code ? `${driver.message || driver.code} (${driver.code})` : driver.message;
  const plain = error as { message?: string; code?: string };
  if (plain?.code && !String(plain.message ?? "").includes(plain.code)) return `${plain.message || plain.code} (${plain.code})`;
  return plain?.message ?? String(error);
}
