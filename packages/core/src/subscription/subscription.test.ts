/**
 * The subscription domain against MariaDB alone. The mail queue is a port nothing listens on:
 * a request that must enqueue a confirmation mail fails (503) and saves nothing, so the paths
 * that store without mailing are reached through the cool-down (the address was mailed moments
 * ago). That the mail reaches a real queue is packages/functions/src/api/subscriptions.test.ts's.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPortUrl, createTestDatabase, seedProducts, type TestDatabase, useLocalAwsCredentials } from "../testing";
import { subscriptionPolicy } from "../topology";
import { AppError } from "../util/error";
import * as Subscription from "./index";

const SECRET = "subscription-test-secret-0123456789abcdef";
let database: TestDatabase;
let nextSku = 1;

beforeAll(async () => {
  database = await createTestDatabase("core_subscription");
  useLocalAwsCredentials();
  const nowhere = await closedPortUrl();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: nowhere,
    MAIL_QUEUE_URL: `${nowhere}/000000000000/customer-mail`,
    SUBSCRIPTION_TOKEN_SECRET: SECRET,
    PUBLIC_API_URL: "http://127.0.0.1:3000",
  });
});
afterAll(async () => {
  await database?.drop();
});

const { subscriptionTable, subscriptionAddressTable } = Subscription;

async function product(name?: string) {
  const [sku] = await seedProducts(database.db, [{ sku: `SB-${String(nextSku++).padStart(4, "0")}`, stock: 0, name }]);
  return sku;
}

/** The address was sent a confirmation mail `secondsAgo` (within the cool-down: no mail is due now). */
async function mailedAgo(email: string, secondsAgo = 0) {
  await database.db
    .insert(subscriptionAddressTable)
    .values({ email, confirmationMailedAt: sql`NOW(3) - INTERVAL ${secondsAgo} SECOND` })
    .onDuplicateKeyUpdate({ set: { confirmationMailedAt: sql`NOW(3) - INTERVAL ${secondsAgo} SECOND` } });
}

const rowsOf = (email: string) => database.db.select().from(subscriptionTable).where(eq(subscriptionTable.email, email));
const rowOf = async (id: string) => (await database.db.select().from(subscriptionTable).where(eq(subscriptionTable.id, id)))[0];
const addressOf = async (email: string) =>
  (await database.db.select().from(subscriptionAddressTable).where(eq(subscriptionAddressTable.email, email)))[0];

/** Move a subscription's times `seconds` into the past. */
async function age(id: string, column: "requested_at" | "ended_at", seconds: number) {
  await database.db.execute(
    sql`UPDATE subscription SET ${sql.raw(column)} = ${sql.raw(column)} - INTERVAL ${seconds} SECOND WHERE id = ${id}`,
  );
}

/** A pending subscription as a request leaves it (stored while the address cools down). */
async function pending(sku: string, email: string) {
  await mailedAgo(email);
  await Subscription.request(sku, email);
  const [row] = (await rowsOf(email)).filter((candidate) => candidate.status === "pending");
  return row.id;
}

