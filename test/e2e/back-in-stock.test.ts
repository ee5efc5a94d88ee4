import path from "node:path";
import { CreateTopicCommand, DeleteTopicCommand } from "@aws-sdk/client-sns";
import * as Restock from "@donut-states/core/restock";
import * as Subscription from "@donut-states/core/subscription";
import { seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { backInStockRule, backInStockTopic } from "@donut-states/core/topology";
import type { EventEnvelope } from "@donut-states/emulators/eventbridge";
import { type MailboxEntry, readMailbox } from "@donut-states/emulators/mail";
import { topicInbox, waitFor as waitUntil } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { runOps } from "@donut-states/ops/program";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The back-in-stock notifier through the offline stack: a product sells out and is restocked, and
 * the notifier publishes exactly one notice for it to the back-in-stock topic, with the SKU in its
 * message attribute, read here by an SQS queue subscribed to the topic (as the mail queue will
 * be). Then SNS refuses the notifier's publish: the event lands in the failed-events queue,
 * operations are e-mailed, and the ops CLI's replay reaches the topic once it is back.
 */
let database: TestDatabase;
let testStack: TestStack;
let stack: OfflineStack;
let localDir: string;

beforeAll(async () => {
  testStack = await startTestStack("back_in_stock", {
    OUTBOX_RELAY_INTERVAL_MS: 500,
    factoryOptions: { port: 0, delayMs: 50, failureRate: 0, timeoutRate: 0, callback: "once", hangMs: 2000 },
  });
  ({ stack, database, localDir } = testStack);
});

afterAll(() => testStack?.stop());

const waitFor = <T>(what: string, probe: () => Promise<T> | T) => waitUntil(what, probe, 120_000);

const post = (route: string, body: unknown) =>
  fetch(`${stack.apiUrl}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(
    async (response) => ({
      status: response.status,
      json: (await response.json()) as any,
    }),
  );

/** `npm run ops -- --json <args>` against this stack; its parsed output. */
async function ops<T = Record<string, any>>(...args: string[]): Promise<T> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOps(["--stack-file", path.join(localDir, "stack.json"), "--json", ...args], {
    io: { out: (text) => out.push(text), err: (text) => err.push(text) },
  });
  if (code !== 0) throw new Error(`ops ${args.join(" ")} exited ${code}: ${err.join("\n")}`);
  return JSON.parse(out.join("\n")) as T;
}

const mailsTo = async (email: string): Promise<MailboxEntry[]> =>
  (await readMailbox(stack.mailDir!)).filter((mail) => mail.to.includes(email));

const restockOf = async (sku: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku)))[0]?.id;

describe("back-in-stock notices", { timeout: 300_000 }, () => {
  it("publishes exactly one notice per restock to the topic, with the SKU attribute, and none for the product not restocked", async () => {
    await seedProducts(database.db, [
      { sku: "BIS-TWIST", stock: 1, restockQuantity: 12, name: "Injeolmi Twist" },
      { sku: "BIS-BUSAN", stock: 5, restockQuantity: 20 },
    ]);
    const inbox = await topicInbox(stack.aws, stack.backInStockTopicArn);
    const notified = new Map<string, EventEnvelope>();
    const unlisten = stack.onBusRuleDelivered((rule, event) => {
      if (rule === backInStockRule.name) notified.set((event.detail as { restockId: string }).restockId, event);
    });
    // BIS-TWIST sells out; the factory's callback waits until we let it go.
    stack.factory!.holdCallbacks();
    let restockId: string;
    try {
      expect((await post("/orders", { sku: "BIS-TWIST", quantity: 1 })).status).toBe(201);
      restockId = await waitFor("BIS-TWIST's restock request", () => restockOf("BIS-TWIST"));
      await waitFor(
        "the factory to accept the restock",
        async () =>
          (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.id, restockId)))[0].status ===
          "requested",
      );
      // Sold out and not back yet: nothing was published.
      expect(await inbox.receive()).toEqual([]);
    } finally {
      stack.factory!.releaseCallbacks();
    }

    // The callback restocks it: RestockFulfilled -> rule -> notifier -> topic.
    await waitFor("the notifier done with the restock's RestockFulfilled", () => notified.has(restockId));
    unlisten();
    const expected = Subscription.backInStockMessage({ sku: "BIS-TWIST", name: "Injeolmi Twist", stock: 12 });
    const published = await waitFor("the notice on the topic", () => inbox.receive().then((got) => (got.length ? got : undefined)));
    expect(published).toEqual([
      { subject: expected.subject, message: expected.message, attributes: { [backInStockTopic.skuAttribute]: "BIS-TWIST" } },
    ]);
    // The notifier was done before the notice was read: nothing more is on its way.
    expect(await inbox.receive()).toEqual([]);
    expect(notified.get(restockId)!.detail).toMatchObject({ restockId, sku: "BIS-TWIST", quantity: 12, stock: 12 });
  });

  it("keeps a RestockFulfilled the notifier could not publish in its failed-events queue, e-mails operations, and the replay reaches the topic", async () => {
    await seedProducts(database.db, [{ sku: "BIS-CRULLER", stock: 2, restockQuantity: 16 }]);
    // SNS refuses the notifier's publish from now on: the topic is gone.
    await stack.aws.sns.send(new DeleteTopicCommand({ TopicArn: stack.backInStockTopicArn }));
    const done = new Set<string>();
    const unlisten = stack.onBusRuleDelivered((rule, event) => {
      if (rule === backInStockRule.name) done.add((event.detail as { restockId: string }).restockId);
    });

    // BIS-CRULLER sells out and is restocked: the notifier fails on its RestockFulfilled, three times.
    expect((await post("/orders", { sku: "BIS-CRULLER", quantity: 2 })).status).toBe(201);
    const restockId = await waitFor("BIS-CRULLER's restock request", () => restockOf("BIS-CRULLER"));
    await waitFor("the notifier done with BIS-CRULLER's RestockFulfilled, Lambda's retries included", () => done.has(restockId));
    unlisten();

    // Lambda's invocation record waits in the queue, and operations are told.
    const { events } = await ops<{ events: Array<Record<string, any>> }>("back-in-stock", "peek");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      failedIn: "notifier",
      invocations: 3,
      event: { "detail-type": "RestockFulfilled", detail: { restockId, sku: "BIS-CRULLER" } },
    });
    const alarm = await waitFor("the failed-events ALARM mail to operations", () =>
      mailsTo("ops@test.local").then((mails) =>
        mails.find((mail) => mail.subject.startsWith("ALARM") && mail.subject.includes(backInStockRule.failedEvents.alarm.name)),
      ),
    );
    expect(alarm.text).toContain(backInStockRule.failedEvents.queueName);

    // The cause is fixed (the topic is back, with its subscriber), then the replay.
    const { TopicArn } = await stack.aws.sns.send(new CreateTopicCommand({ Name: backInStockTopic.name }));
    expect(TopicArn).toBe(stack.backInStockTopicArn);
    const inbox = await topicInbox(stack.aws, stack.backInStockTopicArn);
    expect(await ops("back-in-stock", "replay", "--yes")).toMatchObject({ replayed: 1, skipped: [] });

    const [notice] = await waitFor("the replayed notice on the topic", () => inbox.receive().then((got) => (got.length ? got : undefined)));
    expect(notice.message).toBe(Subscription.backInStockMessage({ sku: "BIS-CRULLER", name: "Donut BIS-CRULLER", stock: 16 }).message);
    expect((await ops<{ depth: { visible: number; inFlight: number } }>("back-in-stock", "peek")).depth).toMatchObject({
      visible: 0,
      inFlight: 0,
    });
  });
});
