import * as Subscription from "@donut-states/core/subscription";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { routes, subscriptionPolicy } from "@donut-states/core/topology";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { drain, testQueue } from "@donut-states/emulators/testing";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import { type SwitchableProxy, startSwitchableProxy } from "@donut-states/local/testing/switchable-proxy";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

/**
 * The back-in-stock routes through the offline gateway, against a real database and the SQS
 * emulator's mail queue: POST /products/{sku}/subscriptions (202 whatever the address's state, the
 * confirmation mail enqueued as an id), and the links' pages (confirm, unsubscribe GET and POST).
 */
const REGION = "ap-northeast-2";
const SECRET = "route-test-subscription-secret-0123456789";
let database: TestDatabase;
let gateway: Gateway;
let emulator: SqsSnsEmulator;
let mailQueueUrl: string;
/** The handlers reach SQS through this, so a test can make SQS unreachable. */
let sqsPath: SwitchableProxy;

beforeAll(async () => {
  database = await createTestDatabase("subscriptions");
  emulator = await startSqsSns({ port: 0, region: REGION });
  mailQueueUrl = (await testQueue(emulator.sqs, "customer-mail")).url;
  sqsPath = await startSwitchableProxy(emulator.endpoint);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SQS: sqsPath.url,
    MAIL_QUEUE_URL: mailQueueUrl,
    SUBSCRIPTION_TOKEN_SECRET: SECRET,
  });
  gateway = await startGateway({ routes, port: 0 });
  process.env.PUBLIC_API_URL = gateway.url;
  await seedProducts(database.db, [
    { sku: "SUB-1", stock: 0, name: "Injeolmi Twist" },
    { sku: "SUB-2", stock: 4 },
    { sku: "SUB-3", stock: 0 },
  ]);
});

afterAll(async () => {
  await gateway?.close();
  await sqsPath?.close();
  await emulator?.close();
  await database?.drop();
});

beforeEach(async () => {
  await drain(emulator.sqs, mailQueueUrl);
});

async function subscribe(sku: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  const response = await fetch(`${gateway.url}/products/${sku}/subscriptions`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: comparableHeaders(response.headers), json: (await response.json()) as any };
}

/** The headers a caller could compare between two answers (the date and the connection's aside). */
function comparableHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries(
    [...(headers as unknown as Iterable<[string, string]>)].filter(([name]) => !["date", "keep-alive", "connection"].includes(name)),
  );
}

/** The mail queue's messages now (received and left in flight), parsed. */
async function mailMessages(): Promise<unknown[]> {
  return (await drain(emulator.sqs, mailQueueUrl)).map((message) => JSON.parse(message.Body!));
}

const rowsOf = (email: string) =>
  database.db.select().from(Subscription.subscriptionTable).where(eq(Subscription.subscriptionTable.email, email));
const rowOf = async (id: string) =>
  (await database.db.select().from(Subscription.subscriptionTable).where(eq(Subscription.subscriptionTable.id, id)))[0];

/** Let the address be mailed again now (its cool-down over). */
const coolDown = (email: string) =>
  database.db
    .update(Subscription.subscriptionAddressTable)
    .set({ confirmationMailedAt: sql`NOW(3) - INTERVAL ${subscriptionPolicy.confirmationCooldownSeconds + 1} SECOND` })
    .where(eq(Subscription.subscriptionAddressTable.email, email));

/** The link of `purpose` for the subscription, as the mailer would put it in a mail. */
const linkFor = (purpose: Subscription.LinkPurpose, id: string) =>
  purpose === "confirm" ? Subscription.confirmLink(id) : Subscription.unsubscribeLink(id);

async function open(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: "manual", ...init });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** RFC 8058's one-click POST, as a mail client sends it. */
const oneClick = (url: string, body = "List-Unsubscribe=One-Click", contentType = "application/x-www-form-urlencoded") =>
  open(url, { method: "POST", headers: { "content-type": contentType }, body });

/** A new address's subscription to SUB-1, confirmed or not; its id. */
async function subscribed(email: string, { confirmed = false } = {}): Promise<string> {
  expect((await subscribe("SUB-1", { email })).status).toBe(202);
  const [row] = await rowsOf(email);
  if (confirmed) await Subscription.confirm(row.id);
  await drain(emulator.sqs, mailQueueUrl);
  return row.id;
}

