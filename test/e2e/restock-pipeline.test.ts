import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import * as Outbox from "@donut-states/core/outbox";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { backInStockRule } from "@donut-states/core/topology";
import { logger } from "@donut-states/core/util/log";
import { readMailbox } from "@donut-states/emulators/mail";
import { waitFor as waitUntil } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The restock pipeline end to end, through the offline stack: real MariaDB, the EventBridge
 * emulator, fauxqs (SQS + DLQ + SNS), the SQS poller running the real consumer, the cron
 * relay and watchdog, the DLQ alarm, the SMTP sink and the legacy factory simulator.
 * Clocks are compressed (10 s visibility timeout, 4 s factory timeout, 2 s SLA). Tests wait
 * for states and events (generous deadlines), never for a delay to beat the work.
 */

let database: TestDatabase;
let testStack: TestStack;
let stack: OfflineStack;
const ALERT_EMAILS = ["ops@test.local", "oncall@test.local"];

beforeAll(async () => {
  testStack = await startTestStack("e2e", {
    ALERT_EMAILS,
    // The consumer's deadline (as a Lambda's timeout) is the visibility timeout: 10 s leaves room
    // for a slow database on a busy machine, so no delivery is given up while still working.
    QUEUE_VISIBILITY_TIMEOUT_SECONDS: 10,
    // The simulator shares the event loop with a 505-order burst: its 202 can take seconds.
    FACTORY_TIMEOUT_MS: 4000,
    RESTOCK_SLA_SECONDS: 2,
    WATCHDOG_INTERVAL_MS: 500,
    OUTBOX_RELAY_INTERVAL_MS: 500,
    ALARM_INTERVAL_MS: 300,
    factoryOptions: { port: 0, delayMs: 100, failureRate: 0, timeoutRate: 0, callback: "once", hangMs: 2000 },
  });
  ({ stack, database } = testStack);
});

afterAll(() => testStack?.stop());

/** The pipeline crosses several timers (visibility, cron, factory delay): allow 120 s by default (a busy machine). */
const waitFor = <T>(what: string, probe: () => Promise<T> | T, timeoutMs = 120_000) => waitUntil(what, probe, timeoutMs);

