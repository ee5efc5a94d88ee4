import { closeDatabase, database, query, transaction } from "@donut-states/core/drizzle";
import * as Order from "@donut-states/core/order";
import * as Product from "@donut-states/core/product";
import {
  createTestDatabase,
  type SecretsManagerStandIn,
  seedProducts,
  startSecretsManager,
  type TestDatabase,
} from "@donut-states/core/testing";
import { DependencyUnavailableError } from "@donut-states/core/util/error";
import { waitFor } from "@donut-states/emulators/testing";
import { eq } from "drizzle-orm";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Deployed functions read the application user's credentials from Secrets Manager once per
 * container, and the secret is rotated. A rotation does not end the connections already open,
 * but the next new connection with the old password is refused (ER_ACCESS_DENIED_ERROR): the
 * functions then read the secret again, once, and go on. Here against MariaDB: the user's
 * password is changed between calls (and the secret with it, as a rotation does), the
 * connections open with the old one are ended (as RDS Proxy ends idle client connections), and
 * the next call of each entry point (a read, a transaction, an order) must succeed.
 */
let testDatabase: TestDatabase;
let secrets: SecretsManagerStandIn;
let username: string;
const SECRET = "donut-states/test/app-user";

beforeAll(async () => {
  testDatabase = await createTestDatabase("credentials");
  await seedProducts(testDatabase.db, [{ sku: "CRED-1", stock: 100 }]);
  const appUrl = new URL(testDatabase.appUrl);
  username = decodeURIComponent(appUrl.username);
  secrets = await startSecretsManager();
  const arn = secrets.put(SECRET, secretValue(decodeURIComponent(appUrl.password)));
  delete process.env.DATABASE_URL;
  Object.assign(process.env, {
    DATABASE_SECRET_ARN: arn,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: "ap-northeast-2",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  });
  await closeDatabase();
});

afterAll(async () => {
  await closeDatabase();
  delete process.env.DATABASE_SECRET_ARN;
  await secrets?.close();
  await testDatabase?.drop();
});

function secretValue(password: string) {
  const url = new URL(testDatabase.url);
  return { engine: "mysql", username, password, host: url.hostname, port: Number(url.port || 3306), dbname: testDatabase.name };
}

async function asAdmin<T>(work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: testDatabase.url });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/**
 * End the application user's open connections, as RDS Proxy does with idle clients, and wait
 * until the pool has dropped them, so the next call needs a new connection (mysql2's pool keeps
 * its connections in `_allConnections`).
 */
async function endOpenConnections(): Promise<void> {
  await asAdmin(async (connection) => {
    const [rows] = await connection.query<mysql.RowDataPacket[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", [
      username,
    ]);
    for (const row of rows) await connection.query("KILL CONNECTION ?", [row.ID]);
  });
  const pool = (await database()).$client.pool as unknown as { _allConnections: { length: number } };
  await waitFor("the pool to drop its ended connections", () => pool._allConnections.length === 0, 30_000);
}

/** A rotation: the database user gets a new password, the secret another value (the same, unless told). */
async function rotate(password: string, { secretSays = password } = {}): Promise<void> {
  await asAdmin((connection) => connection.query("ALTER USER ?@'%' IDENTIFIED BY ?", [username, password]));
  secrets.put(SECRET, secretValue(secretSays));
  await endOpenConnections();
}

const readProducts = () => query((db) => db.select().from(Product.productTable).where(eq(Product.productTable.sku, "CRED-1")));

describe("credentials rotated under a running function", () => {
  it("reads the secret again, once, when a new connection is refused, and goes on (a read)", async () => {
    expect(await readProducts()).toHaveLength(1);
    expect(secrets.reads(SECRET)).toBe(1);

    await rotate("rotated-password-1");
    expect(await readProducts()).toHaveLength(1);
    expect(secrets.reads(SECRET)).toBe(2);
  });

  it("does the same for a transaction", async () => {
    await rotate("rotated-password-2");
    const stock = await transaction(
      async (tx) => (await tx.select().from(Product.productTable).where(eq(Product.productTable.sku, "CRED-1")))[0].stock,
    );
    expect(stock).toBe(100);
    expect(secrets.reads(SECRET)).toBe(3);
  });

  it("does the same for an order (the one-round-trip CALL)", async () => {
    await rotate("rotated-password-3");
    const order = await Order.place({ sku: "CRED-1", quantity: 2 });
    expect(order.order.quantity).toBe(2);
    expect(order.stock).toBe(98);
    expect(secrets.reads(SECRET)).toBe(4);
  });

  it("reads it once only: credentials still refused after a fresh read are a 503, and the next call reads again", async () => {
    await rotate("rotated-password-4", { secretSays: "not-the-password" });
    const failure = readProducts();
    await expect(failure).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(secrets.reads(SECRET)).toBe(5);

    secrets.put(SECRET, secretValue("rotated-password-4")); // the rotation finished
    expect(await readProducts()).toHaveLength(1);
    expect(secrets.reads(SECRET)).toBe(6);
  });
});