describe("POST /products/{sku}/subscriptions", () => {
  it("answers 202 pending-confirmation and enqueues the confirmation mail as the subscription's id alone", async () => {
    const first = await subscribe("sub-1", { email: "  Alice@Example.COM " });
    expect(first.status).toBe(202);
    expect(first.json).toEqual({ subscription: { sku: "SUB-1", email: "alice@example.com", status: "pending-confirmation" } });
    const [row] = await rowsOf("alice@example.com");
    expect(row).toMatchObject({ status: "pending", email: "alice@example.com" });
    expect(await mailMessages()).toEqual([{ kind: "confirmation", subscriptionId: row.id }]);

    // The same request again, the SKU and the address spelt otherwise: the same subscription, and
    // within the cool-down no second mail.
    for (const [sku, email] of [
      ["SUB-1", "alice@example.com"],
      ["Sub-1", "ALICE@example.com"],
    ]) {
      const again = await subscribe(sku, { email });
      expect({ status: again.status, json: again.json }).toEqual({ status: first.status, json: first.json });
    }
    expect(await rowsOf("alice@example.com")).toHaveLength(1);
    expect(await mailMessages()).toEqual([]);
    // Past the cool-down, a pending subscription's mail goes again.
    await coolDown("alice@example.com");
    expect((await subscribe("SUB-1", { email: "alice@example.com" })).status).toBe(202);
    expect(await mailMessages()).toEqual([{ kind: "confirmation", subscriptionId: row.id }]);
  });

  it("gives identical answers for a new, a pending, a confirmed and an otherwise-subscribed address", async () => {
    await subscribed("pending@example.com");
    await subscribed("confirmed@example.com", { confirmed: true });
    // Waits for another product (and was mailed for it moments ago).
    expect((await subscribe("SUB-3", { email: "elsewhere@example.com" })).status).toBe(202);
    const answers = [];
    for (const email of ["new@example.com", "pending@example.com", "confirmed@example.com", "elsewhere@example.com"]) {
      const answer = await subscribe("SUB-1", { email });
      expect(answer.json.subscription.email).toBe(email);
      answers.push({ ...answer, json: { subscription: { ...answer.json.subscription, email: "(the address given)" } } });
    }
    for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    expect(answers[0].status).toBe(202);
  });

  it("refuses an unknown SKU (404) and bad input (400, 413, 415), storing and enqueueing nothing", async () => {
    const unknown = await subscribe("NOPE-404", { email: "carol@example.com" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ code: "PRODUCT_NOT_FOUND", sku: "NOPE-404" });
    for (const [body, message] of [
      [{ email: "not-an-address" }, /email must be an e-mail address/],
      [{ email: "Carol <carol@example.com>" }, /email must be an e-mail address/],
      [{ email: `${"c".repeat(65)}@example.com` }, /before @ must be at most 64/],
      [{ email: `c@${"d".repeat(250)}.com` }, /at most 254 characters/],
      [{ email: 42 }, /email must be a string/],
      [{}, /email/],
      [{ email: "carol@example.com", sku: "SUB-2" }, /unknown field\(s\): sku/],
      ["not json", /not valid JSON/],
    ] as const) {
      const answer = await subscribe("SUB-1", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.code).toBe("VALIDATION_FAILED");
      expect(answer.json.error.message).toMatch(message);
    }
    expect((await subscribe("bad sku!", { email: "carol@example.com" })).status).toBe(400);
    expect((await subscribe("SUB-1", { email: "x".repeat(9000) })).status).toBe(413);
    expect((await subscribe("SUB-1", { email: "carol@example.com" }, { "content-type": "text/plain" })).status).toBe(415);
    expect(await rowsOf("carol@example.com")).toEqual([]);
    expect(await mailMessages()).toEqual([]);
  });

  it("answers 503 and saves nothing when the mail queue does not answer", async () => {
    sqsPath.setAvailable(false);
    try {
      const answer = await subscribe("SUB-1", { email: "erin@example.com" });
      expect(answer.status).toBe(503);
      expect(answer.json.error).toMatchObject({ code: "SERVICE_UNAVAILABLE", message: expect.stringContaining("mail queue") });
    } finally {
      sqsPath.setAvailable(true);
    }
    expect(await rowsOf("erin@example.com")).toEqual([]);
    // Nothing was spent: the next try mails at once.
    expect((await subscribe("SUB-1", { email: "erin@example.com" })).status).toBe(202);
    expect(await mailMessages()).toHaveLength(1);
  });
});

