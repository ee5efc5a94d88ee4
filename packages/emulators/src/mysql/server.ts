import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import {
  SESSION_DEFAULTS_QUERY,
  SET_GLOBAL_SESSION_DEFAULTS,
  sessionDefaultServerOptions,
  sessionDefaultsMismatch,
} from "@donut-states/core/drizzle/session";
import { parseCredentialUrl, withDatabase } from "@donut-states/core/util/url";

export interface MysqlServer {
  /** URL of the server without a database name, e.g. mysql://root@127.0.0.1:3306 */
  serverUrl: string;
  /** Where it came from, for the start-up banner. */
  source: "DATABASE_URL" | "127.0.0.1:3306" | "private mariadbd";
  /** The database named in DATABASE_URL, if any. */
  database?: string;
  stop(): Promise<void>;
}

const DEFAULT_LOCAL_URL = "mysql://root@127.0.0.1:3306";

export const INSTALL_HINT = [
  "No MySQL-compatible server is available. Do one of:",
  "  - set DATABASE_URL=mysql://user:password@host:3306/donut_states",
  "  - start MariaDB/MySQL on 127.0.0.1:3306 with user root and an empty password",
  "  - install MariaDB so a private server can be started for you:",
  "      Debian/Ubuntu: sudo apt-get install mariadb-server",
  "      macOS:         brew install mariadb",
].join("\n");

/** Split a MySQL URL into the server part and its database name. */
export function splitDatabaseUrl(url: string): { serverUrl: string; database?: string } {
  const parsed = parseCredentialUrl(url, "DATABASE_URL");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || undefined;
  parsed.pathname = "";
  return { serverUrl: parsed.toString().replace(/\/$/, ""), database };
}

export { withDatabase };

export async function canConnect(serverUrl: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: serverUrl, connectTimeout: timeoutMs });
    await connection.query("SELECT 1");
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

function findExecutable(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/bin"];
  for (const name of names) for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start a private mariadbd whose files live in `dataDir` (created and initialised on first
 * use). Used when no server is configured or listening on 3306.
 */
export async function startPrivateMariadb({
  dataDir,
  port,
  log = () => {},
}: {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
}): Promise<{ serverUrl: string; process: ChildProcess; stop(): Promise<void> }> {
  const mariadbd = findExecutable(["mariadbd", "mysqld"]);
  const installDb = findExecutable(["mariadb-install-db", "mysql_install_db"]);
  if (!mariadbd || !installDb) throw new Error(INSTALL_HINT);

  mkdirSync(dataDir, { recursive: true });
  const userArgs = process.getuid?.() === 0 ? ["--user=root"] : [];
  if (!existsSync(path.join(dataDir, "mysql"))) {
    log(`initialising a private MariaDB in ${dataDir}`);
    const init = spawnSync(
      installDb,
      [
        "--no-defaults",
        `--datadir=${dataDir}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--skip-name-resolve",
        ...userArgs,
      ],
      { encoding: "utf8" },
    );
    if (init.status !== 0) throw new Error(`mariadb-install-db failed (exit ${init.status}):\n${init.stderr || init.stdout}`);
  }

  const actualPort = port ?? (await freePort());
  const socket = path.join(dataDir, "mysqld.sock");
  writeFileSync(path.join(dataDir, "port"), String(actualPort));
  const child = spawn(
    mariadbd,
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      `--pid-file=${path.join(dataDir, "mysqld.pid")}`,
      `--port=${actualPort}`,
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=256M",
      "--max-connections=1000",
      `--log-error=${path.join(dataDir, "error.log")}`,
      // UTC and READ COMMITTED for every session, as the RDS parameter group sets them: the app
      // sends no SET of its own.
      ...sessionDefaultServerOptions,
      ...userArgs,
    ],
    { stdio: "ignore", detached: false },
  );
  const serverUrl = `mysql://root@127.0.0.1:${actualPort}`;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  const deadline = Date.now() + 30_000;
  while (!(await canConnect(serverUrl, 500))) {
    if (exited) throw new Error(`mariadbd exited during start-up; see ${path.join(dataDir, "error.log")}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`mariadbd did not accept connections within 30 s; see ${path.join(dataDir, "error.log")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  log(`private MariaDB listening on 127.0.0.1:${actualPort} (data in ${dataDir})`);

  return {
    serverUrl,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

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
    if (remaining.length > 0) throw new Error(`${source}: the server kept ${remaining.join("; ")} after ${SET_GLOBAL_SESSION_DEFAULTS.join("; ")}`);
    log(`${source}: ${problems.join("; ")}: set the server's GLOBAL defaults to UTC and READ-COMMITTED (until it restarts)`);
  } finally {
    await connection.end();
  }
}

/**
 * Find a MySQL-compatible server the way the offline stack and the tests both do:
 * DATABASE_URL if set, else root@127.0.0.1:3306, else a private mariadbd (persistent in
 * `privateDataDir`, or in a throwaway temp dir when none is given), else an error that says
 * how to get one.
 */
export async function ensureMysqlServer({
  privateDataDir,
  log = () => {},
}: { privateDataDir?: string; log?: (line: string) => void } = {}): Promise<MysqlServer> {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    const { serverUrl, database } = splitDatabaseUrl(configured);
    if (!(await canConnect(serverUrl, 3000))) {
      throw new Error(`DATABASE_URL is set but the server does not answer: ${new URL(serverUrl).host}. Start it or unset DATABASE_URL.`);
    }
    await ensureSessionDefaults(serverUrl, "DATABASE_URL", log);
    return { serverUrl, database, source: "DATABASE_URL", stop: async () => {} };
  }
  if (await canConnect(DEFAULT_LOCAL_URL)) {
    await ensureSessionDefaults(DEFAULT_LOCAL_URL, "127.0.0.1:3306", log);
    return { serverUrl: DEFAULT_LOCAL_URL, source: "127.0.0.1:3306", stop: async () => {} };
  }

  const temporary = privateDataDir === undefined;
  const dataDir = privateDataDir ?? (await mkdtemp(path.join(os.tmpdir(), "donut-states-mariadb-")));
  const server = await startPrivateMariadb({ dataDir, log });
  return {
    serverUrl: server.serverUrl,
    source: "private mariadbd",
    stop: async () => {
      await server.stop();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
