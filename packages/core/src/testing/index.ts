/**
 * Test helpers for any package's tests (`@donut-states/core/testing`): a fresh migrated database
 * per test file on the server test/global-setup.ts provides, and catalogue rows to start from.
 * Not part of any handler's bundle.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import mysql from "mysql2/promise";
import { inject } from "vitest";
import { closeDatabase, createClient, type Database } from "../drizzle";
import { applicationUrl, dropApplicationUser } from "../drizzle/local-app-user";
import { migrateDatabase } from "../drizzle/migrate";
import * as Factory from "../factory";
import * as Product from "../product";
import { DEFAULT_REGION } from "../topology";
import { withDatabase } from "../util/url";

export { captureOutput, everythingAbout } from "./output";
export { type SecretsManagerStandIn, startSecretsManager } from "./secrets-manager";

export interface TestDatabase {
  name: string;
  /** As root: migrations, seeding, what a test sets up or checks. */
  url: string;
  /** As the database's application user (DML only), as the handlers connect: DATABASE_URL. */
  appUrl: string;
  db: Database;
  /** Close every pool and drop the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the test server (see test/global-setup.ts) for one test file,
 * with its application user. Also points DATABASE_URL at it as that user, so handlers under test
 * connect as they do in AWS and every test proves the user's grants are enough.
 */
export async function createTestDatabase(label = "test"): Promise<TestDatabase> {
  const serverUrl = inject("mysqlServerUrl");
  if (!serverUrl)
    throw new Error("No MySQL server was provided to the tests; run them through `npm test` (vitest.config.ts sets up the server)");
  const name = `ds_${label.replace(/\W/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
  const admin = await mysql.createConnection({ uri: serverUrl });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();

  const url = withDatabase(serverUrl, name);
  await migrateDatabase(url);
  const appUrl = await applicationUrl(url);
  process.env.DATABASE_URL = appUrl;
  const client = createClient(url, 4);
  return {
    name,
    url,
    appUrl,
    db: client.db,
    drop: async () => {
      await closeDatabase();
      await client.pool.end();
      await dropApplicationUser(url);
      const connection = await mysql.createConnection({ uri: serverUrl });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

export const TEST_FACTORY = { id: "FF-500293", name: "부산도너츠 공장", managerEmail: "factory@test.local" };

/** Insert a factory (once) and products; returns the SKUs. */
export async function seedProducts(
  db: Database,
  products: Array<{ sku: string; stock: number; price?: number; name?: string; restockQuantity?: number; reorderPoint?: number }>,
): Promise<string[]> {
  await db.insert(Factory.factoryTable).ignore().values(TEST_FACTORY);
  await db.insert(Product.productTable).values(
    products.map((product) => ({
      sku: product.sku,
      name: product.name ?? `Donut ${product.sku}`,
      price: product.price ?? 19900,
      stock: product.stock,
      factoryId: TEST_FACTORY.id,
      restockQuantity: product.restockQuantity ?? 50,
      reorderPoint: product.reorderPoint ?? 0,
    })),
  );
  return products.map((product) => product.sku);
}

declare module "vitest" {
  export interface ProvidedContext {
    mysqlServerUrl: string;
  }
}

/**
 * A URL nothing listens on (a port that was just free): point an AWS client or the factory at
 * it to make every call fail with "connection refused", through the real client and network.
 */
export async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** Credentials and region for AWS SDK clients that talk to local endpoints only. */
export function useLocalAwsCredentials(): void {
  process.env.AWS_REGION ??= DEFAULT_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
}
