import { randomBytes } from "node:crypto";
import net from "node:net";
import { closeDatabase, isDatabaseUnavailable } from "@donut-states/core/drizzle";
import { applicationTables } from "@donut-states/core/drizzle/app-user";
import { DEMO_PRODUCTS } from "@donut-states/core/drizzle/seed";
import * as Product from "@donut-states/core/product";
import { captureOutput, createTestDatabase, everythingAbout, startSecretsManager, type TestDatabase } from "@donut-states/core/testing";
import { eq } from "drizzle-orm";
import mysql from "mysql2/promise";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { handler } from "./migrate";

let database: TestDatabase;
const original = process.env.DATABASE_URL;

beforeAll(async () => {
  database = await createTestDatabase("migrate");
  // Migrations run as the admin user, not as the application user the handlers use.
  process.env.DATABASE_URL = database.url;
});
afterEach(() => {
  process.env.DATABASE_URL = database.url;
});
afterAll(async () => {
  process.env.DATABASE_URL = original;
  await database?.drop();
});

const lambdaTime = (ms: number) => {
  const deadline = Date.now() + ms;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
};

it("applies migrations idempotently (a second deploy changes nothing)", async () => {
  await expect(handler({}, lambdaTime(60_000))).resolves.toBeUndefined();
  await expect(handler({}, lambdaTime(60_000))).resolves.toBeUndefined();
});

it("waits for a database that is not reachable yet, then migrates", async () => {
  // A TCP proxy that refuses connections for the first 1.5 s, like an RDS Proxy target warming up.
  const target = new URL(database.url);
  let open = false;
  const proxy = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(Number(target.port || 3306), target.hostname);
    client.pipe(upstream).pipe(client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(database.url);
  proxied.host = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  process.env.DATABASE_URL = proxied.toString();
  setTimeout(() => (open = true), 1500);
  try {
    const started = Date.now();
    await handler({}, lambdaTime(60_000));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  } finally {
    proxy.close();
    await closeDatabase();
  }
});

it("retries, then gives up before the function would time out, with the connection error", async () => {
  process.env.DATABASE_URL = "mysql://root@127.0.0.1:9/nowhere";
  const started = Date.now();
  // 22.5 s left: one 1 s backoff fits before the 20 s safety margin, the next does not.
  const error = await handler({}, lambdaTime(22_500)).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isDatabaseUnavailable(error), String(error)).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  expect(Date.now() - started).toBeLessThan(5000);
});

it("seeds the demo catalogue only when the stage asks for it (SEED_DEMO_DATA=true), keeping stock already there", async () => {
  const skus = async () =>
    (await database.db.select({ sku: Product.productTable.sku, stock: Product.productTable.stock }).from(Product.productTable))
      .map((row) => `${row.sku}:${row.stock}`)
      .sort();
  delete process.env.SEED_DEMO_DATA;
  await handler({}, lambdaTime(60_000));
  expect(await skus()).toEqual([]);

  process.env.SEED_DEMO_DATA = "true";
  try {
    await handler({}, lambdaTime(60_000));
    expect(await skus()).toEqual(DEMO_PRODUCTS.map((product) => `${product.sku}:${product.stock}`).sort());
    await database.db.update(Product.productTable).set({ stock: 1 }).where(eq(Product.productTable.sku, "CP-502101"));
    await handler({}, lambdaTime(60_000));
    expect(await skus()).toContain("CP-502101:1");
  } finally {
    delete process.env.SEED_DEMO_DATA;
  }
});

