import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resetProducts } from "../bench/lib/database";

let database: TestDatabase;
let admin: mysql.Connection;

beforeAll(async () => {
  database = await createTestDatabase("bench_reset");
  admin = await mysql.createConnection({ uri: database.url });
});

afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

it("the bench's reset empties every table the API writes, recorded factory calls included, on the migrated schema", async () => {
  await resetProducts(admin, [{ sku: "BENCH-1", stock: 5 }]);
  const restockId = "01JBENCHRESTOCK00000000000";
  await admin.query(
    "INSERT INTO restock_request (id, product_id, sku, factory_id, quantity, status) SELECT ?, id, sku, factory_id, 50, 'requested' FROM product WHERE sku = 'BENCH-1'",
    [restockId],
  );
  await admin.query("INSERT INTO restock_attempt (restock_id, attempt, outcome) VALUES (?, 1, 'accepted')", [restockId]);

  const products = await resetProducts(admin, [{ sku: "BENCH-2", stock: 7 }]);

  expect([...products.keys()]).toEqual(["BENCH-2"]);
  for (const table of ["orders", "outbox", "restock_request", "restock_attempt"]) {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
    expect(Number(rows[0]!.n), table).toBe(0);
  }
});
