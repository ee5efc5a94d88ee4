import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { withDatabase } from "@donut-states/core/util/url";
import { REPO_ROOT } from "@donut-states/local/runtime";
import mysql from "mysql2/promise";
import { afterAll, expect, inject, it } from "vitest";

const run = promisify(execFile);
const serverUrl = inject("mysqlServerUrl");
const name = `ds_migrate_cli_${randomBytes(4).toString("hex")}`;

afterAll(async () => {
  const admin = await mysql.createConnection({ uri: serverUrl });
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.end();
});

/** `npm run db:migrate` exactly as the README and docs/deploy.md show it (a process each: slow on a busy machine). */
const migrate = (databaseUrl: string) =>
  run("npm", ["run", "db:migrate"], { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 180_000 });

it("creates a database that does not exist yet, then applies the migrations to it", async () => {
  const url = withDatabase(serverUrl, name);
  const { stdout } = await migrate(url);
  expect(stdout).toContain(`Created database ${name}`);
  expect(stdout).toContain("Migrations applied");

  const connection = await mysql.createConnection({ uri: url });
  const [tables] = await connection.query<mysql.RowDataPacket[]>("SHOW TABLES");
  const [[charset]] = await connection.query<mysql.RowDataPacket[]>("SELECT @@character_set_database AS charset");
  await connection.end();
  expect(tables.map((row) => Object.values(row)[0])).toEqual(expect.arrayContaining(["product", "orders", "restock_request", "outbox"]));
  expect(charset.charset).toBe("utf8mb4");

  // A second run finds it and changes nothing.
  const again = await migrate(url);
  expect(again.stdout).not.toContain("Created database");
  expect(again.stdout).toContain("Migrations applied");
}, 420_000);

it("names the database and the server when it cannot reach either", async () => {
  const failure = await migrate("mysql://root@127.0.0.1:9/ds_nowhere").then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  expect(failure?.code).toBe(1);
  expect(failure?.stderr).toMatch(/Migration failed: .*127\.0\.0\.1:9/);
  expect(failure?.stderr).not.toContain("__drizzle_migrations");
}, 240_000);