it("in a deployed stage, migrates as the admin secret's user and makes the application user of the app secret", async () => {
  const secrets = await startSecretsManager();
  const server = new URL(database.url);
  const location = { engine: "mysql", host: server.hostname, port: Number(server.port || 3306), dbname: database.name };
  const app = { username: `dsm_${randomBytes(3).toString("hex")}`, password: randomBytes(12).toString("hex") };
  const saved = { ...process.env };
  delete process.env.DATABASE_URL;
  Object.assign(process.env, {
    DATABASE_ADMIN_SECRET_ARN: secrets.put("admin", {
      ...location,
      username: decodeURIComponent(server.username),
      password: decodeURIComponent(server.password),
    }),
    DATABASE_SECRET_ARN: secrets.put("app", { ...location, ...app }),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: "ap-northeast-2",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  });
  const appUrl = new URL(database.url);
  appUrl.username = app.username;
  appUrl.password = app.password;
  try {
    await handler({}, lambdaTime(60_000));
    expect([secrets.reads("admin"), secrets.reads("app")]).toEqual([1, 1]);
    const connection = await mysql.createConnection({ uri: appUrl.toString() });
    try {
      for (const table of applicationTables()) await connection.query(`SELECT * FROM ${mysql.escapeId(table)} LIMIT 1`);
      await expect(connection.query("CREATE TABLE intruder (id INT)")).rejects.toMatchObject({ code: "ER_TABLEACCESS_DENIED_ERROR" });
    } finally {
      await connection.end();
    }
  } finally {
    process.env = saved;
    await secrets.close();
    const admin = await mysql.createConnection({ uri: database.url });
    await admin.query("DROP USER IF EXISTS ?@'%'", [app.username]);
    await admin.end();
  }
});

it("never logs a password when making the application user fails: ALTER USER refused, the error and the log carry neither secret", async () => {
  const secrets = await startSecretsManager();
  const server = new URL(database.url);
  const location = { engine: "mysql", host: server.hostname, port: Number(server.port || 3306), dbname: database.name };
  const hex = randomBytes(3).toString("hex");
  // An admin that may migrate this database and create users (INSERT on mysql.*) but not alter one.
  const admin = { username: `dsa_${hex}`, password: `admin-${randomBytes(12).toString("hex")}` };
  const app = { username: `dsm_${hex}`, password: `S3cr3t-${randomBytes(12).toString("hex")}` };
  const asRoot = async (sql: string, values: unknown[]) => {
    const connection = await mysql.createConnection({ uri: database.url });
    try {
      await connection.query(sql, values);
    } finally {
      await connection.end();
    }
  };
  await asRoot("CREATE USER ?@'%' IDENTIFIED BY ?", [admin.username, admin.password]);
  await asRoot(`GRANT ALL ON ${mysql.escapeId(database.name)}.* TO ?@'%'`, [admin.username]);
  await asRoot("GRANT INSERT ON mysql.* TO ?@'%'", [admin.username]);
  await asRoot("CREATE USER ?@'%' IDENTIFIED BY 'the-old-password'", [app.username]);
  const saved = { ...process.env };
  delete process.env.DATABASE_URL;
  Object.assign(process.env, {
    DATABASE_ADMIN_SECRET_ARN: secrets.put("admin", { ...location, ...admin }),
    DATABASE_SECRET_ARN: secrets.put("app", { ...location, ...app }),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: "ap-northeast-2",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  });
  let error: unknown;
  try {
    const output = await captureOutput(async () => {
      error = await handler({}, lambdaTime(60_000)).then(
        () => undefined,
        (reason: unknown) => reason,
      );
    });
    // Neither password anywhere: the logs, the error's message and stack, its driver fields (sql,
    // sqlMessage), its causes, any field.
    const logged = `${output}\n${everythingAbout(error)}`;
    expect(logged).not.toContain(app.password);
    expect(logged).not.toContain(admin.password);
    expect(logged).not.toContain("S3cr3t");
    // It failed where it should, and says so.
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/ALTER USER/);
    expect(error).toMatchObject({ code: "ER_SPECIFIC_ACCESS_DENIED_ERROR", errno: 1227 });
    expect(output).toContain("database migrated");
  } finally {
    process.env = saved;
    await secrets.close();
    await asRoot("DROP USER IF EXISTS ?@'%', ?@'%'", [admin.username, app.username]);
  }
});
