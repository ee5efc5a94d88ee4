import { AsyncLocalStorage } from "node:async_hooks";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { drizzle, type MySql2Database } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import { awsClientConfig } from "../util/aws";
import { intEnv, optionalEnv } from "../util/config";
import { DependencyUnavailableError } from "../util/error";
import { secret } from "../util/secret";
import { parseCredentialUrl } from "../util/url";
import { driverError, isAccessDenied, isDatabaseUnavailable } from "./error";
import * as schema from "./schema";

/** `$client` is the mysql2 pool, for the one call that needs the driver itself (Order.place). */
export type Database = MySql2Database<typeof schema> & { $client: mysql.Pool };
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything that can run a query: the pool-backed client or an open transaction. */
export type Executor = Database | Transaction;

interface Client {
  url: string;
  pool: mysql.Pool;
  db: Database;
}

let client: Client | undefined;
let resolvingUrl: Promise<string> | undefined;

/** Open a pool for a MySQL URL. Exported for tools and tests; functions use `database()`. */
export function createClient(url: string, poolSize = intEnv("DATABASE_POOL_SIZE", 10, { min: 1, max: 1000 })) {
  // mysql2 parses the URL itself and would throw Node's TypeError, which carries the password.
  parseCredentialUrl(url, "DATABASE_URL");
  const tls = optionalEnv("DATABASE_TLS") === "true";
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: poolSize,
    // Fail fast: a client waiting 10 s for a dead database is worse than a quick 503 + retry.
    connectTimeout: intEnv("DATABASE_CONNECT_TIMEOUT_MS", 3000, { min: 100 }),
    enableKeepAlive: true,
    // RDS Proxy requires TLS; its certificate chains to Amazon's public roots, which Node trusts.
    ssl: tls ? { minVersion: "TLSv1.2", rejectUnauthorized: true } : undefined,
    // Dates are UTC on both sides of the wire. The server's own clock (CURRENT_TIMESTAMP(3)
    // defaults) is UTC by its configuration (./session.ts): no SET per connection, which would
    // pin an RDS Proxy connection.
    timezone: "Z",
    supportBigNumbers: true,
  });
  const db = drizzle(pool, { schema, mode: "default" });
  return { url, pool, db };
}

/** Credentials as Secrets Manager keeps them for RDS (the generated and the rotated secrets alike). */
interface SecretCredentials {
  username: string;
  password: string;
  host?: string;
  port?: number;
  dbname?: string;
}

/** Read a database secret from Secrets Manager (each call asks again: rotation changes it). */
export async function readDatabaseSecret(secretArn: string): Promise<SecretCredentials> {
  const { SecretString } = await new SecretsManagerClient(awsClientConfig()).send(new GetSecretValueCommand({ SecretId: secretArn }));
  const credentials = JSON.parse(SecretString ?? "{}") as Partial<SecretCredentials>;
  if (typeof credentials.username !== "string" || typeof credentials.password !== "string")
    throw new Error(`secret ${secretArn} has no username and password`);
  return credentials as SecretCredentials;
}

/** A MySQL URL for a secret's credentials, at DATABASE_HOST (the RDS Proxy endpoint) and DATABASE_NAME. */
function urlOf(credentials: SecretCredentials): string {
  const url = new URL("mysql://placeholder");
  url.username = encodeURIComponent(credentials.username);
  url.password = encodeURIComponent(credentials.password);
  url.host = `${optionalEnv("DATABASE_HOST") ?? credentials.host}:${credentials.port ?? 3306}`;
  url.pathname = `/${optionalEnv("DATABASE_NAME") ?? credentials.dbname ?? "donut_states"}`;
  return url.toString();
}

/**
 * Where the database is, and as whom the functions connect, in order:
 * 1. DATABASE_URL (offline stack, tests, and anything that sets it);
 * 2. DATABASE_SECRET_ARN: the application user's credentials in Secrets Manager (DML only,
 *    rotated), with DATABASE_HOST (the RDS Proxy endpoint) and DATABASE_NAME (deployed stages);
 * 3. the SST Secret DATABASE_URL (`sst dev` stages, which reach a developer's database).
 */
export async function resolveDatabaseUrl(): Promise<string> {
  const direct = optionalEnv("DATABASE_URL");
  if (direct) return direct;
  const secretArn = optionalEnv("DATABASE_SECRET_ARN");
  if (secretArn) return urlOf(await readDatabaseSecret(secretArn));
  if (optionalEnv("SST_Secret_value_DATABASE_URL")) return secret("DATABASE_URL");
  throw new Error("No database configured: set DATABASE_URL, DATABASE_SECRET_ARN (+ DATABASE_HOST) or bind the SST Secret DATABASE_URL");
}

/**
 * As whom migrations connect: the admin (master) user of DATABASE_ADMIN_SECRET_ARN, which only
 * the migrate function may read; where there is none (`url` stages, offline, tools), the same
 * URL as everything else.
 */
