import { createHmac } from "node:crypto";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, TEST_FACTORY, type TestDatabase } from "@donut-states/core/testing";
import { routes } from "@donut-states/core/topology";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import { eq } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

/** The factory's callback route while FACTORY_CALLBACK_SECRET is being rotated. */
const OLD_SECRET = "old-callback-secret-0123456789abcdef";
const NEW_SECRET = "new-callback-secret-fedcba9876543210";

let database: TestDatabase;
let gateway: Gateway;

beforeAll(async () => {
  database = await createTestDatabase("callback");
  gateway = await startGateway({ routes, port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
});

afterEach(() => {
  delete process.env.FACTORY_CALLBACK_SECRET;
  delete process.env.FACTORY_CALLBACK_SECRET_PREVIOUS;
});

/** A product with a restock request the factory accepted, and the URL it was given then. */
async function outstandingRequest(sku: string, signedWith: string) {
  await seedProducts(database.db, [{ sku, stock: 0, restockQuantity: 10 }]);
  const [product] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku));
  const id = ulid();
  await database.db
    .insert(Restock.restockRequestTable)
    .values({ id, productId: product.id, sku, factoryId: TEST_FACTORY.id, quantity: 10, status: "requested", attempts: 1 });
  return { id, url: Restock.callbackUrl(gateway.url, id, signedWith, 1) };
}

const callBack = (url: string, sku: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ MessageAttributeProductId: sku, MessageAttributeProductCnt: "10" }),
  }).then(async (response) => ({ status: response.status, json: (await response.json()) as any }));

const stockOf = async (sku: string) =>
  (await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0].stock;

describe("FACTORY_CALLBACK_SECRET rotation", () => {
  it("accepts a callback URL signed with the previous secret while the rotation is under way", async () => {
    const { url } = await outstandingRequest("ROT-1", OLD_SECRET);
    process.env.FACTORY_CALLBACK_SECRET = NEW_SECRET;
    process.env.FACTORY_CALLBACK_SECRET_PREVIOUS = OLD_SECRET;
    const result = await callBack(url, "ROT-1");
    expect(result.status).toBe(200);
    expect(result.json.applied).toBe(true);
    expect(await stockOf("ROT-1")).toBe(10);
  });

  it("accepts URLs signed with the new secret during the rotation", async () => {
    const { url } = await outstandingRequest("ROT-2", NEW_SECRET);
    process.env.FACTORY_CALLBACK_SECRET = NEW_SECRET;
    process.env.FACTORY_CALLBACK_SECRET_PREVIOUS = OLD_SECRET;
    expect((await callBack(url, "ROT-2")).status).toBe(200);
  });

  it("refuses the previous secret's URLs once the rotation is finished, and any other secret's always", async () => {
    const old = await outstandingRequest("ROT-3", OLD_SECRET);
    const forged = await outstandingRequest("ROT-4", "some-other-secret-0123456789abcdef");
    process.env.FACTORY_CALLBACK_SECRET = NEW_SECRET;
    process.env.FACTORY_CALLBACK_SECRET_PREVIOUS = OLD_SECRET;
    expect((await callBack(forged.url, "ROT-4")).status).toBe(403);
    delete process.env.FACTORY_CALLBACK_SECRET_PREVIOUS;
    const late = await callBack(old.url, "ROT-3");
    expect(late.status).toBe(403);
    expect(late.json.error.code).toBe("TOKEN_INVALID");
    expect(await stockOf("ROT-3")).toBe(0);
    expect(await stockOf("ROT-4")).toBe(0);
  });
});

describe("the attempt in a callback URL", () => {
  it("refuses a URL without its attempt with a 400 JSON error, even with the attempt-less token of old, and changes nothing", async () => {
    process.env.FACTORY_CALLBACK_SECRET = NEW_SECRET;
    const { id } = await outstandingRequest("ATT-1", NEW_SECRET);
    // The token's earlier form: the HMAC of the restock id alone, for URLs that named no attempt.
    const attemptless = createHmac("sha256", NEW_SECRET).update(`restock-callback:${id}`).digest("base64url");
    const result = await callBack(`${gateway.url}/factory/callbacks/${id}?token=${attemptless}`, "ATT-1");
    expect(result.status).toBe(400);
    expect(result.json.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringMatching(/attempt/) });
    expect(await stockOf("ATT-1")).toBe(0);
  });

  it("refuses an attempt that is not a whole number from 1 with a 400 JSON error, and changes nothing", async () => {
    process.env.FACTORY_CALLBACK_SECRET = NEW_SECRET;
    const { id, url } = await outstandingRequest("ATT-2", NEW_SECRET);
    const token = new URL(url).searchParams.get("token");
    for (const attempt of ["0", "-1", "1.5", "one", "", "1234567"]) {
      const result = await callBack(`${gateway.url}/factory/callbacks/${id}?attempt=${attempt}&token=${token}`, "ATT-2");
      expect(result.status, attempt).toBe(400);
      expect(result.json.error.message, attempt).toMatch(/attempt must be a whole number from 1/);
    }
    expect(await stockOf("ATT-2")).toBe(0);
  });
});