describe("the links' pages", () => {
  it("confirm with GET (idempotent), as a small HTML page with a strict Content-Security-Policy", async () => {
    const id = await subscribed("frank@example.com");
    const url = await linkFor("confirm", id);
    const first = await open(url);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(first.headers.get("content-security-policy")).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/,
    );
    expect(first.headers.get("referrer-policy")).toBe("no-referrer");
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.html).toContain("Injeolmi Twist (SUB-1)");
    expect(first.html).not.toMatch(/<script|\son\w+=|javascript:/i);
    expect((await rowOf(id)).status).toBe("confirmed");
    const again = await open(url);
    expect({ status: again.status, html: again.html }).toEqual({ status: first.status, html: first.html });
  });

  it("refuse forged, truncated, expired and other-purpose links with a clear 4xx page, changing nothing", async () => {
    const id = await subscribed("grace@example.com");
    const url = new URL(await linkFor("confirm", id));
    const token = url.searchParams.get("token")!;
    const [, expires, mac] = token.split(".");
    const cases: Array<[string | undefined, number, RegExp]> = [
      [undefined, 400, /incomplete/],
      [token.slice(0, 40), 400, /incomplete/],
      [`${token}%20`, 400, /incomplete/],
      [`${id}.${expires}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`, 403, /not one of ours/],
      [new URL(await linkFor("unsubscribe", id)).searchParams.get("token")!, 403, /not one of ours/],
    ];
    for (const [given, status, text] of cases) {
      const target = `${gateway.url}/subscriptions/confirm${given === undefined ? "" : `?token=${given.includes("%") ? given : encodeURIComponent(given)}`}`;
      const answer = await open(target);
      expect(answer.status, String(given)).toBe(status);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
      expect(answer.html).toMatch(text);
    }
    // An old link: signed by us, its time over.
    const old = await open(
      `${gateway.url}/subscriptions/confirm?token=${Subscription.signToken("confirm", id, SECRET, Date.now() / 1000 - 1)}`,
    );
    expect(old.status).toBe(410);
    expect(old.html).toMatch(/expired/);
    expect((await rowOf(id)).status).toBe("pending");
  });

  it("show an unsubscribe page with a button that POSTs back (changing nothing), and end the subscription by one-click POST, idempotently", async () => {
    const id = await subscribed("heidi@example.com", { confirmed: true });
    const url = await linkFor("unsubscribe", id);
    const shown = await open(url);
    expect(shown.status).toBe(200);
    const action = /<form method="post" action="([^"]+)">/.exec(shown.html)?.[1].replace(/&amp;/g, "&");
    expect(action).toBe(new URL(url).pathname + new URL(url).search);
    expect(shown.html).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect((await rowOf(id)).status).toBe("confirmed");

    // Not the one-click body: refused, nothing changes.
    expect((await oneClick(url, "List-Unsubscribe=Yes")).status).toBe(400);
    expect((await oneClick(url, "")).status).toBe(400);
    expect((await oneClick(url, '{"List-Unsubscribe":"One-Click"}', "application/json")).status).toBe(415);
    expect((await oneClick(url, `List-Unsubscribe=One-Click&pad=${"x".repeat(9000)}`)).status).toBe(413);
    expect((await rowOf(id)).status).toBe("confirmed");

    const done = await oneClick(url);
    expect(done.status).toBe(200);
    expect(done.html).toContain("You are unsubscribed");
    expect(await rowOf(id)).toMatchObject({ status: "unsubscribed", email: null });
    const again = await oneClick(url);
    expect({ status: again.status, html: again.html }).toEqual({ status: done.status, html: done.html });
    // The page no longer offers the button.
    expect((await open(url)).html).not.toContain("<form");
  });

  it("accept the one-click body as multipart/form-data too, and refuse an unsubscribe link that is not ours", async () => {
    const id = await subscribed("ivan@example.com");
    const url = await linkFor("unsubscribe", id);
    const form = new FormData();
    form.set("List-Unsubscribe", "One-Click");
    expect((await open(`${url}x`, { method: "POST", body: form })).status).toBe(400);
    expect((await open(url.replace(/token=[^.]+/, "token=01ARZ3NDEKTSV4RRFFQ69G5FAV"), { method: "POST", body: form })).status).toBe(403);
    expect((await rowOf(id)).status).toBe("pending");
    expect((await open(url, { method: "POST", body: form })).status).toBe(200);
    expect((await rowOf(id)).status).toBe("unsubscribed");
  });

  it("answer a generic 500 page, never the secret's trouble, when the link key is too short", async () => {
    const id = await subscribed("judy@example.com");
    const url = await linkFor("confirm", id);
    process.env.SUBSCRIPTION_TOKEN_SECRET = "short-secret";
    try {
      const answer = await open(url);
      expect(answer.status).toBe(500);
      expect(answer.html).toContain("Something went wrong on our side");
      expect(answer.html).not.toContain("SUBSCRIPTION_TOKEN_SECRET");
    } finally {
      process.env.SUBSCRIPTION_TOKEN_SECRET = SECRET;
    }
    expect((await rowOf(id)).status).toBe("pending");
  });
});
