import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import * as Subscription from "@donut-states/core/subscription";
import { seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { waitFor as waitUntil } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A back-in-stock subscription's links through the offline stack, as a customer meets them: the
 * request enqueues the confirmation mail (its id alone) on the mail queue; the confirmation
 * link, made for that id as the mailer makes it, confirms against the local API; the unsubscribe
 * link shows a page whose button posts the RFC 8058 one-click form back; the database follows
 * each step. (Sending the mail itself is the mailer's, which reads the same queue.)
 */
let database: TestDatabase;
let testStack: TestStack;
let stack: OfflineStack;

beforeAll(async () => {
  testStack = await startTestStack("subscription_links");
  ({ stack, database } = testStack);
  await seedProducts(database.db, [{ sku: "LNK-TWIST", stock: 0, name: "Injeolmi Twist" }]);
});

afterAll(() => testStack?.stop());

const waitFor = <T>(what: string, probe: () => Promise<T> | T) => waitUntil(what, probe, 60_000);

const rowsOf = (email: string) =>
  database.db.select().from(Subscription.subscriptionTable).where(eq(Subscription.subscriptionTable.email, email));
const rowOf = async (id: string) =>
  (await database.db.select().from(Subscription.subscriptionTable).where(eq(Subscription.subscriptionTable.id, id)))[0];

/** The mail queue's next messages, parsed (received, left to reappear: nothing else reads it here). */
async function mailQueue(): Promise<unknown[]> {
  const { Messages = [] } = await stack.aws.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.topology.mailQueueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 300,
    }),
  );
  return Messages.map((message) => JSON.parse(message.Body!));
}

describe("a subscription's links, offline", { timeout: 180_000 }, () => {
  it("subscribe, the confirmation mail's message on the queue, confirm, the unsubscribe page, one-click unsubscribe", async () => {
    const email = "links@example.com";
    const subscribed = await fetch(`${stack.apiUrl}/products/lnk-twist/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    expect(subscribed.status).toBe(202);
    expect(await subscribed.json()).toEqual({ subscription: { sku: "LNK-TWIST", email, status: "pending-confirmation" } });
    const [row] = await rowsOf(email);
    expect(row).toMatchObject({ status: "pending", email });

    // The mail queue carries the subscription's id, never the address.
    const [message] = await waitFor("the confirmation mail's message", () => mailQueue().then((got) => (got.length ? got : undefined)));
    expect(message).toEqual({ kind: "confirmation", subscriptionId: row.id });
    expect(JSON.stringify(message)).not.toContain(email);

    // The mail the mailer makes for that message: its links point at this stack's API.
    const mail = await Subscription.confirmationMailFor(row.id);
    expect(mail?.to).toBe(email);
    const confirmLink = /(http\S+\/subscriptions\/confirm\?token=\S+)/.exec(mail!.text)![1];
    const unsubscribeLink = /^<(.+)>$/.exec(mail!.headers["List-Unsubscribe"])![1];
    expect(confirmLink.startsWith(`${stack.apiUrl}/`)).toBe(true);
    expect(unsubscribeLink.startsWith(`${stack.apiUrl}/`)).toBe(true);

    const confirmed = await fetch(confirmLink);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain("Injeolmi Twist (LNK-TWIST)");
    expect(await rowOf(row.id)).toMatchObject({ status: "confirmed", email });
    expect((await fetch(confirmLink)).status).toBe(200);

    // The unsubscribe link in a browser: a page, its button a form posting back; nothing changes yet.
    const page = await fetch(unsubscribeLink);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)">/.exec(html)![1].replace(/&amp;/g, "&");
    const fields = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)">/g)].map(([, name, value]) => [name, value]);
    expect(fields).toEqual([["List-Unsubscribe", "One-Click"]]);
    expect((await rowOf(row.id)).status).toBe("confirmed");

    // The button (or a mail client's one-click POST): the subscription ends, its address erased.
    const post = () =>
      fetch(new URL(action, stack.apiUrl), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
    const unsubscribed = await post();
    expect(unsubscribed.status).toBe(200);
    expect(await unsubscribed.text()).toContain("You are unsubscribed");
    expect(await rowOf(row.id)).toMatchObject({ status: "unsubscribed", email: null });
    expect((await post()).status).toBe(200);
    // The confirmation link no longer brings it back.
    expect((await fetch(confirmLink)).status).toBe(410);
    expect((await rowOf(row.id)).status).toBe("unsubscribed");
  });
});
