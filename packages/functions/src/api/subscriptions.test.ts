import { CreateTopicCommand, GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand } from "@aws-sdk/client-sns";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { routes } from "@donut-states/core/topology";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import { type SwitchableProxy, startSwitchableProxy } from "@donut-states/local/testing/switchable-proxy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * POST /products/{sku}/subscriptions through the offline gateway against the SNS emulator: the
 * subscription is an SNS e-mail subscription whose filter policy names the SKU, and nothing else.
 */
const REGION = "ap-northeast-2";
let database: TestDatabase;
let gateway: Gateway;
let emulator: SqsSnsEmulator;
let topicArn: string;
/** The handlers reach SNS through this, so a test can make SNS unreachable. */
let snsPath: SwitchableProxy;

beforeAll(async () => {
  database = await createTestDatabase("subscriptions");
  emulator = await startSqsSns({ port: 0, region: REGION });
  topicArn = (await emulator.sns.send(new CreateTopicCommand({ Name: "back-in-stock" }))).TopicArn!;
  snsPath = await startSwitchableProxy(emulator.endpoint);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SNS: snsPath.url,
    BACK_IN_STOCK_TOPIC_ARN: topicArn,
  });
  gateway = await startGateway({ routes, port: 0 });
  await seedProducts(database.db, [
    { sku: "SUB-1", stock: 0 },
    { sku: "SUB-2", stock: 4 },
  ]);
});

afterAll(async () => {
  await gateway?.close();
  await snsPath?.close();
  await emulator?.close();
  await database?.drop();
});

async function subscribe(sku: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  const response = await fetch(`${gateway.url}/products/${sku}/subscriptions`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function emailSubscriptions() {
  const { Subscriptions = [] } = await emulator.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  return Promise.all(
    Subscriptions.map(async (subscription) => {
      const { Attributes = {} } = await emulator.sns.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.SubscriptionArn }),
      );
      return {
        protocol: subscription.Protocol,
        endpoint: subscription.Endpoint,
        filterPolicy: Attributes.FilterPolicy && JSON.parse(Attributes.FilterPolicy),
      };
    }),
  );
}

describe("POST /products/{sku}/subscriptions", () => {
  it("answers 202 pending-confirmation and makes one SNS e-mail subscription filtered on the SKU; repeating it changes nothing", async () => {
    const first = await subscribe("SUB-1", { email: "  Alice@Example.COM " });
    expect(first).toEqual({
      status: 202,
      json: { subscription: { sku: "SUB-1", email: "alice@example.com", status: "pending-confirmation" } },
    });
    // The same request again, and the same address spelt otherwise: the same subscription.
    expect(await subscribe("SUB-1", { email: "alice@example.com" })).toEqual(first);
    expect(await subscribe("SUB-1", { email: "ALICE@example.com" })).toEqual(first);
    expect(await emailSubscriptions()).toEqual([{ protocol: "email", endpoint: "alice@example.com", filterPolicy: { sku: ["SUB-1"] } }]);
    // Any product may be waited for, sold out or not.
    expect((await subscribe("SUB-2", { email: "bob@example.com" })).status).toBe(202);
    expect(await emailSubscriptions()).toContainEqual({ protocol: "email", endpoint: "bob@example.com", filterPolicy: { sku: ["SUB-2"] } });
  });

  it("refuses an unknown SKU (404) and bad input (400, 413, 415) and subscribes nobody", async () => {
    const before = await emailSubscriptions();
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
    expect(await emailSubscriptions()).toEqual(before);
  });

  it("answers 409 when the address already waits for another product (one SNS subscription per address and topic)", async () => {
    expect((await subscribe("SUB-1", { email: "dave@example.com" })).status).toBe(202);
    const other = await subscribe("SUB-2", { email: "dave@example.com" });
    expect(other.status).toBe(409);
    expect(other.json.error).toMatchObject({ code: "SUBSCRIBED_TO_ANOTHER_PRODUCT", sku: "SUB-2" });
    // The message does not say which product the address waits for.
    expect(other.json.error.message).not.toContain("SUB-1");
    expect((await emailSubscriptions()).filter((subscription) => subscription.endpoint === "dave@example.com")).toEqual([
      { protocol: "email", endpoint: "dave@example.com", filterPolicy: { sku: ["SUB-1"] } },
    ]);
  });

  it("answers 503 and subscribes nobody when SNS does not answer", async () => {
    snsPath.setAvailable(false);
    try {
      const answer = await subscribe("SUB-1", { email: "erin@example.com" });
      expect(answer.status).toBe(503);
      expect(answer.json.error).toMatchObject({ code: "SERVICE_UNAVAILABLE", message: expect.stringContaining("notification service") });
    } finally {
      snsPath.setAvailable(true);
    }
    expect((await emailSubscriptions()).map((subscription) => subscription.endpoint)).not.toContain("erin@example.com");
  });
});
