import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { closeDatabase } from "@donut-states/core/drizzle";
import { APPLICATION_PRIVILEGES, applicationTables } from "@donut-states/core/drizzle/app-user";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import * as Subscription from "@donut-states/core/subscription";
import { seedProducts, TEST_FACTORY } from "@donut-states/core/testing";
import { adminRoutes, functions, routes } from "@donut-states/core/topology";
import { lambdaContext, toSqsRecord } from "@donut-states/emulators/runtime";
import { type FactorySimulator, startFactorySimulator } from "@donut-states/factory";
import { type Gateway, startGateway } from "@donut-states/local/gateway";
import { loadHandler } from "@donut-states/local/runtime";
import { type MysqlProxy, startMysqlProxy } from "@donut-states/local/testing/mysql-proxy";
import { beyond, type Grants, grantsFor, unionOf } from "@donut-states/local/testing/sql-privileges";
import { type OpsFixture, opsFixture, outOfStockEnvelope, restockEnvelope } from "@donut-states/ops/testing";
import { eq, sql } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, expect, it } from "vitest";

/**
 * Which SQL statements each function sends, per table, and so which grants it needs: every
 * function of the topology (the public routes, the queue, schedule and rule functions, the admin
 * routes through the ops CLI) runs its paths one function at a time, as the application user,
 * behind the wire recorder; each statement the server receives is read for the privileges it
 * needs (packages/local/src/testing/sql-privileges.ts). The test checks that what is issued is
 * within what the application user is granted, and prints the smallest grants per function, per
 * side (public and admin) and overall. The migrate function is not here: it runs as the admin.
 */

const FUNCTIONS_WITH_THE_DATABASE = [
  "listProducts",
  "getProduct",
  "createOrder",
  "subscribeBackInStock",
  "confirmSubscription",
  "unsubscribePage",
  "unsubscribe",
  "housekeeping",
  "outboxRelay",
  "factoryCaller",
  "factoryCallback",
  "restockWatchdog",
  "dlqFollowUp",
] as const;
const FUNCTIONS_WITHOUT = ["fallback", "backInStockNotifier", "GET /admin/dlq"] as const;

let fixture: OpsFixture;
let proxy: MysqlProxy;
let gateway: Gateway;
let factory: FactorySimulator;
/** The statements of the function running now (one at a time). */
let current: string[] | undefined;
const issued: Record<string, string[]> = {};

beforeAll(async () => {
  fixture = await opsFixture({ label: "grants", queues: true, eventBridge: true });
  // The handlers connect as the application user; the recorder sits between them and the server.
  const url = new URL(fixture.database.appUrl);
  proxy = await startMysqlProxy({
    targetHost: url.hostname,
    targetPort: Number(url.port || 3306),
    onStatement: (statement) => current?.push(statement),
  });
  url.port = String(proxy.port);
  factory = await startFactorySimulator({ port: 0, callback: "never" });
  gateway = await startGateway({ routes, port: 0 });
  Object.assign(process.env, {
    DATABASE_URL: url.toString(),
    AWS_ENDPOINT_URL_SNS: fixture.emulator!.endpoint,
    ALERTS_TOPIC_ARN: fixture.topology!.alertsTopicArn,
    BACK_IN_STOCK_TOPIC_ARN: fixture.topology!.backInStockTopicArn,
    MAIL_QUEUE_URL: fixture.topology!.mailQueueUrl,
    SUBSCRIPTION_TOKEN_SECRET: "grants-subscription-secret-0123456789abcdef",
    FACTORY_API_URL: factory.url,
    FACTORY_CALLBACK_SECRET: "grants-callback-secret-0123456789abcdef",
    PUBLIC_API_URL: gateway.url,
    RESTOCK_SLA_SECONDS: "1",
    RESTOCK_PENDING_SECONDS: "1",
  });
  await closeDatabase();
});
afterAll(async () => {
  await gateway?.close();
  await factory?.close();
  await closeDatabase();
  await proxy?.close();
  await fixture?.close();
});

/** Run `work` as function `name`: what reaches the server meanwhile is that function's. */
async function as(name: string, work: () => Promise<unknown>): Promise<void> {
  current = [];
  try {
    await work();
  } finally {
    (issued[name] ??= []).push(...current);
    current = undefined;
  }
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const requestOf = async (sku: string) =>
  (await fixture.database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku)))[0];