export async function resolveAdminDatabaseUrl(): Promise<string> {
  const adminSecretArn = optionalEnv("DATABASE_ADMIN_SECRET_ARN");
  return adminSecretArn ? urlOf(await readDatabaseSecret(adminSecretArn)) : resolveDatabaseUrl();
}

/** The process-wide client (one pool per Lambda container), created on first use. */
export async function database(): Promise<Database> {
  const direct = optionalEnv("DATABASE_URL");
  // Tests and the offline stack may point DATABASE_URL elsewhere at run time: follow it.
  if (client && (direct === undefined || client.url === direct)) return client.db;
  try {
    const url = direct ?? (await (resolvingUrl ??= resolveDatabaseUrl().finally(() => (resolvingUrl = undefined))));
    if (!client || client.url !== url) {
      // Inside the try: a malformed URL is a misconfigured dependency (503), not a crash (500).
      const created = createClient(url);
      const previous = client;
      client = created;
      void previous?.pool.end().catch(() => {});
    }
    return client.db;
  } catch (error) {
    throw new DependencyUnavailableError("database", error);
  }
}

/**
 * Forget the client whose credentials were refused, so the next `database()` reads them again
 * (the secret was rotated since this container read it). Only that client: if another caller
 * already replaced it, the new one stays.
 */
function forgetRefusedCredentials(refused: Database): void {
  if (client?.db !== refused) return;
  const stale = client;
  client = undefined;
  void stale.pool.end().catch(() => {});
}

/**
 * Run `work` on the process-wide client; when the database refuses its credentials, read them
 * again once and run `work` once more. Safe to repeat: a refused connection ran nothing. Once
 * only: credentials that are still refused after a fresh read are an outage (503), not a loop.
 */
export async function withCurrentCredentials<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const db = await database();
  try {
    return await work(db);
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
    forgetRefusedCredentials(db);
    return work(await database());
  }
}

/** Close the process-wide pool (tests, graceful shutdown of the offline stack). */
export async function closeDatabase(): Promise<void> {
  const current = client;
  client = undefined;
  await current?.pool.end();
}

// MySQL error numbers for which re-running the whole transaction is the documented fix.
const RETRYABLE_ERRNOS = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);

/** A deadlock or lock-wait timeout: re-running the whole unit of work is the documented fix. */
export function isRetryable(error: unknown): boolean {
  const errno = driverError(error)?.errno;
  return errno !== undefined && RETRYABLE_ERRNOS.has(errno);
}

type Effect = () => Promise<unknown> | unknown;
const transactionContext = new AsyncLocalStorage<{ tx: Transaction; effects: Effect[] }>();

/**
 * Run `fn` in one transaction. Deadlocks and lock-wait timeouts re-run it (they are the
 * database telling us to); effects registered with `afterCommit` run only once it committed,
 * so a side effect (publishing an event) never announces a change that was rolled back.
 * A nested call joins the outer transaction.
 */
export async function transaction<T>(
  fn: (tx: Transaction) => Promise<T>,
  { db, attempts = 5 }: { db?: Database; attempts?: number } = {},
): Promise<T> {
  const outer = transactionContext.getStore();
  if (outer) return fn(outer.tx);

  let credentialsRead = false;
  for (let attempt = 1; ; attempt++) {
    const effects: Effect[] = [];
    // Set once the body finished: a connection lost after that may have lost the COMMIT's
    // answer rather than the COMMIT, so the outcome is unknown (not "nothing changed").
    let committing = false;
    const target = db ?? (await database());
    try {
      // READ COMMITTED is the server's default (./session.ts): no per-transaction SET, so a
      // transaction is BEGIN, its statements and COMMIT, and the proxy can multiplex it.
      const result = await target.transaction((tx) =>
        transactionContext.run({ tx, effects }, async () => {
          const value = await fn(tx);
          committing = true;
          return value;
        }),
      );
      for (const effect of effects) await effect();
      return result;
    } catch (error) {
      // Credentials rotated since this container read them: read them again, once (see withCurrentCredentials).
      if (!db && !credentialsRead && isAccessDenied(error)) {
        credentialsRead = true;
        forgetRefusedCredentials(target);
        continue;
      }
      if (isRetryable(error) && attempt < attempts) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
        continue;
      }
      // Another dependency the body called before committing (a queue) keeps its own name.
      if (error instanceof DependencyUnavailableError && error.dependency !== "database") throw error;
      if (isDatabaseUnavailable(error)) throw new DependencyUnavailableError("database", error, 2, committing);
      throw error;
    }
  }
}

/** Register work to run after the current transaction commits (immediately if there is none). */
export async function afterCommit(effect: Effect): Promise<void> {
  const context = transactionContext.getStore();
  if (context) context.effects.push(effect);
  else await effect();
}

/** Run a read outside a transaction, translating "database down" into a 503-able error. */
export async function query<T>(fn: (db: Database) => Promise<T>, db?: Database): Promise<T> {
  try {
    return await (db ? fn(db) : withCurrentCredentials(fn));
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw new DependencyUnavailableError("database", error);
    throw error;
  }
}

export { driverError, isAccessDenied, isDatabaseUnavailable, isDuplicateKey } from "./error";
export { schema };
