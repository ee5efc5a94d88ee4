import { type BusEventDefinition, type EventName, Events, parseBusEvent } from "@donut-states/core/event";
import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { DetailType, EVENT_SOURCE } from "@donut-states/core/topology";
import type { EventEnvelope } from "@donut-states/emulators/eventbridge";
import { waitFor as waitUntil } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The restock lifecycle on the bus, through the offline stack: a test rule (as another team's
 * consumer would add one) captures every restock event, and each restock's events arrive in
 * the order its states changed, each valid against its schema, each once.
 */

let database: TestDatabase;
let testStack: TestStack;
let stack: OfflineStack;
const captured: EventEnvelope[] = [];

beforeAll(async () => {
  testStack = await startTestStack("events", {
    QUEUE_VISIBILITY_TIMEOUT_SECONDS: 4,
    FACTORY_TIMEOUT_MS: 3000,
    RESTOCK_SLA_SECONDS: 2,
    WATCHDOG_INTERVAL_MS: 500,
    OUTBOX_RELAY_INTERVAL_MS: 500,
    ALARM_INTERVAL_MS: 300,
    factoryOptions: { port: 0, delayMs: 50, failureRate: 0, timeoutRate: 0, callback: "once", hangMs: 2000 },
  });
  ({ stack, database } = testStack);
  stack.eventBridge.addRule({
    name: "test-restock-lifecycle",
    pattern: { source: [EVENT_SOURCE], "detail-type": Object.values(DetailType) },
    targets: [{ id: "capture", deliver: async (event) => void captured.push(event) }],
  });
});

afterAll(() => testStack?.stop());