/** A restock request as the database has it after the sale that opened it, as root. */
async function openRequest(sku: string, status: "pending" | "requested", ageSeconds = 0): Promise<string> {
  await seedProducts(fixture.database.db, [{ sku, stock: 0 }]);
  const [product] = await fixture.database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku));
  const id = ulid();
  await fixture.database.db
    .insert(Restock.restockRequestTable)
    .values({ id, productId: product.id, sku, factoryId: TEST_FACTORY.id, quantity: 12, status, attempts: status === "pending" ? 0 : 1 });
  const past = sql`DATE_SUB(NOW(3), INTERVAL ${ageSeconds} SECOND)`;
  await fixture.database.db.execute(
    sql`UPDATE restock_request SET created_at = ${past}, updated_at = ${past}, requested_at = ${status === "requested" ? past : null} WHERE id = ${id}`,
  );
  return id;
}

/** The factory queue's record for a request's OutOfStock, received `receives` times. */
function factoryRecord(restockId: string, sku: string, receives = 1) {
  return toSqsRecord(
    {
      MessageId: ulid(),
      ReceiptHandle: ulid(),
      Body: JSON.stringify(outOfStockEnvelope(restockId, sku, 12)),
      Attributes: { ApproximateReceiveCount: String(receives) },
    },
    fixture.topology!.factoryQueueArn,
    "ap-northeast-2",
  );
}

const run = async (reference: string, event: unknown) => (await loadHandler(reference))(event, lambdaContext("grants", 60_000));

