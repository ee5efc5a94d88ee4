import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newestMigrationOf, PROCEDURES, sourceOf } from "../drizzle/procedures";
import { createTestDatabase, type TestDatabase } from "../testing";
import { PLACE_ORDER_PARAMETERS, PLACE_ORDER_SQL, placeOrderValues } from "./order.sql";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase("place_order");
});
afterAll(async () => {
  await database?.drop();
});

const placeOrder = PROCEDURES.find((procedure) => procedure.name === "place_order")!;

describe("the place_order procedure", () => {
  it("is what place-order.sql writes: the newest migration that creates it is a copy of that file", () => {
    const applied = newestMigrationOf(placeOrder);
    expect(
      applied?.sql === sourceOf(placeOrder),
      `${applied?.tag}.sql differs from packages/core/src/order/place-order.sql: run \`npm run db:procedure\` to add the migration that applies it`,
    ).toBe(true);
  });

  it("is called by parameter name: PLACE_ORDER_PARAMETERS lists its parameters in its order, each filled by one placeholder", async () => {
    const [rows] = (await database.db.execute(
      sql`SELECT PARAMETER_NAME AS name, PARAMETER_MODE AS mode FROM information_schema.PARAMETERS
          WHERE SPECIFIC_SCHEMA = DATABASE() AND SPECIFIC_NAME = 'place_order' AND ROUTINE_TYPE = 'PROCEDURE'
          ORDER BY ORDINAL_POSITION`,
    )) as unknown as [Array<{ name: string; mode: string }>];
    expect(rows.map((row) => row.name)).toEqual(Object.values(PLACE_ORDER_PARAMETERS));
    expect(new Set(rows.map((row) => row.mode))).toEqual(new Set(["IN"]));
    expect(PLACE_ORDER_SQL.match(/\?/g)).toHaveLength(rows.length);
  });

  it("gets each argument at its parameter's position", () => {
    const names = Object.keys(PLACE_ORDER_PARAMETERS) as Array<keyof typeof PLACE_ORDER_PARAMETERS>;
    // Each argument's value is its own name: the values come out in the parameters' order.
    const args = Object.fromEntries(names.map((name) => [name, name])) as never;
    expect(placeOrderValues(args)).toEqual(names);
  });
});
