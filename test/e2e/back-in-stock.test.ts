import path from "node:path";
import { CreateTopicCommand, DeleteTopicCommand } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import * as Restock from "@donut-states/core/restock";
import * as Subscription from "@donut-states/core/subscription";
import { seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { backInStockRule, backInStockTopic } from "@donut-states/core/topology";
import { CONFIRMATION_SUBJECT } from "@donut-states/emulators/aws";
import type { EventEnvelope } from "@donut-states/emulators/eventbridge";
import { type MailboxEntry, readMailbox } from "@donut-states/emulators/mail";
import { waitFor as waitUntil } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { runOps } from "@donut-states/ops/program";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Back-in-stock notifications through the offline stack: two addresses subscribe to two
 * products; one product sells out and is restocked; exactly one back-in-stock mail reaches the
 * address waiting for it, and none the other. Then SNS refuses the notifier's publish: the event
 * lands in the failed-events queue, operations are e-mailed, and the ops CLI's replay reaches
 * the subscriber once SNS is back.
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

/** Notifications in an address's queue, visible or in flight: 0 means nothing more is on its way. */
async function queuedFor(email: string): Promise<number> {
  const followed = stack.backInStockMail.subscriptions().find((subscription) => subscription.email === email);
  if (!followed) throw new Error(`${email} has no subscription`);
  const { Attributes = {} } = await stack.aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: followed.queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

describe("back-in-stock notifications", { timeout: 300_000 }, () => {
  it("mails exactly one back-in-stock notice to the address waiting for the restocked product, and none to the other", async () => {
    await seedProducts(database.db, [
      { sku: "BIS-TWIST", stock: 1, restockQuantity: 12, name: "Injeolmi Twist" },
      { sku: "BIS-BUSAN", stock: 5, restockQuantity: 20 },
    ]);
    const alice = "alice@shop.test";
    const bob = "bob@shop.test";

    // Two addresses, two products; asking twice changes nothing.
    for (const [sku, email] of [
      ["BIS-TWIST", alice],
      ["BIS-BUSAN", bob],
      ["BIS-TWIST", alice],
    ] as const) {
      expect(await post(`/products/${sku}/subscriptions`, { email })).toEqual({
        status: 202,
        json: { subscription: { sku, email, status: "pending-confirmation" } },
      });
    }
    // The confirmation step reaches the mail log (offline it is confirmed at once): each address
    // receives from then on.
    for (const email of [alice, bob]) {
      const [confirmation] = await waitFor(`the confirmation mail to ${email}`, () =>
        mailsTo(email).then((mails) => (mails.length > 0 ? mails : undefined)),
      );
      expect(confirmation.subject).toBe(CONFIRMATION_SUBJECT);
      expect(confirmation.text).toContain(stack.backInStockTopicArn);
    }
    expect(
      stack.backInStockMail
        .subscriptions()
        .map(({ email, filterPolicy }) => [email, filterPolicy])
        .sort(),
    ).toEqual([
      [alice, '{"sku":["BIS-TWIST"]}'],
      [bob, '{"sku":["BIS-BUSAN"]}'],
    ]);

    // BIS-TWIST sells out; the factory's callback waits until we let it go.
    const notified = new Map<string, EventEnvelope>();
    const unlisten = stack.onBusRuleDelivered((rule, event) => {
      if (rule === backInStockRule.name) notified.set((event.detail as { restockId: string }).restockId, event);
    });
    stack.factory!.holdCallbacks();
    let restockId: string;
    try {
      expect((await post("/orders", { sku: "BIS-TWIST", quantity: 1 })).status).toBe(201);
      ({ id: restockId } = (
        await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, "BIS-TWIST"))
      )[0]);
      await waitFor(
        "the factory to accept the restock",
        async () =>
          (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.id, restockId)))[0].status ===
          "requested",
      );
      // Sold out and not back yet: nobody has been told anything but the confirmation.
      expect((await mailsTo(alice)).map((mail) => mail.subject)).toEqual([CONFIRMATION_SUBJECT]);
    } finally {
      stack.factory!.releaseCallbacks();
    }

    // The callback restocks it: RestockFulfilled -> rule -> notifier -> topic -> alice only.
    const notice = await waitFor("the back-in-stock mail to alice", () =>
      mailsTo(alice).then((mails) => mails.find((mail) => mail.subject !== CONFIRMATION_SUBJECT)),
    );
    await waitFor("the notifier done with the restock's RestockFulfilled", () => notified.has(restockId));
    unlisten();
    // The notifier's publish is over, and SNS's filter policies were applied while it published:
    // bob's queue got nothing, alice's holds nothing more.
    expect(await queuedFor(bob)).toBe(0);
    await waitFor("alice's queue delivered", async () => (await queuedFor(alice)) === 0);

    const expected = Subscription.backInStockMessage({ sku: "BIS-TWIST", name: "Injeolmi Twist", stock: 12 });
    expect(notice.subject).toBe(expected.subject);
    expect(notice.text).toContain(expected.message);
    expect(notice.from).toContain("Donut-States");
    expect(notice.text).toContain("unsubscribe");
    expect((await mailsTo(alice)).map((mail) => mail.subject).sort()).toEqual([CONFIRMATION_SUBJECT, "Back in stock: BIS-TWIST"].sort());
    expect((await mailsTo(bob)).map((mail) => mail.subject)).toEqual([CONFIRMATION_SUBJECT]);
    expect(notified.get(restockId)!.detail).toMatchObject({ restockId, sku: "BIS-TWIST", quantity: 12, stock: 12 });
  });

  it("keeps a RestockFulfilled the notifier could not publish in its failed-events queue, e-mails operations, and the replay reaches the subscriber", async () => {
    await seedProducts(database.db, [{ sku: "BIS-CRULLER", stock: 2, restockQuantity: 16 }]);
    const carol = "carol@shop.test";
    const restockOf = async (sku: string) =>
      (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku)))[0]?.id;
    // SNS refuses the notifier's publish from now on: the topic is gone (its subscriptions with it).
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

    // The cause is fixed (the topic is back), carol subscribes, then the replay.
    const { TopicArn } = await stack.aws.sns.send(new CreateTopicCommand({ Name: backInStockTopic.name }));
    expect(TopicArn).toBe(stack.backInStockTopicArn);
    expect((await post("/products/BIS-CRULLER/subscriptions", { email: carol })).status).toBe(202);
    await waitFor("carol's subscription followed", () =>
      stack.backInStockMail.subscriptions().some((subscription) => subscription.email === carol),
    );
    expect(await ops("back-in-stock", "replay", "--yes")).toMatchObject({ replayed: 1, skipped: [] });

    const notice = await waitFor("the back-in-stock mail to carol", () =>
      mailsTo(carol).then((mails) => mails.find((mail) => mail.subject === "Back in stock: BIS-CRULLER")),
    );
    expect(notice.text).toContain(Subscription.backInStockMessage({ sku: "BIS-CRULLER", name: "Donut BIS-CRULLER", stock: 16 }).message);
    expect((await ops<{ depth: { visible: number; inFlight: number } }>("back-in-stock", "peek")).depth).toMatchObject({
      visible: 0,
      inFlight: 0,
    });
  });
});