describe("Subscription.request", () => {
  it("stores the SKU as the catalogue's product and the address normalised: cp-… and CP-… are one subscription", async () => {
    const sku = await product();
    const email = "case@example.com";
    await mailedAgo(email);
    const first = await Subscription.request(sku.toLowerCase(), "  Case@Example.COM ");
    expect(first).toEqual({ sku, email, status: "pending-confirmation", outcome: "cooling-down" });
    const second = await Subscription.request(sku, email);
    expect(second).toMatchObject({ sku, email, status: "pending-confirmation" });
    const rows = await rowsOf(email);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "pending", email, openEmail: email, confirmedAt: null, endedAt: null });
  });

  it("refuses an unknown SKU with 404 and stores nothing", async () => {
    await expect(Subscription.request("NOPE-404", "nobody@example.com")).rejects.toMatchObject({ status: 404, code: "PRODUCT_NOT_FOUND" });
    expect(await addressOf("nobody@example.com")).toBeUndefined();
  });

  it("saves nothing when the confirmation mail cannot be enqueued (503), and the cool-down is not spent", async () => {
    const sku = await product();
    const error = await Subscription.request(sku, "queue-down@example.com").catch((caught) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
    expect(error.message).toContain("mail queue");
    expect(await rowsOf("queue-down@example.com")).toEqual([]);
    expect(await addressOf("queue-down@example.com")).toBeUndefined();
  });

  it("mails a pending subscription again once the cool-down is over, renewing its time (here: the mail that fails)", async () => {
    const sku = await product();
    const email = "again@example.com";
    const id = await pending(sku, email);
    await age(id, "requested_at", 3600);
    // Within the cool-down: nothing is due, nothing changes.
    expect((await Subscription.request(sku, email)).outcome).toBe("cooling-down");
    // Past it, a mail is due: the queue is down, so the renewal is rolled back with it.
    await mailedAgo(email, subscriptionPolicy.confirmationCooldownSeconds + 1);
    await expect(Subscription.request(sku, email)).rejects.toMatchObject({ status: 503 });
    const row = await rowOf(id);
    expect(row.status).toBe("pending");
    expect(Date.now() - row.requestedAt.getTime()).toBeGreaterThan(3000 * 1000);
  });

  it("lets an address wait for several products, up to the cap; beyond it stores nothing and answers the same", async () => {
    const email = "many@example.com";
    const skus = [];
    for (let i = 0; i < subscriptionPolicy.maxOpenPerAddress + 1; i++) skus.push(await product());
    await mailedAgo(email);
    for (const sku of skus.slice(0, -1)) expect((await Subscription.request(sku, email)).outcome).toBe("cooling-down");
    const over = await Subscription.request(skus.at(-1)!, email);
    expect(over).toEqual({ sku: skus.at(-1), email, status: "pending-confirmation", outcome: "over-limit" });
    expect(await rowsOf(email)).toHaveLength(subscriptionPolicy.maxOpenPerAddress);
    // An ended one no longer counts.
    await Subscription.unsubscribe((await rowsOf(email))[0].id);
    expect((await Subscription.request(skus.at(-1)!, email)).outcome).toBe("cooling-down");
  });

  it("does nothing for a confirmed subscription, and a new one may follow an ended one", async () => {
    const sku = await product();
    const email = "confirmed@example.com";
    const id = await pending(sku, email);
    expect((await Subscription.confirm(id)).outcome).toBe("confirmed");
    await mailedAgo(email, 86_400);
    expect((await Subscription.request(sku, email)).outcome).toBe("already-confirmed");
    expect(await addressOf(email)).toMatchObject({ email });
    await Subscription.unsubscribe(id);
    await mailedAgo(email);
    expect((await Subscription.request(sku, email)).outcome).toBe("cooling-down");
    const rows = await database.db
      .select()
      .from(subscriptionTable)
      .where(eq(subscriptionTable.productId, (await rowOf(id)).productId));
    expect(rows.map((row) => row.status).sort()).toEqual(["pending", "unsubscribed"]);
  });

  it("keeps one open subscription per address and product however many requests race", async () => {
    const sku = await product();
    const email = "racing@example.com";
    await mailedAgo(email);
    const answers = await Promise.all(Array.from({ length: 12 }, () => Subscription.request(sku, email)));
    expect(new Set(answers.map((answer) => JSON.stringify({ ...answer, outcome: undefined }))).size).toBe(1);
    expect(await rowsOf(email)).toHaveLength(1);
  });
});

