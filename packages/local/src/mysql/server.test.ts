import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createClient } from "@donut-states/core/drizzle";
import { sessionDefaultsMismatch } from "@donut-states/core/drizzle/session";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureSessionDefaults, startPrivateMariadb } from "./index";

/**
 * The app sends no SET per session (RDS Proxy would pin the connection), so every server it runs
 * on must default to UTC and READ COMMITTED: RDS by its parameter group, a private mariadbd by its
 * options, any other server by `ensureSessionDefaults`. A private server of this file's own is
 * used, so changing its global defaults disturbs no other test.
 */
let dataDir: string;
let server: Awaited<ReturnType<typeof startPrivateMariadb>>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "donut-states-defaults-"));
  server = await startPrivateMariadb({ dataDir });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function sessionOf(url: string) {
  const client = createClient(`${url}/mysql`, 1);
  try {
    const [rows] = await client.pool.query<mysql.RowDataPacket[]>(
      "SELECT @@session.time_zone AS timeZone, @@session.tx_isolation AS isolation",
    );
    return rows[0];
  } finally {
    await client.pool.end();
  }
}

async function asRoot<T>(work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: server.serverUrl });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

async function otherDefaults(connection: mysql.Connection) {
  await connection.query("SET GLOBAL time_zone = SYSTEM");
  await connection.query("SET GLOBAL TRANSACTION ISOLATION LEVEL REPEATABLE READ");
}

describe("session defaults of the server", () => {
  it("a private mariadbd starts with UTC and READ COMMITTED for every session", async () => {
    expect(await sessionOf(server.serverUrl)).toEqual({ timeZone: "+00:00", isolation: "READ-COMMITTED" });
  });

  it("another server's defaults are set globally when this user may, and new sessions get them", async () => {
    await asRoot(otherDefaults);
    expect(await sessionOf(server.serverUrl)).toEqual({ timeZone: "SYSTEM", isolation: "REPEATABLE-READ" });
    const lines: string[] = [];
    await ensureSessionDefaults(server.serverUrl, "127.0.0.1:3306", (line) => lines.push(line));
    expect(lines).toEqual([expect.stringMatching(/time_zone is SYSTEM.*REPEATABLE-READ.*set the server's GLOBAL defaults/)]);
    expect(await sessionOf(server.serverUrl)).toEqual({ timeZone: "+00:00", isolation: "READ-COMMITTED" });
  });

  it("fails with what to configure when this user may not set them", async () => {
    await asRoot(async (connection) => {
      await connection.query("CREATE USER IF NOT EXISTS 'plain'@'%' IDENTIFIED BY 'plain-password'");
      await otherDefaults(connection);
    });
    const plainUrl = server.serverUrl.replace("root@", "plain:plain-password@");
    const failure = ensureSessionDefaults(plainUrl, "DATABASE_URL");
    await expect(failure).rejects.toThrow(
      /^DATABASE_URL \(127\.0\.0\.1:\d+\): time_zone is SYSTEM, not UTC.*transaction isolation is REPEATABLE-READ/,
    );
    await expect(failure).rejects.toThrow(/default-time-zone = '\+00:00'.*transaction-isolation = READ-COMMITTED/);
    // Nothing changed: the server still has the other defaults.
    expect(await sessionOf(server.serverUrl)).toEqual({ timeZone: "SYSTEM", isolation: "REPEATABLE-READ" });
  });

  it("reads MySQL 8.4's and MariaDB 10.11's variable names alike", () => {
    expect(
      sessionDefaultsMismatch([
        { Variable_name: "time_zone", Value: "UTC" },
        { Variable_name: "transaction_isolation", Value: "READ-COMMITTED" },
      ]),
    ).toEqual([]);
    expect(
      sessionDefaultsMismatch([
        { Variable_name: "time_zone", Value: "+00:00" },
        { Variable_name: "tx_isolation", Value: "READ-COMMITTED" },
      ]),
    ).toEqual([]);
    expect(
      sessionDefaultsMismatch([
        { Variable_name: "time_zone", Value: "Europe/Berlin" },
        { Variable_name: "tx_isolation", Value: "REPEATABLE-READ" },
      ]),
    ).toEqual(["time_zone is Europe/Berlin, not UTC (+00:00)", "transaction isolation is REPEATABLE-READ, not READ-COMMITTED"]);
  });
});
