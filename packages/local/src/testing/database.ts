import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { inject } from "vitest";
import { closeDatabase, createClient, type Database } from "@donut-states/core/drizzle";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { factoryTable } from "@donut-states/core/factory";
import { productTable } from "@donut-states/core/product";
import { withDatabase } from "../mysql/server";

export interface TestDatabase {
  name: string;
  url: string;
  db: Database;
  /** Close every pool and drop the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the test server (see test/global-setup.ts) for one test file.
 * Also points DATABASE_URL at it, so handlers under test use it.
 */
export async function createTestDatabase(label = "test"): Promise<TestDatabase> {
  const serverUrl = inject("mysqlServerUrl");
  if (!serverUrl) throw new Error("No MySQL server was provided to the tests; run them through `npm test` (vitest.config.ts sets up the server)");
  const name = `ds_${label.replace(/\W/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
  const admin = await mysql.createConnection({ uri: serverUrl });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();

  const url = withDatabase(serverUrl, name);
  await migrateDatabase(url);
  process.env.DATABASE_URL = url;
  const client = createClient(url, 4);
  return {
    name,
    url,
    db: client.db,
    drop: async () => {
      await closeDatabase();
      await client.pool.end();
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
  await db.insert(factoryTable).ignore().values(TEST_FACTORY);
  await db.insert(productTable).values(
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
