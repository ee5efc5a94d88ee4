import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { testTopic, topicInbox } from "@donut-states/emulators/testing";
import { type SwitchableProxy, startSwitchableProxy } from "@donut-states/local/testing/switchable-proxy";
import { eq, sql } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handler } from "./watchdog";

const REGION = "ap-northeast-2";
let database: TestDatabase;
let emulator: SqsSnsEmulator;
let snsEndpoint: SwitchableProxy;
let inbox: Awaited<ReturnType<typeof topicInbox>>;
const receiveAlerts = () => inbox.receive();
let dlqUrl: string;

beforeAll(async () => {
  database = await createTestDatabase("watchdog");
  emulator = await startSqsSns({ port: 0, region: REGION });
  // The watchdog reaches SNS through this proxy, which a test can make refuse connections.
  snsEndpoint = await startSwitchableProxy(emulator.endpoint);
  const TopicArn = await testTopic(emulator.sns, "watchdog-alerts");
  // The topic's e-mail, read as an SQS subscriber gets it (the SNS envelope keeps the subject).
  inbox = await topicInbox(emulator, TopicArn);
  dlqUrl = (await emulator.sqs.send(new CreateQueueCommand({ QueueName: "watchdog-factory-dlq" }))).QueueUrl!;
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SNS: snsEndpoint.url,
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    FACTORY_DLQ_URL: dlqUrl,
    ALERTS_TOPIC_ARN: TopicArn,
    RESTOCK_SLA_SECONDS: "60",
    RESTOCK_PENDING_SECONDS: "30",
  });
});
afterAll(async () => {
  await snsEndpoint?.close();
  await emulator?.close();
  await database?.drop();
});
beforeEach(async () => {
  // Each test starts from a clean slate: no requests, no products, nothing reported.
  await database.db.delete(Restock.restockAlertTable);
  await database.db.delete(Restock.restockRequestTable);
  await database.db.delete(Product.productTable);
  await receiveAlerts();
  await emulator.sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
  snsEndpoint.setAvailable(true);
});

/** Every alert published since the last call: subject and body. */
const runWatchdog = () => handler({} as never, {} as never, () => {}) as Promise<void>;

/** A restock request in the given state, `ageSeconds` old (its timestamps moved back). */
async function request(sku: string, status: "pending" | "requested" | "failed", ageSeconds: number) {
  await seedProducts(database.db, [{ sku, stock: 0 }]);
  const [product] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku));
  const id = ulid();
  const past = sql`DATE_SUB(NOW(3), INTERVAL ${ageSeconds} SECOND)`;
  await database.db
    .insert(Restock.restockRequestTable)
    .values({ id, productId: product.id, sku, factoryId: product.factoryId, quantity: 50, status, attempts: status === "pending" ? 0 : 5 });
  // Straight SQL, so drizzle's $onUpdate does not reset updated_at to now.
  await database.db.execute(
    sql`UPDATE restock_request SET created_at = ${past}, updated_at = ${past}, requested_at = ${status === "requested" ? past : null}, failed_at = ${status === "failed" ? past : null}, last_error = ${status === "failed" ? "Factory API answered 500" : null} WHERE id = ${id}`,
  );
  return id;
}