const waitFor = <T>(what: string, probe: () => Promise<T> | T, timeoutMs = 120_000) => waitUntil(what, probe, timeoutMs);
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const order = (sku: string, quantity = 1) =>
  fetch(`${stack.apiUrl}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sku, quantity }),
  }).then((response) => response.status);

const requestFor = async (sku: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku)))[0];
const stockOf = async (sku: string) =>
  (await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0].stock;

/** The captured events of one restock request, in arrival order, each checked against its schema. */
function lifecycleOf(restockId: string): Array<{ type: EventName; detail: Record<string, unknown> }> {
  return captured
    .filter((event) => (event.detail as { restockId?: string }).restockId === restockId)
    .map((event) => {
      const type = event["detail-type"] as EventName;
      expect(Object.keys(Events)).toContain(type);
      const definition: BusEventDefinition = Events[type];
      return { type, detail: parseBusEvent(definition, event).detail as Record<string, unknown> };
    });
}
const typesOf = (restockId: string) => lifecycleOf(restockId).map((event) => event.type);

describe("restock lifecycle events", { timeout: 300_000 }, () => {
  it("puts OutOfStock, RestockRequested and RestockFulfilled of one restock on the bus, in order", async () => {
    await seedProducts(database.db, [{ sku: "EV-HAPPY", stock: 2, restockQuantity: 15 }]);
    // Production finishes only once the factory's 202 is recorded: the order is then causal.
    stack.factory!.holdCallbacks();
    try {
      expect(await order("EV-HAPPY", 2)).toBe(201);
      const { id } = await requestFor("EV-HAPPY");
      await waitFor("RestockRequested on the bus", () => typesOf(id).includes("RestockRequested"));
    } finally {
      stack.factory!.releaseCallbacks();
    }
    const { id } = await requestFor("EV-HAPPY");
    await waitFor("RestockFulfilled on the bus", () => typesOf(id).includes("RestockFulfilled"));
    await settle(1000); // a duplicate would have arrived by now
    const events = lifecycleOf(id);
    expect(events.map((event) => event.type)).toEqual(["OutOfStock", "RestockRequested", "RestockFulfilled"]);
    expect(events[1].detail).toMatchObject({ restockId: id, sku: "EV-HAPPY", quantity: 15, factoryId: "FF-500293", attempt: 1 });
    expect(events[2].detail).toMatchObject({ restockId: id, sku: "EV-HAPPY", quantity: 15, stock: 15 });
    expect(await stockOf("EV-HAPPY")).toBe(15);
    // Every one of them went through the outbox, and none is left unpublished.
    const rows = (await database.db.select().from(Outbox.outboxTable)).filter((row) => JSON.parse(row.detail).restockId === id);
    expect(rows.map((row) => row.detailType).sort()).toEqual(["OutOfStock", "RestockFulfilled", "RestockRequested"]);
    expect(rows.every((row) => row.publishedAt !== null)).toBe(true);
  });

  it("announces RestockFailed once when the request reaches the DLQ, however often it is marked failed", async () => {
    stack.factory!.setOptions({ failureRate: 1 });
    try {
      await seedProducts(database.db, [{ sku: "EV-FAIL", stock: 0, restockQuantity: 4 }]);
      expect(await order("EV-FAIL")).toBe(409);
      const { id } = await requestFor("EV-FAIL");
      await waitFor("RestockFailed on the bus", () => typesOf(id).includes("RestockFailed"));
      // Whatever else learns of the failure (a DLQ reader) marks it again: nothing changes.
      expect(await Restock.markFailed(id, { lastError: "seen in the DLQ" })).toMatchObject({
        restockId: id,
        status: "failed",
        marked: false,
      });
      await settle(1000);
      const events = lifecycleOf(id);
      expect(events.map((event) => event.type)).toEqual(["OutOfStock", "RestockFailed"]);
      expect(events[1].detail).toMatchObject({
        restockId: id,
        sku: "EV-FAIL",
        quantity: 4,
        attempts: 5,
        lastError: expect.stringContaining("500"),
      });
      expect((await requestFor("EV-FAIL")).lastError).toBe("seen in the DLQ");
    } finally {
      stack.factory!.setOptions({ failureRate: 0 });
    }
  });

  it("announces RestockOverdue once per overdue spell when the factory never calls back", async () => {
    stack.factory!.setOptions({ callback: "never" });
    try {
      await seedProducts(database.db, [{ sku: "EV-LATE", stock: 0, restockQuantity: 3 }]);
      expect(await order("EV-LATE")).toBe(409);
      const { id } = await requestFor("EV-LATE");
      await waitFor("RestockOverdue on the bus", () => typesOf(id).includes("RestockOverdue"));
      // The watchdog runs every 500 ms: several more runs see it still overdue.
      await settle(3000);
      const events = lifecycleOf(id);
      expect(events.map((event) => event.type)).toEqual(["OutOfStock", "RestockRequested", "RestockOverdue"]);
      const request = await requestFor("EV-LATE");
      expect(events[2].detail).toMatchObject({
        restockId: id,
        sku: "EV-LATE",
        quantity: 3,
        requestedAt: request.requestedAt!.toISOString(),
      });
    } finally {
      stack.factory!.setOptions({ callback: "once" });
    }
  });

  it("leaves a request the factory took alone when something marks it failed", async () => {
    await seedProducts(database.db, [{ sku: "EV-TAKEN", stock: 0, restockQuantity: 2 }]);
    stack.factory!.holdCallbacks();
    try {
      expect(await order("EV-TAKEN")).toBe(409);
      const { id } = await requestFor("EV-TAKEN");
      await waitFor("the factory to accept", async () => (await requestFor("EV-TAKEN")).status === "requested");
      expect(await Restock.markFailed(id)).toMatchObject({ status: "requested", marked: false });
      expect(typesOf(id)).not.toContain("RestockFailed");
    } finally {
      stack.factory!.releaseCallbacks();
    }
    await expect(Restock.markFailed("01ARZ3NDEKTSV4RRFFQ69G5FAV")).rejects.toMatchObject({ status: 404, code: "RESTOCK_NOT_FOUND" });
  });
});
