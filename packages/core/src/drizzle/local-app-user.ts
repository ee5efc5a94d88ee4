import { createHash, randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { ensureApplicationUser } from "./app-user";
import { databaseNameOf } from "./migrate";

/**
 * The application user of a database on a local server (offline stack, tests), as the migrate
 * function makes it in AWS: DML only. Handlers connect as it, so every test proves its grants are
 * enough; migrations, seeding and the tests' own set-up stay with the admin (root) URL.
 *
 * One user per database (databases share a server, and their users must not overwrite each
 * other's passwords), named from the database: `app_<12 hex>`, within MySQL's 32 characters.
 * Its password is random, made once per process: the offline stack and a test file in the same
 * process get the same credentials, so neither invalidates the other's connections.
 */
const provisioned = new Map<string, Promise<string>>();

export function applicationUserName(database: string): string {
  return `app_${createHash("sha256").update(database).digest("hex").slice(0, 12)}`;
}

/** The URL the handlers use for the database `adminUrl` names: its application user, created or updated on first use. */
export function applicationUrl(adminUrl: string): Promise<string> {
  let url = provisioned.get(adminUrl);
  if (!url) {
    url = provision(adminUrl);
    provisioned.set(adminUrl, url);
    url.catch(() => provisioned.delete(adminUrl));
  }
  return url;
}

async function provision(adminUrl: string): Promise<string> {
  const username = applicationUserName(databaseNameOf(adminUrl));
  const password = randomBytes(18).toString("base64url");
  await ensureApplicationUser(adminUrl, { username, password });
  const url = new URL(adminUrl);
  url.username = username;
  url.password = password;
  return url.toString();
}

/** Drop the application user of that database (a test database going away). */
export async function dropApplicationUser(adminUrl: string): Promise<void> {
  provisioned.delete(adminUrl);
  const serverUrl = new URL(adminUrl);
  serverUrl.pathname = "/";
  const connection = await mysql.createConnection({ uri: serverUrl.toString() });
  try {
    await connection.query("DROP USER IF EXISTS ?@'%'", [applicationUserName(databaseNameOf(adminUrl))]);
  } finally {
    await connection.end();
  }
}