const order = (sku: string, quantity = 1) =>
  fetch(`${stack.apiUrl}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sku, quantity }),
  }).then(async (response) => ({ status: response.status, json: (await response.json()) as any }));

const stockOf = async (sku: string) =>
  (await database.db.select({ stock: Product.productTable.stock }).from(Product.productTable).where(eq(Product.productTable.sku, sku)))[0]
    .stock;
const requestsFor = (sku: string) => database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku));
const factoryCallsFor = (sku: string) =>
  stack.factory!.requests.filter((request) => (request.body as Record<string, string> | undefined)?.MessageAttributeProductId === sku);
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("restock pipeline", { timeout: 300_000 }, () => {
  it("turns a stock-out under 500 concurrent failed orders into exactly one factory request, then restocks", async () => {
    await seedProducts(database.db, [{ sku: "E2E-RUSH", stock: 5, restockQuantity: 40 }]);
    // The factory finishes production only once the burst is over, however long the burst takes.
    stack.factory!.holdCallbacks();
    let results: Array<Awaited<ReturnType<typeof order>>>;
    try {
      results = await Promise.all(Array.from({ length: 505 }, () => order("E2E-RUSH")));
    } finally {
      stack.factory!.releaseCallbacks();
    }
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 409)).toHaveLength(500);

    const [request] = await requestsFor("E2E-RUSH");
    await waitFor("the restock to be fulfilled", async () => (await requestsFor("E2E-RUSH"))[0].status === "fulfilled");
    expect(await stockOf("E2E-RUSH")).toBe(40);
    await settle(1000); // any duplicate delivery would have arrived by now
    expect(await requestsFor("E2E-RUSH")).toHaveLength(1);
    const calls = factoryCallsFor("E2E-RUSH");
    expect(calls).toHaveLength(1);
    expect(calls[0].body).toMatchObject({
      MessageGroupId: "stock-arrival-group",
      MessageAttributeProductId: "E2E-RUSH",
      MessageAttributeProductCnt: "40",
      MessageAttributeFactoryId: "FF-500293",
    });
    expect((calls[0].body as Record<string, string>).CallbackUrl).toContain(`/factory/callbacks/${request.id}?attempt=1&token=`);
    // Publishing is at least once: an after-commit publish abandoned at its budget (a busy machine)
    // may already have reached the bus, and the relay then sends the row again. Every copy names
    // the one request, and the consumer calls the factory once (asserted above).
    const events = stack.eventBridge.published.filter(
      (event) => event["detail-type"] === "OutOfStock" && (event.detail as { sku?: string }).sku === "E2E-RUSH",
    );
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const event of events) {
      expect(event).toMatchObject({ source: "donut-states.sales", "detail-type": "OutOfStock", detail: { restockId: request.id } });
    }

    const again = await order("E2E-RUSH", 3);
    expect(again.status).toBe(201);
    expect(again.json.stock).toBe(37);
  });

  it("logs every step of one restock with its restockId, so one filter follows it end to end", async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    // Read what the handlers print (structured JSON), as an operator's log query would.
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(...String(chunk).split("\n"));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    logger.setLogLevel("INFO");
    // The last step: the back-in-stock notifier, run by the rule on RestockFulfilled.
    const notified = new Set<string>();
    const unlisten = stack.onBusRuleDelivered((rule, event) => {
      if (rule === backInStockRule.name) notified.add((event.detail as { restockId: string }).restockId);
    });
    try {
      await seedProducts(database.db, [{ sku: "E2E-LOGS", stock: 1, restockQuantity: 9 }]);
      expect((await order("E2E-LOGS")).status).toBe(201);
      await waitFor("the restock to be fulfilled", async () => (await requestsFor("E2E-LOGS"))[0]?.status === "fulfilled");
      const [fulfilled] = await requestsFor("E2E-LOGS");
      await waitFor("the back-in-stock notifier done with it", () => notified.has(fulfilled.id));
    } finally {
      unlisten();
      logger.setLogLevel("ERROR");
      process.stdout.write = write;
    }
    const [request] = await requestsFor("E2E-LOGS");
    const trail = lines
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { message: string; restockId?: string; sku?: string; detailType?: string })
      .filter((entry) => entry.restockId === request.id);
    // Each lifecycle event is published after the commit that wrote it (by the relay if the bus
    // was slow), so its "event published" line is checked apart from the steps' order; so is the
    // notifier's, which RestockFulfilled's publishing starts.
    const apart = ["event published", "back-in-stock notice published"];
    expect(trail.filter((entry) => !apart.includes(entry.message)).map((entry) => entry.message)).toEqual([
      "restock request opened",
      "factory accepted restock request",
      "restock fulfilled",
    ]);
    // At least once, like the event it follows (an after-commit publish abandoned at its budget may be sent again by the relay).
    expect(trail.filter((entry) => entry.message === "back-in-stock notice published").length).toBeGreaterThanOrEqual(1);
    expect(trail.filter((entry) => entry.message === "event published").map((entry) => entry.detailType)).toEqual(
      expect.arrayContaining(["OutOfStock", "RestockRequested"]),
    );
    expect(trail.every((entry) => entry.sku === "E2E-LOGS")).toBe(true);
  });

  it("opens a new request for the next stock-out once the previous one is fulfilled", async () => {
    const [first] = await requestsFor("E2E-RUSH");
    expect(first.status).toBe("fulfilled");
    expect((await order("E2E-RUSH", 37)).status).toBe(201);
    const refused = await order("E2E-RUSH");
    expect(refused.status).toBe(409);
    expect(refused.json.error.restock.id).not.toBe(first.id);
    await waitFor(
      "the second restock",
      async () => (await requestsFor("E2E-RUSH")).every((r) => r.status === "fulfilled") && (await requestsFor("E2E-RUSH")).length === 2,
    );
    expect(await stockOf("E2E-RUSH")).toBe(40);
  });

  it("applies a duplicate factory callback once", async () => {
    stack.factory!.setOptions({ callback: "twice" });
    try {
      await seedProducts(database.db, [{ sku: "E2E-TWICE", stock: 0, restockQuantity: 10 }]);
      expect((await order("E2E-TWICE")).status).toBe(409);
      await waitFor("two callbacks answered 200", () => {
        const id = factoryCallsFor("E2E-TWICE")[0]?.id;
        return stack.factory!.callbacks.filter((callback) => callback.requestId === id && callback.status === 200).length === 2;
      });
      expect(await stockOf("E2E-TWICE")).toBe(10);
      expect((await requestsFor("E2E-TWICE"))[0].status).toBe("fulfilled");
    } finally {
      stack.factory!.setOptions({ callback: "once" });
    }
  });

  it("refuses forged, missing and mismatched callbacks and changes nothing", async () => {
    const [request] = await requestsFor("E2E-TWICE");
    const before = await stockOf("E2E-TWICE");
    const body = JSON.stringify({ MessageAttributeProductId: "E2E-TWICE", MessageAttributeProductCnt: "10" });
    const post = (query: string, payload = body) =>
      fetch(`${stack.apiUrl}/factory/callbacks/${request.id}${query}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: payload,
      });

    expect((await post("")).status).toBe(401);
    expect((await post("?token=forged-token-value")).status).toBe(400);
    expect((await post("?attempt=1&token=forged-token-value")).status).toBe(403);
    const otherIdToken = Restock.callbackToken("01ARZ3NDEKTSV4RRFFQ69G5FAV", process.env.FACTORY_CALLBACK_SECRET!, 1);
    expect((await post(`?attempt=1&token=${otherIdToken}`)).status).toBe(403);
    const valid = Restock.callbackToken(request.id, process.env.FACTORY_CALLBACK_SECRET!, 1);
    expect((await post(`?attempt=2&token=${valid}`)).status).toBe(403);
    const mismatch = await post(
      `?attempt=1&token=${valid}`,
      JSON.stringify({ MessageAttributeProductId: "E2E-TWICE", MessageAttributeProductCnt: "9999" }),
    );
    expect(mismatch.status).toBe(409);
    expect(((await mismatch.json()) as any).error.code).toBe("CALLBACK_MISMATCH");
    expect(await stockOf("E2E-TWICE")).toBe(before);

    // A request not yet fulfilled must not be fulfilled by a forged callback either.
    await seedProducts(database.db, [{ sku: "E2E-FORGE", stock: 0, restockQuantity: 10 }]);
    stack.factory!.setOptions({ callback: "never" });
    try {
      expect((await order("E2E-FORGE")).status).toBe(409);
      const [open] = await requestsFor("E2E-FORGE");
      const forged = await fetch(`${stack.apiUrl}/factory/callbacks/${open.id}?attempt=1&token=${valid}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ MessageAttributeProductId: "E2E-FORGE", MessageAttributeProductCnt: "10" }),
      });
      expect(forged.status).toBe(403);
      expect(await stockOf("E2E-FORGE")).toBe(0);
    } finally {
      stack.factory!.setOptions({ callback: "once" });
    }
  });

  it("loses nothing while the event bus is down: the relay publishes once it is back", async () => {
    await seedProducts(database.db, [{ sku: "E2E-BUS", stock: 0, restockQuantity: 12 }]);
    stack.eventBridge.setAvailable(false);
    let outboxId: string;
    try {
      const refused = await order("E2E-BUS");
      expect(refused.status).toBe(409);
      const rows = await database.db.select().from(Outbox.outboxTable);
      const row = rows.find((candidate) => JSON.parse(candidate.detail).sku === "E2E-BUS")!;
      outboxId = row.id;
      await waitFor("a failed publish attempt to be recorded", async () => {
        const [current] = await database.db.select().from(Outbox.outboxTable).where(eq(Outbox.outboxTable.id, outboxId));
        return current.attempts >= 1 && current.publishedAt === null && current.lastError !== null;
      });
      await settle(1000);
      expect(factoryCallsFor("E2E-BUS")).toHaveLength(0);
    } finally {
      stack.eventBridge.setAvailable(true);
    }
    await waitFor("the relay to publish", async () => {
      const [current] = await database.db.select().from(Outbox.outboxTable).where(eq(Outbox.outboxTable.id, outboxId));
      return current.publishedAt !== null;
    });
    await waitFor("the restock to be fulfilled", async () => (await requestsFor("E2E-BUS"))[0].status === "fulfilled");
    await settle(1000);
    expect(factoryCallsFor("E2E-BUS")).toHaveLength(1);
    expect(await stockOf("E2E-BUS")).toBe(12);
  });

  it("alerts operations when the factory never calls back, and a re-request recovers", async () => {
    stack.factory!.setOptions({ callback: "never" });
    await seedProducts(database.db, [{ sku: "E2E-SILENT", stock: 0, restockQuantity: 7 }]);
    expect((await order("E2E-SILENT")).status).toBe(409);
    const [request] = await requestsFor("E2E-SILENT");
    const mail = await waitFor("an overdue e-mail naming the request, to every operator", async () => {
      const mails = (await readMailbox(stack.mailDir!)).filter(
        (entry) => entry.subject.startsWith("Restock overdue") && entry.text.includes(request.id),
      );
      return mails.length >= ALERT_EMAILS.length ? mails : undefined;
    });
    expect(mail.flatMap((entry) => entry.to).sort()).toEqual([...ALERT_EMAILS].sort());

    stack.factory!.setOptions({ callback: "once" });
    await Restock.reRequest(request.id);
    await waitFor("the re-requested restock to be fulfilled", async () => (await requestsFor("E2E-SILENT"))[0].status === "fulfilled");
    expect(await stockOf("E2E-SILENT")).toBe(7);
    expect(factoryCallsFor("E2E-SILENT")).toHaveLength(2);
  });

  it("counts both production runs when a 202 came after the timeout and the factory was asked again", async () => {
    await seedProducts(database.db, [{ sku: "E2E-SLOW202", stock: 0, restockQuantity: 6 }]);
    const accepted = () => factoryCallsFor("E2E-SLOW202").filter((call) => call.outcome === "accepted");
    // The factory accepts each call but answers after FACTORY_TIMEOUT_MS (4 s): the caller cannot
    // tell, and the redelivery asks again. Production of every run finishes once we release it.
    stack.factory!.holdCallbacks();
    stack.factory!.setOptions({ answerDelayMs: 6000 });
    try {
      expect((await order("E2E-SLOW202")).status).toBe(409);
      await waitFor("a second factory call", () => accepted().length >= 2);
    } finally {
      stack.factory!.setOptions({ answerDelayMs: 0 });
      stack.factory!.releaseCallbacks();
    }
    await waitFor("every accepted run's callback answered 200", () => {
      const runs = accepted();
      const answered = stack.factory!.callbacks.filter(
        (callback) => callback.status === 200 && runs.some((run) => run.id === callback.requestId),
      );
      return answered.length === runs.length;
    });
    const runs = accepted();
    expect(new Set(runs.map((run) => (run.body as Record<string, string>).CallbackUrl)).size).toBe(runs.length);
    expect(await stockOf("E2E-SLOW202")).toBe(6 * runs.length);
    const [request] = await requestsFor("E2E-SLOW202");
    expect(request.status).toBe("fulfilled");
    const attempts = await database.db
      .select()
      .from(Restock.restockAttemptTable)
      .where(eq(Restock.restockAttemptTable.restockId, request.id));
    expect(attempts.filter((attempt) => attempt.creditedAt !== null)).toHaveLength(runs.length);
  });

  it("waits for the callback instead of asking again when the database failed right after the factory's 202", async () => {
    await seedProducts(database.db, [{ sku: "E2E-DBLOST", stock: 0, restockQuantity: 8 }]);
    const realUrl = process.env.DATABASE_URL!;
    const errors: string[] = [];
    // Powertools writes ERROR lines to stderr.
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      errors.push(
        ...String(chunk)
          .split("\n")
          .filter((line) => line.includes('"level":"ERROR"')),
      );
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    stack.factory!.holdCallbacks();
    // The database goes away the moment the factory accepts: the caller cannot record the 202.
    stack.factory!.setOptions({
      onEvent: (event) => {
        const body = event.type === "request" ? (event.request.body as Record<string, string>) : undefined;
        if (event.type === "request" && event.request.outcome === "accepted" && body?.MessageAttributeProductId === "E2E-DBLOST") {
          process.env.DATABASE_URL = "mysql://root@127.0.0.1:9/nowhere"; // nothing listens on port 9
        }
      },
    });
    try {
      expect((await order("E2E-DBLOST")).status).toBe(409);
      const [request] = await requestsFor("E2E-DBLOST");
      await waitFor("the caller to fail recording the factory's answer", () =>
        errors.some((line) => line.includes(request.id) && line.includes("could not record the factory failure")),
      );
      process.env.DATABASE_URL = realUrl;
      await waitFor("the redelivery to wait for the callback", async () => (await requestsFor("E2E-DBLOST"))[0].status === "requested");
      stack.factory!.releaseCallbacks();
      await waitFor("the restock to be fulfilled", async () => (await requestsFor("E2E-DBLOST"))[0].status === "fulfilled");
      await settle(1000); // a second call would have been made by now
      expect(factoryCallsFor("E2E-DBLOST")).toHaveLength(1);
      expect(await stockOf("E2E-DBLOST")).toBe(8);
      const attempts = await database.db
        .select()
        .from(Restock.restockAttemptTable)
        .where(eq(Restock.restockAttemptTable.restockId, request.id));
      expect(attempts).toMatchObject([{ attempt: 1, outcome: "accepted", creditedAt: expect.any(Date) }]);
    } finally {
      process.env.DATABASE_URL = realUrl;
      process.stderr.write = write;
      stack.factory!.releaseCallbacks();
      stack.factory!.setOptions({ onEvent: () => {} });
    }
  });

  it("moves an undeliverable request to the DLQ after maxReceiveCount and e-mails every operator", async () => {
    const maxReceiveCount = stack.config.QUEUE_MAX_RECEIVE_COUNT;
    stack.factory!.setOptions({ failureRate: 1 });
    try {
      await seedProducts(database.db, [{ sku: "E2E-BROKEN", stock: 0, restockQuantity: 5 }]);
      expect((await order("E2E-BROKEN")).status).toBe(409);
      await waitFor(
        "the message in the DLQ",
        async () => {
          const { Attributes } = await stack.aws.sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: stack.topology.dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
          );
          return Number(Attributes?.ApproximateNumberOfMessages) >= 1;
        },
        180_000,
      );
      // One call per delivery that got the request's lease; a delivery that found the lease still
      // held (a slow previous one) backs off without calling, so at most maxReceiveCount calls.
      const calls = factoryCallsFor("E2E-BROKEN");
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(calls.length).toBeLessThanOrEqual(maxReceiveCount);
      expect(calls.every((call) => call.status === 500)).toBe(true);
      const [request] = await requestsFor("E2E-BROKEN");
      await waitFor("the request to be marked failed", async () => (await requestsFor("E2E-BROKEN"))[0].status === "failed");
      // Every delivery that held the lease counts an attempt (one the simulator may not have logged
      // if our side gave up first), never more than the queue delivers.
      expect((await requestsFor("E2E-BROKEN"))[0].attempts).toBeGreaterThanOrEqual(calls.length);
      expect((await requestsFor("E2E-BROKEN"))[0].attempts).toBeLessThanOrEqual(maxReceiveCount);
      expect(request.lastError).toMatch(/500/);

      const alarms = await waitFor("one alarm e-mail per operator", async () => {
        const mails = (await readMailbox(stack.mailDir!)).filter((entry) => entry.subject.startsWith("ALARM:"));
        return mails.length >= ALERT_EMAILS.length ? mails : undefined;
      });
      expect(alarms.flatMap((entry) => entry.to).sort()).toEqual([...ALERT_EMAILS].sort());
      for (const mail of alarms) expect(mail.text).toContain(stack.topology.dlqName);
      await settle(1000);
      expect((await readMailbox(stack.mailDir!)).filter((entry) => entry.subject.startsWith("ALARM:"))).toHaveLength(ALERT_EMAILS.length);
      expect(await stockOf("E2E-BROKEN")).toBe(0);
    } finally {
      stack.factory!.setOptions({ failureRate: 0 });
    }
  });
});
