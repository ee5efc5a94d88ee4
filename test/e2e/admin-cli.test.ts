/**
 * Operating the offline stack through its admin API with the ops CLI, as an operator operates
 * a deployed stage: every command below is a SigV4-signed request to the gateway's AWS_IAM
 * routes (no database connection from the CLI). The factory simulator never calls back, so the
 * restock request stays `requested` until it is re-requested.
 */
import path from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import * as Factory from "@donut-states/core/factory";
import { TEST_FACTORY } from "@donut-states/core/testing";
import { offlineCredentials } from "@donut-states/core/topology";
import { waitFor } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { runOps } from "@donut-states/ops/program";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let testStack: TestStack;
let stack: OfflineStack;
let localDir: string;

beforeAll(async () => {
  testStack = await startTestStack(
    "e2e_admin",
    {
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: 10,
      FACTORY_TIMEOUT_MS: 4000,
      OUTBOX_RELAY_INTERVAL_MS: 500,
      factoryOptions: { port: 0, delayMs: 100, failureRate: 0, timeoutRate: 0, callback: "never" },
    },
    (database) => database.db.insert(Factory.factoryTable).ignore().values(TEST_FACTORY),
  );
  ({ stack, localDir } = testStack);
});

afterAll(() => testStack?.stop());

/** `npm run ops -- --json <args>` against this stack (its stack.json), parsed. */
async function ops<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOps(["--stack-file", path.join(localDir, "stack.json"), "--json", ...args], {
    io: { out: (text) => out.push(text), err: (text) => err.push(text) },
  });
  if (code !== 0) throw new Error(`ops ${args.join(" ")} exited ${code}: ${err.join("\n")}`);
  return JSON.parse(out.join("\n")) as T;
}

