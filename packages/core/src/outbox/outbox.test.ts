/**
 * Outbox.publishPending against MariaDB alone. The event bus is a plain HTTP server in this file
 * speaking PutEvents' wire format to the real EventBridge client: it can drop the connection
 * (the bus unreachable) or refuse some entries of a call (FailedEntryCount > 0), and every
 * event must still be published exactly once when it answers again.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transaction } from "../drizzle";
import { Events } from "../event";
import { createTestDatabase, type TestDatabase, useLocalAwsCredentials } from "../testing";
import * as Outbox from "./index";

type Mode = "unreachable" | "refuse-some" | "accept";

/** A stand-in for the EventBridge endpoint: what it accepted, and how it answers next. */
const bus = {
  mode: "unreachable" as Mode,
  /** restockIds whose entries are refused in "refuse-some" mode. */
  refused: new Set<string>(),
  accepted: [] as string[],
};
const server = http.createServer((request, response) => {
  if (bus.mode === "unreachable") return request.socket.destroy();
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const { Entries } = JSON.parse(body) as { Entries: Array<{ Detail: string }> };
    const results = Entries.map((entry, index) => {
      const { restockId } = JSON.parse(entry.Detail) as { restockId: string };
      if (bus.mode === "refuse-some" && bus.refused.has(restockId)) return { ErrorCode: "InternalFailure", ErrorMessage: "try again" };
      bus.accepted.push(restockId);
      return { EventId: `event-${bus.accepted.length}-${index}` };
    });
    const failed = results.filter((result) => "ErrorCode" in result).length;
    response
      .writeHead(200, { "content-type": "application/x-amz-json-1.1" })
      .end(JSON.stringify({ FailedEntryCount: failed, Entries: results }));
  });
});

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase("core_outbox");
  useLocalAwsCredentials();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.env.EVENT_BUS_NAME = "default";
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await database?.drop();
});

/** Commit `count` OutOfStock events (their after-commit publish meets the bus as it is now). */
async function enqueue(count: number): Promise<string[]> {
  const restockIds = Array.from({ length: count }, (_, index) => `R${String(index).padStart(25, "0")}`);
  for (const restockId of restockIds) {
    await transaction((tx) =>
      Outbox.enqueue(tx, Events.OutOfStock, {
        restockId,
        sku: "CO-000001",
        quantity: 10,
        factoryId: "FF-1",
        occurredAt: new Date().toISOString(),
      }),
    );
  }
  return restockIds;
}

const rows = async (ids?: string[]) => {
  const all = await database.db
    .select()
    .from(Outbox.outboxTable)
    .where(ids ? inArray(Outbox.outboxTable.id, ids) : undefined);
  return all.map((row) => ({ ...row, restockId: (JSON.parse(row.detail) as { restockId: string }).restockId }));
};

describe("Outbox.publishPending", () => {
  it("keeps what the bus did not take, and publishes each event once when it answers again", async () => {
    bus.mode = "unreachable";
    const restockIds = await enqueue(12);
    expect((await rows()).filter((row) => row.publishedAt === null)).toHaveLength(12);

    // Unreachable: the first call fails, the run stops there, nothing is marked published.
    const down = await Outbox.publishPending();
    expect(down).toMatchObject({ published: 0, failed: 10 });
    const afterDown = await rows();
    expect(afterDown.every((row) => row.publishedAt === null)).toBe(true);
    expect(afterDown.filter((row) => row.attempts === 2)).toHaveLength(10);
    expect(afterDown.filter((row) => row.attempts === 1)).toHaveLength(2);

    // Partial failure: the bus refuses every other entry; the others are published and marked.
    bus.mode = "refuse-some";
    for (const restockId of restockIds.filter((_, index) => index % 2 === 1)) bus.refused.add(restockId);
    const partial = await Outbox.publishPending();
    expect(partial).toMatchObject({ published: 6, failed: 6 });
    expect(partial.errors).toHaveLength(6);
    for (const row of await rows()) {
      if (bus.refused.has(row.restockId)) expect(row).toMatchObject({ publishedAt: null, lastError: "InternalFailure: try again" });
      else expect(row.publishedAt).toBeInstanceOf(Date);
    }

    // Healthy again: exactly the refused ones go out; nothing is sent twice.
    bus.mode = "accept";
    expect(await Outbox.publishPending()).toMatchObject({ published: 6, failed: 0 });
    expect(await Outbox.publishPending()).toMatchObject({ published: 0, failed: 0 });
    expect((await rows()).every((row) => row.publishedAt !== null && row.lastError === null)).toBe(true);
    expect([...bus.accepted].sort()).toEqual([...restockIds].sort());
  });
});