describe("confirm, unsubscribe, end", () => {
  it("confirms a pending subscription once (the link works twice), and not one that ended or waited too long", async () => {
    const sku = await product("Injeolmi Twist");
    const id = await pending(sku, "confirm@example.com");
    const first = await Subscription.confirm(id);
    expect(first).toMatchObject({ outcome: "confirmed", subscription: { id, sku, productName: "Injeolmi Twist", status: "confirmed" } });
    const confirmedAt = (await rowOf(id)).confirmedAt;
    expect(await Subscription.confirm(id)).toMatchObject({ outcome: "confirmed" });
    expect((await rowOf(id)).confirmedAt).toEqual(confirmedAt);

    const late = await pending(sku, "late@example.com");
    await age(late, "requested_at", subscriptionPolicy.pendingSeconds + 60);
    expect(await Subscription.confirm(late)).toMatchObject({ outcome: "ended", subscription: { status: "pending" } });
    const withdrawn = await pending(sku, "withdrawn@example.com");
    await Subscription.unsubscribe(withdrawn);
    expect(await Subscription.confirm(withdrawn)).toMatchObject({ outcome: "ended", subscription: { status: "unsubscribed" } });
    expect(await Subscription.confirm("01ARZ3NDEKTSV4RRFFQ69G5FAV")).toEqual({ outcome: "ended", subscription: undefined });
  });

  it("unsubscribes an open subscription, erasing its address in the same statement; again changes nothing", async () => {
    const sku = await product();
    const id = await pending(sku, "leaving@example.com");
    await Subscription.confirm(id);
    expect(await Subscription.unsubscribe(id)).toMatchObject({ ended: true, subscription: { status: "unsubscribed", email: null } });
    const row = await rowOf(id);
    expect(row).toMatchObject({ status: "unsubscribed", email: null, openEmail: null });
    expect(row.endedAt).toBeInstanceOf(Date);
    expect(await Subscription.unsubscribe(id)).toMatchObject({ ended: false, subscription: { status: "unsubscribed" } });
    expect((await rowOf(id)).endedAt).toEqual(row.endedAt);
  });

  it("keeps no address in an ended row, and none missing in an open one (the table's CHECK)", async () => {
    const sku = await product();
    const id = await pending(sku, "check@example.com");
    await expect(
      database.db.execute(sql`UPDATE subscription SET status = 'notified', ended_at = NOW(3) WHERE id = ${id}`),
    ).rejects.toThrow();
    await expect(database.db.execute(sql`UPDATE subscription SET email = NULL WHERE id = ${id}`)).rejects.toThrow();
    // What else the ending records goes in the same statement; it cannot keep the address.
    expect(await Subscription.end(database.db, [id], "notified", { confirmedAt: new Date("2026-01-02T03:04:05.678Z") })).toBe(1);
    expect(await rowOf(id)).toMatchObject({ status: "notified", email: null, confirmedAt: new Date("2026-01-02T03:04:05.678Z") });
    expect(await Subscription.end(database.db, [id], "unsubscribed")).toBe(0);
  });

  it("pages through a product's confirmed subscribers in id order", async () => {
    const sku = await product();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = await pending(sku, `page-${i}@example.com`);
      await Subscription.confirm(id);
      ids.push(id);
    }
    await pending(sku, "unconfirmed@example.com");
    const { productId } = await rowOf(ids[0]);
    const seen: string[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await Subscription.confirmedFor(productId, { afterId, limit: 3 });
      if (page.length === 0) break;
      seen.push(...page.map((row) => row.id));
      afterId = page.at(-1)!.id;
      expect(page.every((row) => row.email.startsWith("page-"))).toBe(true);
    }
    expect(seen).toEqual([...ids].sort());
  });
});