async function signedRequest(method: string, pathAndQuery: string, body: string | undefined, secretAccessKey: string) {
  const url = new URL(pathAndQuery, stack.apiUrl);
  const signer = new SignatureV4({
    credentials: { accessKeyId: offlineCredentials.accessKeyId, secretAccessKey },
    region: stack.region,
    service: "execute-api",
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, "content-type": "application/json" },
    body,
  });
  const { host: _host, ...headers } = signed.headers;
  const response = await fetch(url, { method, headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const SKU = "E2E-ADMIN-1";
const WHO = `arn:aws:iam::${offlineCredentials.accountId}:user/${offlineCredentials.accessKeyId}`;

describe("the ops CLI over the admin API", { timeout: 240_000 }, () => {
  let restockId: string;

  it("creates a product with its initial stock, recorded as a stock change", async () => {
    const created = await ops(
      "product",
      "create",
      SKU,
      "--name",
      "Yuzu Glazed",
      "--price",
      "3000",
      "--factory",
      TEST_FACTORY.id,
      "--restock-quantity",
      "7",
      "--stock",
      "3",
    );
    expect(created).toEqual({
      sku: SKU,
      name: "Yuzu Glazed",
      price: 3000,
      stock: 3,
      factoryId: TEST_FACTORY.id,
      restockQuantity: 7,
      reorderPoint: 0,
    });
    const updated = await ops("product", "update", SKU, "--price", "3200");
    expect(updated).toMatchObject({ sku: SKU, price: 3200, stock: 3 });
    // The public API sells it as it is.
    const response = await fetch(`${stack.apiUrl}/products/${SKU}`);
    expect(await response.json()).toEqual({ product: { sku: SKU, name: "Yuzu Glazed", price: 3200, stock: 3 } });
  });

  it("sells it out, and lists the restock request the sale opened", async () => {
    const sale = await fetch(`${stack.apiUrl}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku: SKU, quantity: 3 }),
    });
    expect(sale.status).toBe(201);
    expect(((await sale.json()) as { stock: number }).stock).toBe(0);

    // The factory accepts the request and never calls back: it stays requested.
    const requested = await waitFor(
      "the restock request to be requested",
      async () => {
        const { restockRequests } = await ops<{ restockRequests: Array<{ id: string; sku: string; status: string; quantity: number }> }>(
          "restock",
          "list",
          "--status",
          "requested",
        );
        return restockRequests.find((request) => request.sku === SKU);
      },
      120_000,
    );
    expect(requested).toMatchObject({ sku: SKU, status: "requested", quantity: 7 });
    restockId = requested.id;

    const { products } = await ops<{ products: Array<{ sku: string; stock: number; restock: { id: string; status: string } | null }> }>(
      "stock",
    );
    expect(products.find((product) => product.sku === SKU)).toMatchObject({ stock: 0, restock: { id: restockId, status: "requested" } });
  });

  it("re-requests it: back to pending with a new OutOfStock event, which reaches the factory again", async () => {
    const callsBefore = stack.factory!.requests.length;
    const result = await ops("restock", "re-request", restockId);
    expect(result).toMatchObject({
      id: restockId,
      sku: SKU,
      previousStatus: "requested",
      status: "pending",
      outboxId: expect.any(String),
      published: true,
      who: WHO,
    });
    await waitFor("the factory to be asked again", () => stack.factory!.requests.length > callsBefore || undefined, 120_000);
    // Its OutOfStock event went out at once (published: true). The factory caller's own
    // RestockRequested row may still be on its way out: nothing stays pending for long.
    await waitFor(
      "the outbox to have nothing pending",
      async () => ((await ops<{ count: number }>("outbox", "pending")).count === 0 ? true : undefined),
      60_000,
    );
  });

  it("sets stock by hand, recorded with who, when, old -> new and why", async () => {
    const change = await ops("stock", "set", SKU, "10", "--expect", "0", "--reason", "found a tray in the back");
    expect(change).toMatchObject({ sku: SKU, previous: 0, stock: 10, who: WHO, reason: "found a tray in the back" });
    const history = await ops<{ stock: number; changes: Array<{ previous: number; stock: number; who: string; reason: string }> }>(
      "stock",
      "history",
      SKU,
    );
    expect(history.stock).toBe(10);
    expect(history.changes.map(({ previous, stock, reason }) => ({ previous, stock, reason }))).toEqual([
      { previous: 0, stock: 10, reason: "found a tray in the back" },
      { previous: 0, stock: 3, reason: "initial stock of a new product" },
    ]);
  });

  it("answers the DLQ depth", async () => {
    expect(await ops("dlq", "depth")).toMatchObject({ visible: 0, inFlight: 0, alarming: false });
  });

  it("refuses unsigned and wrongly signed admin requests with 403, and changes nothing", async () => {
    const body = JSON.stringify({ stock: 999, reason: "nobody" });
    const unsigned = await fetch(`${stack.apiUrl}/admin/products/${SKU}/stock`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: "Forbidden" });
    for (const [method, route] of [
      ["GET", "/admin/products"],
      ["GET", "/admin/restocks"],
      ["GET", "/admin/outbox"],
      ["GET", "/admin/dlq"],
      ["POST", "/admin/products"],
    ]) {
      expect((await fetch(`${stack.apiUrl}${route}`, { method })).status, `${method} ${route}`).toBe(403);
    }
    const wrong = await signedRequest("PUT", `/admin/products/${SKU}/stock`, body, "not-the-offline-secret");
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toMatch(/signature we calculated does not match/);
    const right = await signedRequest("GET", `/admin/products/${SKU}/stock`, undefined, offlineCredentials.secretAccessKey);
    expect(right).toMatchObject({ status: 200, body: { stock: 10 } });
  });

  it("answers bad input with the public API's error shape, and changes nothing", async () => {
    const bad = await signedRequest(
      "POST",
      "/admin/products",
      JSON.stringify({ sku: "BAD SKU", name: "", price: -1, factoryId: "FF-1" }),
      offlineCredentials.secretAccessKey,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringMatching(/^Invalid request body: sku: /) });
    const unknownField = await signedRequest(
      "PATCH",
      `/admin/products/${SKU}`,
      JSON.stringify({ stock: 5 }),
      offlineCredentials.secretAccessKey,
    );
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toMatch(/unknown field\(s\): stock/);
    const duplicate = await signedRequest(
      "POST",
      "/admin/products",
      JSON.stringify({ sku: SKU, name: "Again", price: 1, factoryId: TEST_FACTORY.id }),
      offlineCredentials.secretAccessKey,
    );
    expect(duplicate).toMatchObject({ status: 409, body: { error: { code: "PRODUCT_EXISTS" } } });
    const noFactory = await signedRequest(
      "POST",
      "/admin/products",
      JSON.stringify({ sku: "E2E-ADMIN-2", name: "X", price: 1, factoryId: "FF-NOPE" }),
      offlineCredentials.secretAccessKey,
    );
    expect(noFactory).toMatchObject({ status: 422, body: { error: { code: "UNKNOWN_FACTORY" } } });
    expect((await fetch(`${stack.apiUrl}/products/E2E-ADMIN-2`)).status).toBe(404);
    expect(((await (await fetch(`${stack.apiUrl}/products/${SKU}`)).json()) as { product: { stock: number } }).product.stock).toBe(10);
  });
});
