import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { TEST_FACTORY } from "@donut-states/core/testing";
import { eq } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainBodies, type OpsFixture, opsFixture } from "./testing";

let fixture: OpsFixture;
const ids: Record<string, string> = {};

beforeAll(async () => {
  fixture = await opsFixture({
    label: "ops_restock",
    eventBridge: true,
    products: [
      { sku: "CP-1", stock: 0 },
      { sku: "CP-2", stock: 0 },
      { sku: "CP-3", stock: 30 },
    ],
  });
  const products = await fixture.database.db
    .select({ id: Product.productTable.id, sku: Product.productTable.sku })
    .from(Product.productTable);
  const seed = async (sku: string, status: Restock.RestockStatus, minutesAgo: number) => {
    const product = products.find((row) => row.sku === sku)!;
    const id = ulid(Date.now() - minutesAgo * 60_000);
    await fixture.database.db.insert(Restock.restockRequestTable).values({
      id,
      productId: product.id,
      sku,
      factoryId: TEST_FACTORY.id,
      quantity: 30,
      status,
      attempts: 5,
      lastError: status === "failed" ? "Factory API answered 500" : null,
      createdAt: new Date(Date.now() - minutesAgo * 60_000),
    });
    return id;
  };
  ids.failed = await seed("CP-1", "failed", 3);
  ids.requested = await seed("CP-2", "requested", 2);
  ids.fulfilled = await seed("CP-3", "fulfilled", 1);
});
afterAll(async () => {
  await fixture?.close();
});

const statusOf = async (id: string) =>
  (
    await fixture.database.db
      .select({ status: Restock.restockRequestTable.status })
      .from(Restock.restockRequestTable)
      .where(eq(Restock.restockRequestTable.id, id))
  )[0]?.status;
const outboxRowsOf = async (id: string) =>
  (await fixture.database.db.select().from(Outbox.outboxTable)).filter(
    (row) => (JSON.parse(row.detail) as { restockId: string }).restockId === id,
  );

describe("ops restock list", () => {
  it("lists requests newest first, and filters by status", async () => {
    const all = await fixture.ops("restock", "list");
    expect(all.code, all.err).toBe(0);
    const order = [ids.fulfilled, ids.requested, ids.failed].map((id) => all.out.indexOf(id));
    expect(order.every((index) => index > 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(all.out).toMatch(/failed\s+30\s+5\s+3m\s+\S+\s+Factory API answered 500/);

    const failed = await fixture.ops("--json", "restock", "list", "--status", "failed");
    expect(failed.code, failed.err).toBe(0);
    const { restockRequests } = failed.json<{ restockRequests: Array<{ id: string; status: string; sku: string }> }>();
    expect(restockRequests.map(({ id, status, sku }) => ({ id, status, sku }))).toEqual([
      { id: ids.failed, status: "failed", sku: "CP-1" },
    ]);
  });

  it("refuses an unknown status with exit 2", async () => {
    const run = await fixture.ops("restock", "list", "--status", "lost");
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/Unknown status "lost"; use one of pending, requested, fulfilled, failed, cancelled/);
  });
});

describe("ops restock re-request", () => {
  it("moves a failed request back to pending, writes an OutOfStock outbox row and publishes it to the bus", async () => {
    const run = await fixture.ops("--json", "restock", "re-request", ids.failed);
    expect(run.code, run.err).toBe(0);
    const result = run.json<{ id: string; previousStatus: string; status: string; outboxId: string; published: boolean }>();
    expect(result).toMatchObject({ id: ids.failed, previousStatus: "failed", status: "pending", published: true });
    expect(await statusOf(ids.failed)).toBe("pending");

    const rows = await outboxRowsOf(ids.failed);
    expect(rows).toHaveLength(1);
    expect(rows[0].id).toBe(result.outboxId);
    expect(rows[0].detailType).toBe("OutOfStock");
    expect(rows[0].publishedAt).not.toBeNull();

    // The event went bus -> rule -> factory queue, as in the offline stack.
    await fixture.eventBridge!.idle();
    const bodies = (await drainBodies(fixture.sqs!, fixture.topology!.factoryQueueUrl)).map((body) => JSON.parse(body));
    expect(bodies.map((body) => body.detail.restockId)).toEqual([ids.failed]);
  });

  it("leaves the event to the outbox relay when the bus is down, and says so", async () => {
    fixture.eventBridge!.setAvailable(false);
    try {
      const run = await fixture.ops("restock", "re-request", ids.requested);
      expect(run.code, run.err).toBe(0);
      expect(run.out).toMatch(new RegExp(`Restock request ${ids.requested} \\(CP-2\\): requested -> pending`));
      expect(run.out).toMatch(/Not published yet \(the event bus did not answer\); the outbox relay will publish it within \d+ s/);
    } finally {
      fixture.eventBridge!.setAvailable(true);
    }
    expect(await statusOf(ids.requested)).toBe("pending");
    const rows = await outboxRowsOf(ids.requested);
    expect(rows).toHaveLength(1);
    expect(rows[0].publishedAt).toBeNull();
    expect(rows[0].attempts).toBeGreaterThan(0);

    const pending = await fixture.ops("--json", "outbox", "pending");
    expect(pending.code, pending.err).toBe(0);
    expect(pending.json<{ pending: Array<{ id: string; restockId: string; lastError: string }> }>().pending).toEqual([
      expect.objectContaining({ id: rows[0].id, restockId: ids.requested, sku: "CP-2", lastError: expect.any(String) }),
    ]);
    const human = await fixture.ops("outbox", "pending");
    expect(human.out).toMatch(/1 unpublished; the outbox relay publishes them/);
  });

  it("refuses a request that is not pending, requested or failed, an unknown id and a malformed id", async () => {
    const fulfilled = await fixture.ops("restock", "re-request", ids.fulfilled);
    expect(fulfilled.code).toBe(1);
    expect(fulfilled.err).toMatch(/is fulfilled; only pending, requested or failed requests can be re-requested/);
    expect(await statusOf(ids.fulfilled)).toBe("fulfilled");
    expect(await outboxRowsOf(ids.fulfilled)).toHaveLength(0);

    const unknown = await fixture.ops("--json", "restock", "re-request", ulid());
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.err)).toMatchObject({ error: { code: "RESTOCK_NOT_FOUND" } });

    const malformed = await fixture.ops("restock", "re-request", "42");
    expect(malformed.code).toBe(2);
    expect(malformed.err).toMatch(/26-character ULID/);
  });
});