describe("restock watchdog", () => {
  it("e-mails a failed request once, with the command that re-requests it, even with no DLQ message anywhere", async () => {
    const id = await request("WD-FAILED", "failed", 5);
    await runWatchdog();
    const alerts = await receiveAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toBe("Restock failed: 1 request(s) not delivered to the factory");
    expect(alerts[0].message).toContain(`${id}  WD-FAILED`);
    expect(alerts[0].message).toContain(`npm run ops -- restock re-request ${id}`);
    expect(alerts[0].message).toContain("Factory API answered 500");

    await runWatchdog();
    expect(await receiveAlerts()).toEqual([]);

    // Re-requested, it is forgotten: if it fails again, that is news again.
    await Restock.reRequest(id);
    await database.db.update(Restock.restockRequestTable).set({ status: "failed" }).where(eq(Restock.restockRequestTable.id, id));
    await runWatchdog();
    expect((await receiveAlerts()).map((alert) => alert.subject)).toEqual(["Restock failed: 1 request(s) not delivered to the factory"]);
  });

  it("names the deployed stage in every command, so the operator runs it against the stage that alerted", async () => {
    const id = await request("WD-STAGE", "failed", 5);
    process.env.SST_STAGE = "prod";
    try {
      await runWatchdog();
    } finally {
      delete process.env.SST_STAGE;
    }
    const [alert] = await receiveAlerts();
    expect(alert?.message).toContain(`npm run ops -- --stage prod restock re-request ${id}`);
  });

  it("sends an alert on the next run when SNS refused it: a report is remembered only once published", async () => {
    const id = await request("WD-OVERDUE", "requested", 120);
    snsEndpoint.setAvailable(false);
    await expect(runWatchdog()).rejects.toThrow();
    expect(await receiveAlerts()).toEqual([]);

    snsEndpoint.setAvailable(true);
    await runWatchdog();
    const alerts = await receiveAlerts();
    expect(alerts.map((alert) => alert.subject)).toEqual(["Restock overdue: 1 request(s) without factory callback"]);
    expect(alerts[0].message).toContain(`npm run ops -- restock re-request ${id}`);
    await runWatchdog();
    expect(await receiveAlerts()).toEqual([]);
  });

  it("e-mails a pending request nothing has touched past RESTOCK_PENDING_SECONDS, and leaves a young one alone", async () => {
    const stuck = await request("WD-STUCK", "pending", 45);
    await request("WD-YOUNG", "pending", 1);
    await runWatchdog();
    const alerts = await receiveAlerts();
    expect(alerts.map((alert) => alert.subject)).toEqual(["Restock stuck: 1 request(s) pending without progress"]);
    expect(alerts[0].message).toContain(`npm run ops -- restock re-request ${stuck}`);
    expect(alerts[0].message).not.toContain("WD-YOUNG");
  });

  it("marks a stuck pending request whose message is in the DLQ failed, and e-mails it as failed, not as stuck", async () => {
    // Its last delivery met a database outage: the failure was never recorded, and the DLQ alarm
    // may already have been in ALARM (no new state change, no follow-up). The watchdog looks.
    const inDlq = await request("WD-IN-DLQ", "pending", 45);
    const lost = await request("WD-LOST", "pending", 45);
    const event = { source: "donut-states.sales", "detail-type": "OutOfStock", detail: { restockId: inDlq, sku: "WD-IN-DLQ" } };
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(event) }));

    await runWatchdog();
    const alerts = await receiveAlerts();
    expect(alerts.map((alert) => alert.subject).sort()).toEqual([
      "Restock failed: 1 request(s) not delivered to the factory",
      "Restock stuck: 1 request(s) pending without progress",
    ]);
    expect(alerts.find((alert) => alert.subject.startsWith("Restock failed"))!.message).toContain(inDlq);
    expect(alerts.find((alert) => alert.subject.startsWith("Restock stuck"))!.message).toContain(lost);
    const statuses = await database.db
      .select({ id: Restock.restockRequestTable.id, status: Restock.restockRequestTable.status })
      .from(Restock.restockRequestTable);
    expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({ [inDlq]: "failed", [lost]: "pending" });
    // Peeked, not consumed: the message stays for the redrive.
    const { Attributes } = await emulator.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe("1");

    await runWatchdog();
    expect(await receiveAlerts()).toEqual([]);
  });

  it("still reports a stuck request as stuck when the DLQ cannot be read", async () => {
    const stuck = await request("WD-NO-DLQ", "pending", 45);
    const dlq = process.env.FACTORY_DLQ_URL;
    process.env.FACTORY_DLQ_URL = `${dlq}-that-does-not-exist`;
    try {
      await runWatchdog();
    } finally {
      process.env.FACTORY_DLQ_URL = dlq;
    }
    const alerts = await receiveAlerts();
    expect(alerts.map((alert) => alert.subject)).toEqual(["Restock stuck: 1 request(s) pending without progress"]);
    expect(alerts[0].message).toContain(stuck);
  });

  it("e-mails a product at stock 0 with no open restock request, with the command that opens one", async () => {
    await seedProducts(database.db, [
      { sku: "WD-ZERO", stock: 0 },
      { sku: "WD-STOCKED", stock: 3 },
    ]);
    await request("WD-COVERED", "requested", 1);
    await runWatchdog();
    const alerts = await receiveAlerts();
    expect(alerts.map((alert) => alert.subject)).toEqual(["Sold out without restock: 1 product(s)"]);
    expect(alerts[0].message).toContain("npm run ops -- restock open WD-ZERO");

    // Opening the request clears it; nothing more to say.
    const opened = await Restock.openFor("WD-ZERO");
    expect(opened).toMatchObject({ sku: "WD-ZERO", status: "pending", opened: true });
    await runWatchdog();
    expect(await receiveAlerts()).toEqual([]);
  });

  it("says nothing when nothing needs attention", async () => {
    await seedProducts(database.db, [{ sku: "WD-FINE", stock: 10 }]);
    await request("WD-FRESH", "requested", 1);
    await runWatchdog();
    expect(await receiveAlerts()).toEqual([]);
  });
});
