import net from "node:net";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { closeDatabase, isDatabaseUnavailable } from "@donut-states/core/drizzle";
import { DEMO_PRODUCTS } from "@donut-states/core/drizzle/seed";
import { productTable } from "@donut-states/core/product";
import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import { handler } from "./migrate";

let database: TestDatabase;
const original = process.env.DATABASE_URL;

beforeAll(async () => {
  database = await createTestDatabase("migrate");
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
  const skus = async () => (await database.db.select({ sku: productTable.sku, stock: productTable.stock }).from(productTable)).map((row) => `${row.sku}:${row.stock}`).sort();
  delete process.env.SEED_DEMO_DATA;
  await handler({}, lambdaTime(60_000));
  expect(await skus()).toEqual([]);

  process.env.SEED_DEMO_DATA = "true";
  try {
    await handler({}, lambdaTime(60_000));
    expect(await skus()).toEqual(DEMO_PRODUCTS.map((product) => `${product.sku}:${product.stock}`).sort());
    await database.db.update(productTable).set({ stock: 1 }).where(eq(productTable.sku, "CP-502101"));
    await handler({}, lambdaTime(60_000));
    expect(await skus()).toContain("CP-502101:1");
  } finally {
    delete process.env.SEED_DEMO_DATA;
  }
});
