import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";

export interface MysqlServer {
  /** URL of the server without a database name, e.g. mysql://root@127.0.0.1:3306 */
  serverUrl: string;
  /** Where it came from, for the start-up banner. */
  source: "DATABASE_URL" | "127.0.0.1:3306" | "private mariadbd";
  /** The database named in DATABASE_URL, if any. */
  database?: string;
  stop(): Promise<void>;
}

/** What the application needs of every server besides a connection. */
export interface ServerRequirements {
  /** Options for a `mariadbd` started here (e.g. the session defaults the application relies on). */
  serverOptions?: readonly string[];
  /** Runs on a server this did not start, before it is used: check (or set) what the application needs of it. */
  prepare?: (serverUrl: string, source: MysqlServer["source"], log: (line: string) => void) => Promise<void>;
}

const DEFAULT_LOCAL_URL = "mysql://root@127.0.0.1:3306";

export const INSTALL_HINT = [
  "No MySQL-compatible server is available. Do one of:",
  "  - set DATABASE_URL=mysql://user:password@host:3306/<database>",
  "  - start MariaDB/MySQL on 127.0.0.1:3306 with user root and an empty password",
  "  - install MariaDB so a private server can be started for you:",
  "      Debian/Ubuntu: sudo apt-get install mariadb-server",
  "      macOS:         brew install mariadb",
].join("\n");

/**
 * Parse DATABASE_URL. Node's own TypeError keeps the whole input in `error.input`, and loggers
 * print it: a password must not end up in the logs, so the original error is dropped on purpose.
 */
function parseDatabaseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error(
      "DATABASE_URL is not a valid URL. Percent-encode reserved characters in the user name and password " +
        "(# as %23, ? as %3F, / as %2F, @ as %40, : as %3A, % as %25).",
    );
  }
}

/** Split a MySQL URL into the server part and its database name. */
export function splitDatabaseUrl(url: string): { serverUrl: string; database?: string } {
  const parsed = parseDatabaseUrl(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || undefined;
  parsed.pathname = "";
  return { serverUrl: parsed.toString().replace(/\/$/, ""), database };
}

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
  for (const name of names)
    for (const dir of dirs) {
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
  serverOptions = [],
  log = () => {},
}: {
  dataDir: string;
  port?: number;
  /** Further `mariadbd` options (ServerRequirements.serverOptions). */
  serverOptions?: readonly string[];
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
      ...serverOptions,
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
 * Find a MySQL-compatible server the way a local stack and its tests both want it:
 * DATABASE_URL if set, else root@127.0.0.1:3306, else a private mariadbd (persistent in
 * `privateDataDir`, or in a throwaway temp dir when none is given), else an error that says
 * how to get one. A server found, not started, gets `prepare` first.
 */
export async function ensureMysqlServer({
  privateDataDir,
  serverOptions,
  prepare = async () => {},
  log = () => {},
}: { privateDataDir?: string; log?: (line: string) => void } & ServerRequirements = {}): Promise<MysqlServer> {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    const { serverUrl, database } = splitDatabaseUrl(configured);
    if (!(await canConnect(serverUrl, 3000))) {
      throw new Error(`DATABASE_URL is set but the server does not answer: ${new URL(serverUrl).host}. Start it or unset DATABASE_URL.`);
    }
    await prepare(serverUrl, "DATABASE_URL", log);
    return { serverUrl, database, source: "DATABASE_URL", stop: async () => {} };
  }
  if (await canConnect(DEFAULT_LOCAL_URL)) {
    await prepare(DEFAULT_LOCAL_URL, "127.0.0.1:3306", log);
    return { serverUrl: DEFAULT_LOCAL_URL, source: "127.0.0.1:3306", stop: async () => {} };
  }

  const temporary = privateDataDir === undefined;
  const dataDir = privateDataDir ?? (await mkdtemp(path.join(os.tmpdir(), "mariadb-")));
  const server = await startPrivateMariadb({ dataDir, serverOptions, log });
  return {
    serverUrl: server.serverUrl,
    source: "private mariadbd",
    stop: async () => {
      await server.stop();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
