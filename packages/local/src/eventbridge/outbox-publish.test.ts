import * as Outbox from "@donut-states/core/outbox";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { routes } from "@donut-states/core/topology";
import { type EventBridgeEmulator, startEventBridge } from "@donut-states/emulators/eventbridge";
import { waitFor } from "@donut-states/emulators/testing";
import { asc, eq, inArray, isNotNull } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../gateway";

/**
 * A bus that accepts the connection and never answers, through the real EventBridgeClient: a
 * committed order must still be answered, and its event must reach the bus exactly once later.
 */
const REGION = "ap-northeast-2";
/** API Gateway and the sales function give up after 10 s: the answer must come well before. */
const CLIENT_PATIENCE_MS = 9_000;

let database: TestDatabase;
let gateway: Gateway;
let bus: EventBridgeEmulator;

beforeAll(async () => {
  database = await createTestDatabase("publish");
  bus = await startEventBridge({ region: REGION, accountId: "000000000000", rules: [], log: () => {} });
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
    EVENT_BUS_NAME: "default",
  });
  gateway = await startGateway({ routes, port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await bus?.close();
  await database?.drop();
});

const eventsFor = (restockId: string) => bus.published.filter((event) => (event.detail as { restockId?: string }).restockId === restockId);

describe("after-commit publish", () => {
  it("answers 201 for an order that opens a restock while the bus is silent, and the relay publishes its event once", async () => {
    await seedProducts(database.db, [{ sku: "SILENT-1", stock: 1, reorderPoint: 0 }]);
    bus.setSilent(true);
    let response: Response;
    try {
      response = await fetch(`${gateway.url}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sku: "SILENT-1", quantity: 1 }),
        signal: AbortSignal.timeout(CLIENT_PATIENCE_MS),
      });
    } finally {
      bus.setSilent(false);
    }
    expect(response.status).toBe(201);
    expect(bus.silenced).toBeGreaterThanOrEqual(1);

    const [request] = await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, "SILENT-1"));
    const rows = (await database.db.select().from(Outbox.outboxTable)).filter((row) => JSON.parse(row.detail).restockId === request.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].publishedAt).toBeNull();
    expect(rows[0].lastError).toMatch(/abort/i);
    expect(eventsFor(request.id)).toHaveLength(0);

    // The bus is back: the relay's run publishes it, and a second run has nothing left to send.
    expect(await Outbox.publishPending()).toMatchObject({ published: 1, failed: 0 });
    expect(await Outbox.publishPending()).toMatchObject({ published: 0, failed: 0 });
    expect(eventsFor(request.id)).toHaveLength(1);
  });
});

describe("outbox relay", () => {
  it("commits each PutEvents chunk: rows sent before a call that hangs stay published", async () => {
    const base = Date.now() - 60_000;
    const ids = Array.from({ length: 25 }, () => ulid());
    await database.db.insert(Outbox.outboxTable).values(
      ids.map((id, index) => ({
        id,
        source: "donut-states.sales",
        detailType: "OutOfStock",
        // The second chunk of 10 carries a marker the silent bus picks.
        detail: JSON.stringify({ restockId: `relay-${index}`, marker: index >= 10 && index < 20 ? "HANG-ME" : "ok" }),
        createdAt: new Date(base + index),
      })),
    );
    bus.setSilent((body) => JSON.stringify(body).includes("HANG-ME"));
    const silencedBefore = bus.silenced;
    const run = Outbox.publishPending({ limit: 500 });
    try {
      await waitFor("the relay's second call to reach the silent bus", () => bus.silenced > silencedBefore, 30_000);
      // While that call hangs, the first chunk is already committed as published.
      const published = await database.db
        .select({ id: Outbox.outboxTable.id })
        .from(Outbox.outboxTable)
        .where(inArray(Outbox.outboxTable.id, ids))
        .orderBy(asc(Outbox.outboxTable.createdAt));
      const done = await database.db
        .select({ id: Outbox.outboxTable.id })
        .from(Outbox.outboxTable)
        .where(isNotNull(Outbox.outboxTable.publishedAt));
      const doneIds = new Set(done.map((row) => row.id));
      expect(published.filter((row) => doneIds.has(row.id)).map((row) => row.id)).toEqual(ids.slice(0, 10));

      // The hung call fails within the client's timeouts; the run stops there and reports it.
      expect(await run).toMatchObject({ published: 10, failed: 10 });
    } finally {
      bus.setSilent(false);
    }
    expect(await Outbox.publishPending({ limit: 500 })).toMatchObject({ published: 15, failed: 0 });
    for (const index of ids.keys()) expect(eventsFor(`relay-${index}`), `event ${index}`).toHaveLength(1);
  });
});
