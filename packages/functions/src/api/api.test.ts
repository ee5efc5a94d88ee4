import net from "node:net";
import { closeDatabase } from "@donut-states/core/drizzle";
import * as Order from "@donut-states/core/order";
import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { captureOutput, createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { routes } from "@donut-states/core/topology";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let database: TestDatabase;
let gateway: Gateway;

beforeAll(async () => {
  database = await createTestDatabase("api");
  gateway = await startGateway({ routes, port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
});

async function call(method: string, path: string, init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    body,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path} answered ${response.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, json };
}

const stockOf = async (sku: string) =>
  (await database.db.select({ stock: Product.productTable.stock }).from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0]
    .stock;
const count = async (table: typeof Order.orderTable | typeof Outbox.outboxTable | typeof Restock.restockRequestTable, where?: any) =>
  (await database.db.select({ n: sql<number>`count(*)` }).from(table).where(where))[0].n;

describe("GET /products", () => {
  it("lists every product with sku, name, price and stock", async () => {
    await seedProducts(database.db, [{ sku: "LIST-1", stock: 7, price: 19900, name: "부산도너츠" }]);
    const { status, json } = await call("GET", "/products");
    expect(status).toBe(200);
    expect(json.products).toContainEqual({ sku: "LIST-1", name: "부산도너츠", price: 19900, stock: 7 });
  });

  it("returns one product, 404 for an unknown SKU and 400 for a malformed one", async () => {
    await seedProducts(database.db, [{ sku: "ONE-1", stock: 3 }]);
    const found = await call("GET", "/products/ONE-1");
    expect(found.status).toBe(200);
    expect(found.json.product).toMatchObject({ sku: "ONE-1", stock: 3 });

    const missing = await call("GET", "/products/NOPE-404");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("PRODUCT_NOT_FOUND");

    const malformed = await call("GET", `/products/${encodeURIComponent("x' OR 1=1 --")}`);
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe("VALIDATION_FAILED");
  });
});

describe("POST /orders", () => {
  it("confirms an order, takes the stock and answers 201 with what is left", async () => {
    await seedProducts(database.db, [{ sku: "BUY-1", stock: 10, price: 2500 }]);
    const { status, json } = await call("POST", "/orders", { body: { sku: "BUY-1", quantity: 3 } });
    expect(status).toBe(201);
    expect(json.order).toMatchObject({ sku: "BUY-1", quantity: 3, unitPrice: 2500 });
    expect(json.order.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(json.stock).toBe(7);
    expect(await stockOf("BUY-1")).toBe(7);
  });

  it("never oversells: 500 concurrent orders for stock 100 give 100 x 201, 400 x 409, one restock request and one event", async () => {
    await seedProducts(database.db, [{ sku: "RUSH-1", stock: 100, restockQuantity: 80 }]);
    const results = await Promise.all(Array.from({ length: 500 }, () => call("POST", "/orders", { body: { sku: "RUSH-1", quantity: 1 } })));
    const byStatus = {} as Record<number, number>;
    for (const { status } of results) byStatus[status] = (byStatus[status] ?? 0) + 1;
    expect(byStatus).toEqual({ 201: 100, 409: 400 });
    expect(await stockOf("RUSH-1")).toBe(0);

    const [{ units }] = await database.db
      .select({ units: sql<string>`coalesce(sum(quantity), 0)` })
      .from(Order.orderTable)
      .where(eq(Order.orderTable.sku, "RUSH-1"));
    expect(Number(units) + (await stockOf("RUSH-1"))).toBe(100);

    const requests = await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, "RUSH-1"));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ status: "pending", quantity: 80 });
    const events = await database.db.select().from(Outbox.outboxTable);
    const forRush = events.filter((event) => JSON.parse(event.detail).sku === "RUSH-1");
    expect(forRush).toHaveLength(1);
    expect(forRush[0].detailType).toBe("OutOfStock");
    expect(JSON.parse(forRush[0].detail)).toMatchObject({ restockId: requests[0].id, sku: "RUSH-1", quantity: 80, factoryId: "FF-500293" });

    const rejected = results.find((r) => r.status === 409)!;
    expect(rejected.json.error).toMatchObject({
      code: "OUT_OF_STOCK",
      sku: "RUSH-1",
      available: 0,
      requested: 1,
      restock: { id: requests[0].id, status: "pending" },
    });
  });

  it("answers 409 with the available count when asking for more than is left, and opens one restock request", async () => {
    await seedProducts(database.db, [{ sku: "FEW-1", stock: 3 }]);
    const first = await call("POST", "/orders", { body: { sku: "FEW-1", quantity: 5 } });
    expect(first.status).toBe(409);
    expect(first.json.error).toMatchObject({ code: "OUT_OF_STOCK", available: 3, requested: 5 });
    const again = await call("POST", "/orders", { body: { sku: "FEW-1", quantity: 4 } });
    expect(again.json.error.restock.id).toBe(first.json.error.restock.id);
    expect(await stockOf("FEW-1")).toBe(3);
    expect(await count(Restock.restockRequestTable, eq(Restock.restockRequestTable.sku, "FEW-1"))).toBe(1);
  });

  it("opens the restock request when an order reaches the reorder point, before anyone is refused", async () => {
    await seedProducts(database.db, [{ sku: "REORDER-1", stock: 10, reorderPoint: 4 }]);
    expect((await call("POST", "/orders", { body: { sku: "REORDER-1", quantity: 5 } })).status).toBe(201);
    expect(await count(Restock.restockRequestTable, eq(Restock.restockRequestTable.sku, "REORDER-1"))).toBe(0);
    expect((await call("POST", "/orders", { body: { sku: "REORDER-1", quantity: 1 } })).status).toBe(201);
    expect(await count(Restock.restockRequestTable, eq(Restock.restockRequestTable.sku, "REORDER-1"))).toBe(1);
  });

  describe("Idempotency-Key", () => {
    it("replays the original answer to a retry and orders nothing more", async () => {
      await seedProducts(database.db, [{ sku: "IDEM-1", stock: 10 }]);
      const headers = { "Idempotency-Key": "order-7f3c2a" };
      const first = await call("POST", "/orders", { body: { sku: "IDEM-1", quantity: 2 }, headers });
      const retry = await call("POST", "/orders", { raw: '{ "quantity": 2, "sku": "IDEM-1" }', headers });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.json).toEqual(first.json);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(await stockOf("IDEM-1")).toBe(8);
      expect(await count(Order.orderTable, eq(Order.orderTable.sku, "IDEM-1"))).toBe(1);
    });

    it("orders once when the same key arrives 20 times at once", async () => {
      await seedProducts(database.db, [{ sku: "IDEM-2", stock: 50 }]);
      const headers = { "idempotency-key": "burst-key-1" };
      const results = await Promise.all(
        Array.from({ length: 20 }, () => call("POST", "/orders", { body: { sku: "IDEM-2", quantity: 1 }, headers })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
      expect(new Set(results.map((r) => r.json.order.id)).size).toBe(1);
      expect(await stockOf("IDEM-2")).toBe(49);
    });

    it("refuses the same key with a different body with 422 and changes nothing", async () => {
      await seedProducts(database.db, [{ sku: "IDEM-3", stock: 10 }]);
      const headers = { "Idempotency-Key": "reused-key" };
      expect((await call("POST", "/orders", { body: { sku: "IDEM-3", quantity: 1 }, headers })).status).toBe(201);
      const reused = await call("POST", "/orders", { body: { sku: "IDEM-3", quantity: 2 }, headers });
      expect(reused.status).toBe(422);
      expect(reused.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
      expect(await stockOf("IDEM-3")).toBe(9);
    });

    it("tells keys apart that differ only in case: two clients, two orders", async () => {
      await seedProducts(database.db, [{ sku: "IDEM-5", stock: 10 }]);
      const first = await call("POST", "/orders", { body: { sku: "IDEM-5", quantity: 1 }, headers: { "Idempotency-Key": "tok-aBcD3fGh" } });
      const second = await call("POST", "/orders", {
        body: { sku: "IDEM-5", quantity: 1 },
        headers: { "Idempotency-Key": "tok-AbCd3FgH" },
      });
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.headers.get("idempotent-replayed")).toBeNull();
      expect(second.json.order.id).not.toBe(first.json.order.id);
      expect(await stockOf("IDEM-5")).toBe(8);
      expect(await count(Order.orderTable, eq(Order.orderTable.sku, "IDEM-5"))).toBe(2);
    });

    it("rejects a malformed key with 400", async () => {
      await seedProducts(database.db, [{ sku: "IDEM-4", stock: 10 }]);
      const result = await call("POST", "/orders", {
        body: { sku: "IDEM-4", quantity: 1 },
        headers: { "Idempotency-Key": "x".repeat(300) },
      });
      expect(result.status).toBe(400);
      expect(result.json.error.message).toMatch(/Idempotency-Key/);
      expect(await stockOf("IDEM-4")).toBe(10);
    });
  });

  describe("bad input gets a clear 4xx and changes nothing", () => {
    const cases: Array<{ name: string; raw?: string; body?: unknown; headers?: Record<string, string>; status: number; message: RegExp }> =
      [
        { name: "malformed JSON", raw: '{"sku": "BAD-1", "quantity": ', status: 400, message: /not valid JSON/ },
        { name: "empty body", raw: "", status: 400, message: /body is required/ },
        { name: "a JSON array", body: [1, 2], status: 400, message: /object/ },
        { name: "missing sku", body: { quantity: 1 }, status: 400, message: /sku/ },
        { name: "missing quantity", body: { sku: "BAD-1" }, status: 400, message: /quantity/ },
        { name: "quantity as a string", body: { sku: "BAD-1", quantity: "1" }, status: 400, message: /quantity must be a number/ },
        { name: "quantity 0", body: { sku: "BAD-1", quantity: 0 }, status: 400, message: /between 1 and 100/ },
        { name: "quantity 101", body: { sku: "BAD-1", quantity: 101 }, status: 400, message: /between 1 and 100/ },
        { name: "negative quantity", body: { sku: "BAD-1", quantity: -5 }, status: 400, message: /between 1 and 100/ },
        { name: "fractional quantity", body: { sku: "BAD-1", quantity: 1.5 }, status: 400, message: /whole number/ },
        { name: "sku as a number", body: { sku: 502101, quantity: 1 }, status: 400, message: /sku must be a string/ },
        {
          name: "SQL in the sku",
          body: { sku: "BAD-1'; DROP TABLE product; --", quantity: 1 },
          status: 400,
          message: /sku may contain only/,
        },
        { name: "an unknown field", body: { sku: "BAD-1", quantity: 1, price: 0 }, status: 400, message: /unknown field.*price/ },
        { name: "a body over 8 KiB", body: { sku: "BAD-1", quantity: 1, note: "x".repeat(9000) }, status: 413, message: /limit is 8192/ },
        {
          name: "a form body",
          raw: "sku=BAD-1&quantity=1",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          status: 415,
          message: /application\/json/,
        },
        { name: "an unknown SKU", body: { sku: "NOPE-1", quantity: 1 }, status: 404, message: /No product has SKU NOPE-1/ },
      ];

    it.each(cases)("$name -> $status", async ({ raw, body, headers, status, message }) => {
      await seedProducts(database.db, [{ sku: `BAD-${Math.random().toString(36).slice(2, 8)}`, stock: 0 }]).catch(() => {});
      const existing = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, "BAD-1"));
      if (existing.length === 0) await seedProducts(database.db, [{ sku: "BAD-1", stock: 5 }]);
      const before = {
        orders: await count(Order.orderTable),
        requests: await count(Restock.restockRequestTable),
        outbox: await count(Outbox.outboxTable),
      };

      const result = await call("POST", "/orders", { raw, body, headers });
      expect(result.status).toBe(status);
      expect(typeof result.json.error.code).toBe("string");
      expect(result.json.error.message).toMatch(message);
      expect(JSON.stringify(result.json)).not.toMatch(/\bat .*\.(ts|js):\d+/);

      expect(await stockOf("BAD-1")).toBe(5);
      expect({
        orders: await count(Order.orderTable),
        requests: await count(Restock.restockRequestTable),
        outbox: await count(Outbox.outboxTable),
      }).toEqual(before);
    });
  });
});

