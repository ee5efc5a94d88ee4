/**
 * The restock domain against MariaDB alone: the factory callback (`Restock.fulfil`) and the
 * factory call with its lease (`Restock.requestFromFactory`). The legacy factory is a plain
 * HTTP server in this file that the test controls (hold a call, answer 202 or 500); the event
 * bus is a port nothing listens on, so events opened here wait in the outbox.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as Product from "../product";
import { closedPortUrl, createTestDatabase, seedProducts, type TestDatabase, useLocalAwsCredentials } from "../testing";
import * as Restock from "./index";

/** A stand-in for the legacy Factory API: records each call and answers as told, or holds it. */
class Factory {
  calls: Array<Record<string, string>> = [];
  status = 202;
  private held: Array<() => void> = [];
  private holding = false;
  private server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      this.calls.push(JSON.parse(body));
      const answer = () => response.writeHead(this.status, { "content-type": "application/json" }).end('{"result":"OK"}');
      if (this.holding) this.held.push(answer);
      else answer();
    });
  });
  url = "";

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  /** Calls from now on get no answer until `release()`. */
  hold() {
    this.holding = true;
  }
  release() {
    this.holding = false;
    for (const answer of this.held.splice(0)) answer();
  }
  /** Resolves once the factory has received `count` calls in all. */
  async received(count: number) {
    const deadline = Date.now() + 20_000;
    while (this.calls.length < count) {
      if (Date.now() > deadline) throw new Error(`the factory received ${this.calls.length} calls, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  close() {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

let database: TestDatabase;
const factory = new Factory();
let nextSku = 1;

beforeAll(async () => {
  database = await createTestDatabase("core_restock");
  useLocalAwsCredentials();
  await factory.start();
  Object.assign(process.env, {
    EVENT_BUS_NAME: "default",
    AWS_ENDPOINT_URL_EVENTBRIDGE: await closedPortUrl(),
    FACTORY_API_URL: factory.url,
    PUBLIC_API_URL: "http://127.0.0.1:1/",
    FACTORY_CALLBACK_SECRET: "a-test-secret-of-enough-length",
    FACTORY_TIMEOUT_MS: "10000",
  });
});
afterAll(async () => {
  await factory.close();
  await database?.drop();
});
beforeEach(() => {
  factory.calls = [];
  factory.status = 202;
  factory.release();
});

/** A sold-out product with its restock request opened, as the sale that sold the last unit leaves it. */
async function openRequest(restockQuantity = 30) {
  const [sku] = await seedProducts(database.db, [{ sku: `CR-${String(nextSku++).padStart(6, "0")}`, stock: 0, restockQuantity }]);
  const { id } = await Restock.openFor(sku);
  return { id, sku, callback: { MessageAttributeProductId: sku, MessageAttributeProductCnt: String(restockQuantity) } };
}

const requestOf = async (id: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.id, id)))[0];
const stockOf = async (sku: string) =>
  (await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0].stock;
const delivery = { receiveCount: 1, maxReceiveCount: 5 };

describe("Restock.fulfil", () => {
  it("adds the request's units once, however many callbacks race", async () => {
    const { id, sku, callback } = await openRequest(30);
    const results = await Promise.all(Array.from({ length: 5 }, () => Restock.fulfil(id, callback, 1)));
    expect(results.filter((result) => result.applied)).toHaveLength(1);
    expect(await stockOf(sku)).toBe(30);
    expect(await requestOf(id)).toMatchObject({ status: "fulfilled" });
  });

  it("refuses a callback for another SKU or count and changes nothing", async () => {
    const { id, sku, callback } = await openRequest(30);
    await expect(Restock.fulfil(id, { ...callback, MessageAttributeProductCnt: "31" }, 1)).rejects.toBeInstanceOf(
      Restock.CallbackMismatchError,
    );
    await expect(Restock.fulfil(id, { ...callback, MessageAttributeProductId: "CR-OTHER" }, 1)).rejects.toMatchObject({
      status: 409,
      code: "CALLBACK_MISMATCH",
    });
    expect(await stockOf(sku)).toBe(0);
    expect(await requestOf(id)).toMatchObject({ status: "pending" });
  });

  it("refuses an unknown request", async () => {
    await expect(
      Restock.fulfil("01ARZ3NDEKTSV4RRFFQ69G5FAV", { MessageAttributeProductId: "X", MessageAttributeProductCnt: "1" }, 1),
    ).rejects.toMatchObject({
      status: 404,
      code: "RESTOCK_NOT_FOUND",
    });
  });

  it("counts each factory call's callback once: a second production run adds its units too", async () => {
    const { id, sku, callback } = await openRequest(20);
    await Restock.requestFromFactory(id, delivery);
    await Restock.reRequest(id);
    await Restock.requestFromFactory(id, delivery);
    expect(factory.calls.map((call) => new URL(call.CallbackUrl).searchParams.get("attempt"))).toEqual(["1", "2"]);

    expect(await Restock.fulfil(id, callback, 1)).toMatchObject({ applied: true, stock: 20 });
    expect(await Restock.fulfil(id, callback, 1)).toMatchObject({ applied: false, stock: 20 });
    expect(await Restock.fulfil(id, callback, 2)).toMatchObject({ applied: true, extraRun: true, stock: 40 });
    expect(await stockOf(sku)).toBe(40);
  });
});

describe("Restock.requestFromFactory and its lease", () => {
  it("calls the factory once while another delivery of the same request holds the lease", async () => {
    const { id } = await openRequest();
    factory.hold();
    const first = Restock.requestFromFactory(id, delivery);
    await factory.received(1);
    await expect(Restock.requestFromFactory(id, delivery)).rejects.toMatchObject({ name: "RestockBusyError" });
    factory.release();
    await expect(first).resolves.toMatchObject({ outcome: "requested", attempts: 1 });
    await expect(Restock.requestFromFactory(id, delivery)).resolves.toEqual({ outcome: "skipped", reason: "already requested" });
    expect(factory.calls).toHaveLength(1);
    expect(await requestOf(id)).toMatchObject({ status: "requested", leaseUntil: null });
  });

  it("lets the next delivery call once the lease of a holder that vanished has run out", async () => {
    const { id } = await openRequest();
    // A holder that claimed the request and died before it called: its lease still runs.
    const setLease = (seconds: number) =>
      database.db
        .update(Restock.restockRequestTable)
        .set({ leaseUntil: sql`DATE_ADD(NOW(3), INTERVAL ${seconds} SECOND)` })
        .where(eq(Restock.restockRequestTable.id, id));
    await setLease(60);
    await expect(Restock.requestFromFactory(id, delivery)).rejects.toMatchObject({ name: "RestockBusyError" });
    expect(factory.calls).toHaveLength(0);
    await setLease(-1);
    await expect(Restock.requestFromFactory(id, delivery)).resolves.toMatchObject({ outcome: "requested" });
    expect(factory.calls).toHaveLength(1);
  });

  it("records a refused call for a retry, and marks the request failed on the queue's last delivery", async () => {
    const { id } = await openRequest();
    factory.status = 500;
    await expect(Restock.requestFromFactory(id, { receiveCount: 1, maxReceiveCount: 2 })).rejects.toThrow(/500/);
    expect(await requestOf(id)).toMatchObject({ status: "pending", leaseUntil: null, lastError: expect.stringMatching(/500/) });
    await expect(Restock.requestFromFactory(id, { receiveCount: 2, maxReceiveCount: 2 })).rejects.toThrow(/500/);
    expect(await requestOf(id)).toMatchObject({ status: "failed" });
    const attempts = await database.db
      .select()
      .from(Restock.restockAttemptTable)
      .where(and(eq(Restock.restockAttemptTable.restockId, id)));
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(["failed", "failed"]);
  });
  it("is idempotent per restock request for a replayed OutOfStock: nothing for one since fulfilled, one call for one still failed", async () => {
    // What an archive replay after a factory outage re-delivers: every OutOfStock of the window.
    const fulfilled = await openRequest(10);
    await Restock.requestFromFactory(fulfilled.id, delivery);
    await Restock.fulfil(fulfilled.id, fulfilled.callback, 1);
    const outage = await openRequest(10);
    factory.status = 500;
    await expect(Restock.requestFromFactory(outage.id, { receiveCount: 1, maxReceiveCount: 1 })).rejects.toThrow(/500/);
    expect(await requestOf(outage.id)).toMatchObject({ status: "failed" });
    factory.status = 202;
    factory.calls = [];

    for (let replay = 0; replay < 2; replay++) {
      await expect(Restock.requestFromFactory(fulfilled.id, delivery)).resolves.toEqual({
        outcome: "skipped",
        reason: "already fulfilled",
      });
    }
    await expect(Restock.requestFromFactory(outage.id, delivery)).resolves.toMatchObject({ outcome: "requested" });
    await expect(Restock.requestFromFactory(outage.id, delivery)).resolves.toEqual({ outcome: "skipped", reason: "already requested" });
    expect(factory.calls.map((call) => call.MessageAttributeProductId)).toEqual([outage.sku]);
  });
});