describe("links", () => {
  it("sign a purpose, a subscription and an expiry: another purpose, a changed part or an old link is refused", async () => {
    const id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const link = new URL(await Subscription.confirmLink(id));
    expect(`${link.origin}${link.pathname}`).toBe("http://127.0.0.1:3000/subscriptions/confirm");
    const token = link.searchParams.get("token")!;
    expect(await Subscription.checkToken("confirm", token)).toEqual({ ok: true, id });
    expect(await Subscription.checkToken("unsubscribe", token)).toEqual({ ok: false, reason: "forged" });
    const [, expires, mac] = token.split(".");
    expect(await Subscription.checkToken("confirm", `01ARZ3NDEKTSV4RRFFQ69G5FAW.${expires}.${mac}`)).toMatchObject({ reason: "forged" });
    expect(await Subscription.checkToken("confirm", `${id}.${(Number.parseInt(expires, 36) + 1).toString(36)}.${mac}`)).toMatchObject({
      reason: "forged",
    });
    for (const malformed of [undefined, "", token.slice(0, -1), `${token}x`, token.replace(/\./g, ""), `${token}.${mac}`, " ".repeat(500)])
      expect(await Subscription.checkToken("confirm", malformed), String(malformed)).toEqual({ ok: false, reason: "malformed" });
    const old = Subscription.signToken("confirm", id, SECRET, Date.now() / 1000 - 1);
    expect(await Subscription.checkToken("confirm", old)).toEqual({ ok: false, reason: "expired" });
    const unsubscribe = new URL(await Subscription.unsubscribeLink(id)).searchParams.get("token")!;
    expect(Number.parseInt(unsubscribe.split(".")[1], 36) * 1000 - Date.now()).toBeGreaterThan(
      (subscriptionPolicy.unsubscribeLinkDays - 1) * 86_400_000,
    );
  });

  it("accept a link signed with the previous key during a rotation, and refuse a key shorter than 32 bytes", async () => {
    const id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const before = new URL(await Subscription.unsubscribeLink(id)).searchParams.get("token")!;
    try {
      process.env.SUBSCRIPTION_TOKEN_SECRET = "the-next-subscription-secret-0123456789";
      process.env.SUBSCRIPTION_TOKEN_SECRET_PREVIOUS = SECRET;
      expect(await Subscription.checkToken("unsubscribe", before)).toEqual({ ok: true, id });
      delete process.env.SUBSCRIPTION_TOKEN_SECRET_PREVIOUS;
      expect(await Subscription.checkToken("unsubscribe", before)).toMatchObject({ ok: false, reason: "forged" });
      process.env.SUBSCRIPTION_TOKEN_SECRET = "too-short-0123456789";
      await expect(Subscription.confirmLink(id)).rejects.toThrow(
        "SUBSCRIPTION_TOKEN_SECRET is 20 bytes long; it must be at least 32 bytes (generate one with `openssl rand -base64 32`)",
      );
      await expect(Subscription.checkToken("confirm", before)).rejects.toThrow(/SUBSCRIPTION_TOKEN_SECRET is 20 bytes long/);
    } finally {
      process.env.SUBSCRIPTION_TOKEN_SECRET = SECRET;
      delete process.env.SUBSCRIPTION_TOKEN_SECRET_PREVIOUS;
    }
  });

  it("make the confirmation mail of a pending subscription only, with both links and the one-click headers", async () => {
    const sku = await product("부산도너츠 <b>");
    const id = await pending(sku, "mail@example.com");
    const mail = await Subscription.confirmationMailFor(id);
    expect(mail).toBeDefined();
    expect(mail!.to).toBe("mail@example.com");
    expect(mail!.subject).toBe("Confirm: tell me when 부산도너츠 <b> is back");
    expect(mail!.text).toContain(`부산도너츠 <b> (${sku})`);
    expect(mail!.html).toContain("부산도너츠 &lt;b&gt;");
    expect(mail!.html).not.toContain("<b>");
    const confirm = /(http:\S+\/subscriptions\/confirm\?token=\S+)/.exec(mail!.text)![1];
    const unsubscribe = /(http:\S+\/subscriptions\/unsubscribe\?token=\S+)/.exec(mail!.text)![1];
    expect(await Subscription.checkToken("confirm", new URL(confirm).searchParams.get("token")!)).toEqual({ ok: true, id });
    expect(mail!.headers).toEqual({ "List-Unsubscribe": `<${unsubscribe}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" });
    await Subscription.confirm(id);
    expect(await Subscription.confirmationMailFor(id)).toBeUndefined();
  });
});

describe("Subscription.housekeeping", () => {
  it("expires what waited too long, deletes what ended long ago, forgets cooled-down addresses, and leaves the rest", async () => {
    const sku = await product();
    const fresh = await pending(sku, "fresh@example.com");
    const stale = await pending(sku, "stale@example.com");
    await age(stale, "requested_at", subscriptionPolicy.pendingSeconds + 1);
    const waiting = await pending(sku, "waiting@example.com");
    await Subscription.confirm(waiting);
    const tooLong = await pending(sku, "too-long@example.com");
    await Subscription.confirm(tooLong);
    await age(tooLong, "requested_at", (subscriptionPolicy.maxWaitDays + 1) * 86_400);
    const endedLongAgo = await pending(sku, "ended@example.com");
    await Subscription.unsubscribe(endedLongAgo);
    await age(endedLongAgo, "ended_at", (subscriptionPolicy.endedRetentionDays + 1) * 86_400);
    const endedLately = await pending(sku, "lately@example.com");
    await Subscription.unsubscribe(endedLately);
    await mailedAgo("cooled@example.com", subscriptionPolicy.confirmationCooldownSeconds + 1);

    const report = await Subscription.housekeeping();
    expect(report.expired).toBeGreaterThanOrEqual(2);
    expect(report.deleted).toBeGreaterThanOrEqual(1);
    expect(report.addressesForgotten).toBeGreaterThanOrEqual(1);
    expect((await rowOf(fresh)).status).toBe("pending");
    expect(await rowOf(stale)).toMatchObject({ status: "expired", email: null });
    expect((await rowOf(waiting)).status).toBe("confirmed");
    expect(await rowOf(tooLong)).toMatchObject({ status: "expired", email: null });
    expect(await rowOf(endedLongAgo)).toBeUndefined();
    expect((await rowOf(endedLately)).status).toBe("unsubscribed");
    expect(await addressOf("cooled@example.com")).toBeUndefined();
    expect(await addressOf("fresh@example.com")).toBeDefined();

    const again = await Subscription.housekeeping();
    expect(again).toEqual({ expired: 0, deleted: 0, addressesForgotten: 0 });
  });
});