describe("gateway edge cases", () => {
  it("answers an unreadable request target with 400 instead of crashing", async () => {
    const { port } = new URL(gateway.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () =>
        socket.write("POST http://[/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
      );
      let data = "";
      socket.on("data", (chunk) => (data += chunk));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(raw).toContain("BAD_REQUEST_TARGET");
    expect((await call("GET", "/products")).status).toBe(200);
  });

  it("measures a body that is not UTF-8 by its bytes, not by a re-encoding", async () => {
    const response = await fetch(`${gateway.url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.alloc(3000, 0xff),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.message).toMatch(/not valid JSON/);
  });
});

describe("routing", () => {
  it("answers unknown routes with a JSON 404 and wrong methods with a 405", async () => {
    const unknown = await call("GET", "/nowhere");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("ROUTE_NOT_FOUND");
    const wrongMethod = await call("DELETE", "/orders");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
  });
});

describe("when the database is down", () => {
  it("answers 503 with Retry-After and a JSON error, never a stack trace", async () => {
    const realUrl = process.env.DATABASE_URL;
    // A port where nothing listens: connection refused, like a database that is down.
    process.env.DATABASE_URL = "mysql://root@127.0.0.1:9/donut_states";
    try {
      for (const [method, path, body] of [
        ["GET", "/products", undefined],
        ["GET", "/products/CP-502101", undefined],
        ["POST", "/orders", { sku: "CP-502101", quantity: 1 }],
      ] as const) {
        const result = await call(method, path, { body });
        expect(result.status, `${method} ${path}`).toBe(503);
        expect(result.headers.get("retry-after")).toBe("2");
        expect(result.json.error.code).toBe("SERVICE_UNAVAILABLE");
      }
    } finally {
      process.env.DATABASE_URL = realUrl;
      await closeDatabase();
    }
    expect((await call("GET", "/products")).status).toBe(200);
  });
});

describe("when DATABASE_URL is malformed", () => {
  it.each(["#", "?", "/"])("a '%s' in the password gives a 503 and never prints the password", async (character) => {
    const realUrl = process.env.DATABASE_URL;
    const password = `s3cr${character}tPw9`;
    process.env.DATABASE_URL = `mysql://root:${password}@127.0.0.1:3306/donut_states`;
    let result!: Awaited<ReturnType<typeof call>>;
    const output = await captureOutput(async () => {
      try {
        result = await call("POST", "/orders", { body: { sku: "CP-502101", quantity: 1 } });
      } finally {
        process.env.DATABASE_URL = realUrl;
        await closeDatabase();
      }
    });
    expect(result.status).toBe(503);
    expect(result.json.error.code).toBe("SERVICE_UNAVAILABLE");
    expect(JSON.stringify(result.json)).not.toContain("s3cr");
    expect(output).toContain("DATABASE_URL is not a valid URL");
    expect(output).not.toContain("s3cr");
    expect((await call("GET", "/products")).status).toBe(200);
  });
});