it("every function's statements are within the application user's grants; the smallest grants are printed", async () => {
  await seedProducts(fixture.database.db, [
    { sku: "GR-1", stock: 2, restockQuantity: 10 },
    { sku: "GR-2", stock: 1, restockQuantity: 10 },
  ]);

  // The Sales API.
  await as("listProducts", () => call("GET", "/products"));
  await as("getProduct", async () => {
    expect((await call("GET", "/products/GR-1")).status).toBe(200);
    expect((await call("GET", "/products/GR-404")).status).toBe(404);
  });
  await as("createOrder", async () => {
    expect((await call("POST", "/orders", { sku: "GR-1", quantity: 1 }, { "idempotency-key": "grants-order-1" })).status).toBe(201);
    expect((await call("POST", "/orders", { sku: "GR-1", quantity: 1 }, { "idempotency-key": "grants-order-1" })).status).toBe(201);
    // The last unit opens a restock request; then the procedure's refusal and the fast path's.
    expect((await call("POST", "/orders", { sku: "GR-1", quantity: 1 })).status).toBe(201);
    expect((await call("POST", "/orders", { sku: "GR-1", quantity: 1 })).status).toBe(409);
    expect((await call("POST", "/orders", { sku: "GR-1", quantity: 1 })).status).toBe(409);
    expect((await call("POST", "/orders", { sku: "GR-404", quantity: 1 })).status).toBe(404);
    // With the bus down, the OutOfStock event stays in the outbox (the attempt is recorded).
    fixture.eventBridge!.setAvailable(false);
    expect((await call("POST", "/orders", { sku: "GR-2", quantity: 1 })).status).toBe(201);
    fixture.eventBridge!.setAvailable(true);
  });
  // Back-in-stock: a new subscription (its mail enqueued), the same again (cool-down), another
  // product; then its links: confirm, the unsubscribe page, the one-click unsubscribe.
  await as("subscribeBackInStock", async () => {
    expect((await call("POST", "/products/GR-1/subscriptions", { email: "grants@example.com" })).status).toBe(202);
    expect((await call("POST", "/products/GR-1/subscriptions", { email: "grants@example.com" })).status).toBe(202);
    expect((await call("POST", "/products/GR-2/subscriptions", { email: "grants@example.com" })).status).toBe(202);
  });
  const [subscription] = await fixture.database.db
    .select()
    .from(Subscription.subscriptionTable)
    .where(eq(Subscription.subscriptionTable.email, "grants@example.com"));
  const unsubscribeLink = await Subscription.unsubscribeLink(subscription.id);
  await as("confirmSubscription", async () => expect((await fetch(await Subscription.confirmLink(subscription.id))).status).toBe(200));
  await as("unsubscribePage", async () => expect((await fetch(unsubscribeLink)).status).toBe(200));
  await as("unsubscribe", async () => {
    const oneClick = {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    };
    expect((await fetch(unsubscribeLink, oneClick)).status).toBe(200);
  });
  await as("fallback", async () => expect((await call("GET", "/no-such-route")).status).toBe(404));

  // Housekeeping: something to expire, to delete and to forget.
  await fixture.database.db.execute(
    sql`UPDATE subscription SET requested_at = requested_at - INTERVAL 3 DAY, ended_at = ended_at - INTERVAL 30 DAY`,
  );
  await fixture.database.db.execute(sql`UPDATE subscription_address SET confirmation_mailed_at = NULL`);
  await as("housekeeping", () => run(functions.housekeeping.handler, {}));

  // The outbox relay publishes what the bus refused.
  await as("outboxRelay", () => run(functions.outboxRelay.handler, {}));

  // The factory caller: accepted, then failing (and failing for the last time).
  const accepted = (await requestOf("GR-1")).id;
  await as("factoryCaller", async () => {
    expect(await run(functions.factoryCaller.handler, { Records: [factoryRecord(accepted, "GR-1")] })).toEqual({ batchItemFailures: [] });
    factory.setOptions({ failureRate: 1 });
    const failing = (await requestOf("GR-2")).id;
    await run(functions.factoryCaller.handler, { Records: [factoryRecord(failing, "GR-2", 1)] });
    await run(functions.factoryCaller.handler, { Records: [factoryRecord(failing, "GR-2", 5)] });
    factory.setOptions({ failureRate: 0 });
  });
  expect((await requestOf("GR-2")).status).toBe("failed");

  // The factory calls back (its request holds the callback URL), twice.
  const [manufacture] = factory.requests.filter((request) => request.outcome === "accepted");
  const callbackUrl = (manufacture.body as { CallbackUrl: string }).CallbackUrl;
  await as("factoryCallback", async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await fetch(callbackUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(manufacture.body),
      });
      expect(answer.status).toBe(200);
    }
  });
  expect((await requestOf("GR-1")).status).toBe("fulfilled");

  // The back-in-stock notifier reads no table.
  await as("backInStockNotifier", () =>
    run(
      functions.backInStockNotifier.handler,
      restockEnvelope("RestockFulfilled", {
        restockId: accepted,
        sku: "GR-1",
        name: "GR-1",
        quantity: 10,
        stock: 10,
        occurredAt: new Date().toISOString(),
      }),
    ),
  );

  // The watchdog: an overdue request, a failed one (GR-2), a stuck pending one, a product sold out without a request.
  await openRequest("GR-3", "requested", 3600);
  await openRequest("GR-4", "pending", 3600);
  await seedProducts(fixture.database.db, [{ sku: "GR-5", stock: 0 }]);
  await as("restockWatchdog", () => run(functions.restockWatchdog.handler, {}));

  // The DLQ alarm's follow-up: a pending request whose message is in the DLQ.
  const deadLettered = await openRequest("GR-6", "pending");
  await fixture.sqs!.send(
    new SendMessageCommand({
      QueueUrl: fixture.topology!.dlqUrl,
      MessageBody: JSON.stringify(outOfStockEnvelope(deadLettered, "GR-6", 12)),
    }),
  );
  await as("dlqFollowUp", () =>
    run(functions.dlqFollowUp.handler, {
      version: "0",
      id: ulid(),
      "detail-type": "CloudWatch Alarm State Change",
      source: "aws.cloudwatch",
      account: "123456789012",
      time: new Date().toISOString(),
      region: "ap-northeast-2",
      resources: ["arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:factory-dlq-not-empty"],
      detail: {
        alarmName: "factory-dlq-not-empty",
        state: { value: "ALARM", reason: "Threshold Crossed", timestamp: new Date().toISOString() },
        previousState: { value: "OK", reason: "", timestamp: new Date().toISOString() },
      },
    }),
  );

  // The admin API, through the ops CLI (each command one route).
  const ops = async (...args: string[]) => {
    const result = await fixture.ops(...args);
    expect(result.code, `${args.join(" ")}: ${result.err}`).toBe(0);
  };
  await as("GET /admin/products", () => ops("stock"));
  await as("POST /admin/products", () =>
    ops("product", "create", "GR-9", "--name", "Grant Glazed", "--price", "100", "--factory", TEST_FACTORY.id),
  );
  await as("PATCH /admin/products/{sku}", () => ops("product", "update", "GR-9", "--price", "200"));
  await as("PUT /admin/products/{sku}/stock", () => ops("stock", "set", "GR-9", "3", "--expect", "0", "--reason", "count"));
  await as("GET /admin/products/{sku}/stock", () => ops("stock", "history", "GR-9"));
  await as("POST /admin/products/{sku}/restock", () => ops("restock", "open", "GR-5"));
  await as("GET /admin/restocks", () => ops("restock", "list"));
  await as("POST /admin/restocks/{restockId}/re-request", async () => ops("restock", "re-request", (await requestOf("GR-2")).id));
  await as("GET /admin/outbox", () => ops("outbox", "pending"));
  await as("GET /admin/dlq", () => ops("dlq", "depth"));

  // Every function that uses the database sent statements; the others none.
  for (const name of [...FUNCTIONS_WITH_THE_DATABASE, ...Object.keys(adminRoutes).filter((route) => route !== "GET /admin/dlq")])
    expect(issued[name]?.length, name).toBeGreaterThan(0);
  for (const name of FUNCTIONS_WITHOUT) expect(issued[name], name).toEqual([]);

  // place_order runs with the caller's rights (SQL SECURITY INVOKER): its statements count as the caller's.
  const [routines] = (await fixture.database.db.execute(
    sql`SELECT ROUTINE_NAME AS name, SECURITY_TYPE AS security, ROUTINE_DEFINITION AS body FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${fixture.database.name}`,
  )) as unknown as [Array<{ name: string; security: string; body: string }>];
  const definitions = Object.fromEntries(
    routines.map((routine) => [routine.name, { invoker: routine.security === "INVOKER", body: routine.body }]),
  );
  expect(Object.keys(definitions)).toEqual(["place_order"]);
  expect(definitions.place_order.invoker).toBe(true);
  const needs: Record<string, Grants> = Object.fromEntries(
    Object.entries(issued).map(([name, statements]) => [name, grantsFor(statements, definitions)]),
  );
  const procedures = Object.keys(definitions);
  const known = new Set([...applicationTables(), ...procedures]);
  for (const [name, grants] of Object.entries(needs))
    expect(
      Object.keys(grants).filter((object) => !known.has(object)),
      name,
    ).toEqual([]);

  // Today's grants (app-user.ts): DML on every table, EXECUTE on every procedure.
  const granted: Grants = {
    ...Object.fromEntries(applicationTables().map((table) => [table, [...APPLICATION_PRIVILEGES]])),
    ...Object.fromEntries(procedures.map((procedure) => [procedure, ["EXECUTE" as const]])),
  };
  for (const [name, grants] of Object.entries(needs)) expect(beyond(grants, granted), name).toEqual({});

  const admin = Object.keys(needs).filter((name) => name.includes("/admin/"));
  const publicSide = unionOf(
    ...Object.keys(needs)
      .filter((name) => !admin.includes(name))
      .map((name) => needs[name]),
  );
  const adminSide = unionOf(...admin.map((name) => needs[name]));
  const lines = [
    "Smallest grants, per function (object: privileges):",
    ...Object.entries(needs).map(([name, grants]) => `  ${name.padEnd(44)} ${listed(grants)}`),
    `Public functions together: ${listed(publicSide)}`,
    `Admin functions together: ${listed(adminSide)}`,
    `Admin beyond public: ${listed(beyond(adminSide, publicSide)) || "nothing"}`,
    `Granted today but never needed: ${listed(beyond(granted, unionOf(publicSide, adminSide))) || "nothing"}`,
  ];
  console.info(lines.join("\n"));
}, 300_000);

function listed(grants: Grants): string {
  return Object.entries(grants)
    .map(([object, privileges]) => `${object} ${privileges.join("/")}`)
    .join("; ");
}
