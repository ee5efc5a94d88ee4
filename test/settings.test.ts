/**
 * Function settings have one table of names (`functionSettings` in the topology). Readers and
 * writers accept only those names, so a renamed or misspelt setting is a type error (checked by
 * test/typecheck.test.ts: each `@ts-expect-error` below must meet an error), and every function
 * in the table reads only settings that exist.
 */

import { type FunctionEnvironment, functionSettings, functions, routes } from "@donut-states/core/topology";
import { intEnv, optionalEnv, requiredEnv } from "@donut-states/core/util/config";
import { secret } from "@donut-states/core/util/secret";
import { describe, expect, it } from "vitest";

describe("function settings", () => {
  it("reject a name that is not a setting, for readers and writers alike", async () => {
    // @ts-expect-error EVENT_BUS is not a setting (EVENT_BUS_NAME is)
    expect(optionalEnv("EVENT_BUS")).toBeUndefined();
    // @ts-expect-error a misspelt setting
    expect(() => requiredEnv("FACTORY_API_ULR")).toThrow(/FACTORY_API_ULR/);
    // @ts-expect-error a setting that was renamed away
    expect(intEnv("RESTOCK_SLA", 7)).toBe(7);
    // @ts-expect-error secrets are settings too
    await expect(secret("CALLBACK_SECRET")).rejects.toThrow();
    // @ts-expect-error a writer cannot set an unknown setting either
    const environment: FunctionEnvironment = { EVENT_BUS: "default" };
    expect(environment).toBeDefined();
  });

  it("are what every function of the table reads", () => {
    for (const [name, fn] of Object.entries(functions)) {
      for (const setting of fn.reads) expect(Object.keys(functionSettings), `${name} reads ${setting}`).toContain(setting);
    }
  });

  it("give the route table from the functions table", () => {
    expect(Object.keys(routes).sort()).toEqual([
      "$default",
      "GET /products",
      "GET /products/{sku}",
      "GET /subscriptions/confirm",
      "GET /subscriptions/unsubscribe",
      "POST /factory/callbacks/{restockId}",
      "POST /orders",
      "POST /products/{sku}/subscriptions",
      "POST /subscriptions/unsubscribe",
    ]);
    expect(routes["POST /orders"]).toBe(functions.createOrder.handler);
  });
});
