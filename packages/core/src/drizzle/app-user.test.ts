import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, everythingAbout, type TestDatabase } from "../testing";
import { applicationTables, ensureApplicationUser } from "./app-user";
import { isDatabaseUnavailable, RedactedSqlError } from "./error";

/**
 * The application user (every function connects as it): DML on each table of the schema and
 * EXECUTE on the procedures, nothing more, made idempotently by the migration step. The whole
 * suite runs the handlers as this user (createTestDatabase), which proves the grants are enough;
 * here, that they are not more than that.
 */
let testDatabase: TestDatabase;
/** A user of this run's own (users are server-wide; other runs share the server). */
const USER = `ds_grant_${randomBytes(3).toString("hex")}`;
const CLONE = `${USER}_clone`;

beforeAll(async () => {
  testDatabase = await createTestDatabase("app_user");
});

afterAll(async () => {
  if (testDatabase) await asRoot((connection) => connection.query("DROP USER IF EXISTS ?@'%', ?@'%'", [USER, CLONE]));
  await testDatabase?.drop();
});

async function asRoot<T>(work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: testDatabase.url });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

async function as<T>(url: string, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

const urlFor = (username: string, password: string) => {
  const url = new URL(testDatabase.url);
  url.username = username;
  url.password = password;
  return url.toString();
};

describe("the application user", () => {
  it("covers every table the migrations create (but drizzle's journal) by reading the drizzle schema", async () => {
    const [rows] = await asRoot((connection) =>
      connection.query<mysql.RowDataPacket[]>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
        [testDatabase.name],
      ),
    );
    // A migration that adds a table the schema does not export (so it would go ungranted) fails here.
    expect(rows.map((row) => row.name).filter((name) => name !== "__drizzle_migrations")).toEqual(applicationTables());
    expect(applicationTables()).toEqual(expect.arrayContaining(["product", "orders", "restock_request", "outbox"]));
  });

  it("may read and write every application table and call place_order, and nothing else", async () => {
    const database = mysql.escapeId(testDatabase.name);
    await as(testDatabase.appUrl, async (connection) => {
      for (const table of applicationTables()) {
        await connection.query(`SELECT * FROM ${mysql.escapeId(table)} LIMIT 1`);
        await connection.query(`DELETE FROM ${mysql.escapeId(table)} WHERE 1 = 0`);
      }
      await connection.query(
        "CALL place_order('NO-SUCH-SKU', 1, '01J00000000000000000000000', NULL, NULL, UTC_TIMESTAMP(3), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0)",
      );

      const refused = async (sql: string) => {
        const error = await connection.query(sql).then(
          () => undefined,
          (caught: unknown) => caught as { errno?: number },
        );
        expect(error?.errno, sql).toBeGreaterThan(0);
      };
      await refused("CREATE TABLE intruder (id INT)");
      await refused("DROP TABLE product");
      await refused("ALTER TABLE product ADD COLUMN intruder INT");
      await refused("TRUNCATE TABLE orders");
      await refused("SELECT * FROM __drizzle_migrations");
      await refused("SELECT * FROM mysql.user");
      await refused(`CREATE PROCEDURE ${database}.intruder() BEGIN END`);
      await refused("CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'");
      await refused(`GRANT SELECT ON ${database}.product TO 'intruder'@'%'`);
    });
  });

  it("is made idempotently: a second run changes nothing, a new password replaces the old one", async () => {
    const first = await ensureApplicationUser(testDatabase.url, { username: USER, password: "first-password-1" });
    const again = await ensureApplicationUser(testDatabase.url, { username: USER, password: "first-password-1" });
    expect(again).toEqual(first);
    expect(first).toEqual({ accounts: [USER], tables: applicationTables(), procedures: ["place_order"] });
    // Privileges only (MariaDB's USAGE line carries the password's hash).
    const grants = async () =>
      (await asRoot((connection) => connection.query<mysql.RowDataPacket[]>("SHOW GRANTS FOR ?@'%'", [USER])))[0]
        .map((row) => Object.values(row)[0] as string)
        .filter((grant) => !/^GRANT USAGE ON \*\.\*/.test(grant));
    const before = await grants();
    await ensureApplicationUser(testDatabase.url, { username: USER, password: "second-password-2" });
    expect(await grants()).toEqual(before);
    expect(before).toHaveLength(applicationTables().length + 1);
    expect(
      before.filter(
        (grant) =>
          !/^GRANT (SELECT, INSERT, UPDATE, DELETE ON `[^`]+`\.`[^`]+`|EXECUTE ON PROCEDURE `[^`]+`\.`place_order`) TO /.test(grant),
      ),
    ).toEqual([]);

    await as(urlFor(USER, "second-password-2"), (connection) => connection.query("SELECT 1 FROM product LIMIT 1"));
    const old = await mysql.createConnection({ uri: urlFor(USER, "first-password-1") }).then(
      (connection) => connection.end().then(() => undefined),
      (error: { errno?: number }) => error,
    );
    expect(old?.errno).toBe(1045);
  });

  it("grants the rotation clone too, when multi-user rotation has made one", async () => {
    await asRoot((connection) => connection.query("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY 'clone-password-3'", [CLONE]));
    const granted = await ensureApplicationUser(testDatabase.url, { username: USER, password: "second-password-2" });
    expect(granted.accounts).toEqual([USER, CLONE]);
    await as(urlFor(CLONE, "clone-password-3"), async (connection) => {
      for (const table of applicationTables()) await connection.query(`SELECT * FROM ${mysql.escapeId(table)} LIMIT 1`);
    });
    // With the clone current in the secret, the base user is the alternate.
    expect((await ensureApplicationUser(testDatabase.url, { username: CLONE, password: "clone-password-3" })).accounts).toEqual([
      CLONE,
      USER,
    ]);
  });
});

describe("an error of a statement that carried a secret", () => {
  it("keeps the server's message and code, but not the statement, and withholds a message that quotes the secret", async () => {
    const secret = `pw'${randomBytes(9).toString("hex")}`;
    const failing = async (sql: string) =>
      asRoot((connection) => connection.query(sql, [secret])).then(
        () => expect.unreachable(sql),
        (error: unknown) => error,
      );
    // The server quotes the statement from where it stopped parsing: here, the (escaped) secret.
    const quoted = await failing("SELECT 1 1 ?");
    expect(everythingAbout(quoted)).toContain(secret.slice(3)); // what mysql2 hands over
    const redacted = new RedactedSqlError("the probe", quoted, [secret]);
    expect(redacted.message).toBe("the probe failed: the server's message quoted the statement; withheld (ER_PARSE_ERROR)");
    expect(redacted).toMatchObject({ code: "ER_PARSE_ERROR", errno: 1064 });
    for (const piece of [secret, secret.slice(3), secret.slice(-6)]) expect(everythingAbout(redacted)).not.toContain(piece);

    // A message without the secret is kept, and an outage still reads as one.
    const refused = new RedactedSqlError("the probe", await failing("SELECT * FROM no_such_table WHERE x = ?"), [secret]);
    expect(refused.message).toMatch(/^the probe failed: Table '.*no_such_table' doesn't exist \(ER_NO_SUCH_TABLE\)$/);
    expect(isDatabaseUnavailable(refused)).toBe(false);
    const unreachable = await mysql.createConnection({ uri: "mysql://root@127.0.0.1:9/none", connectTimeout: 2000 }).then(
      () => expect.unreachable("port 9 answered"),
      (error: unknown) => error,
    );
    expect(isDatabaseUnavailable(new RedactedSqlError("connecting", unreachable, [secret]))).toBe(true);
  });
});
