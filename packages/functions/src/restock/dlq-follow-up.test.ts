import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { testTopic, topicInbox } from "@donut-states/emulators/testing";
import { eq, sql } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handler } from "./dlq-follow-up";

const REGION = "ap-northeast-2";
const ALARM_NAME = "test-donut-states-factory-dlq-not-empty";
let database: TestDatabase;
let emulator: SqsSnsEmulator;
let inbox: Awaited<ReturnType<typeof topicInbox>>;
const receiveAlerts = () => inbox.receive();
let dlqUrl: string;

beforeAll(async () => {
  database = await createTestDatabase("dlq_follow_up");
  emulator = await startSqsSns({ port: 0, region: REGION });
  const TopicArn = await testTopic(emulator.sns, "follow-up-alerts");
  // The topic's mail, read as an SQS subscriber gets it (the SNS envelope keeps the subject).
  inbox = await topicInbox(emulator, TopicArn);
  dlqUrl = (await emulator.sqs.send(new CreateQueueCommand({ QueueName: "follow-up-dlq" }))).QueueUrl!;
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SNS: emulator.endpoint,
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    ALERTS_TOPIC_ARN: TopicArn,
    FACTORY_DLQ_URL: dlqUrl,
    SST_STAGE: "prod",
  });
});
afterAll(async () => {
  delete process.env.SST_STAGE;
  await emulator?.close();
  await database?.drop();
});
beforeEach(async () => {
  await database.db.delete(Restock.restockRequestTable);
  await database.db.delete(Product.productTable);
  await emulator.sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
  await receiveAlerts();
});

/** CloudWatch's event for the DLQ alarm entering `state`, as the rule delivers it. */
function alarmEvent(state: "ALARM" | "OK") {
  return {
    version: "0",
    id: ulid(),
    "detail-type": "CloudWatch Alarm State Change",
    source: "aws.cloudwatch",
    account: "123456789012",
    time: "2026-12-02T13:00:00Z",
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:123456789012:alarm:${ALARM_NAME}`],
    detail: {
      alarmName: ALARM_NAME,
      state: { value: state, reason: "Threshold Crossed", timestamp: "2026-12-02T13:00:00.000+0000" },
      previousState: { value: state === "ALARM" ? "OK" : "ALARM", reason: "", timestamp: "2026-12-02T12:00:00.000+0000" },
      configuration: { metrics: [] },
    },
  };
}
const followUp = (state: "ALARM" | "OK" = "ALARM") => handler(alarmEvent(state) as never, {} as never, () => {}) as Promise<void>;

/** A restock request in `status`, with its OutOfStock message in the DLQ. */
async function deadLettered(
  sku: string,
  status: "pending" | "requested" | "failed",
  { leaseSeconds, lastError, eventBridgeError }: { leaseSeconds?: number; lastError?: string; eventBridgeError?: string } = {},
) {
  await seedProducts(database.db, [{ sku, stock: 0, restockQuantity: 12 }]);
  const [product] = await database.db.select().from(Product.productTable).where(eq(Product.productTable.sku, sku));
  const id = ulid();
  await database.db.insert(Restock.restockRequestTable).values({
    id,
    productId: product.id,
    sku,
    factoryId: product.factoryId,
    quantity: 12,
    status,
    attempts: 5,
    lastError: lastError ?? "Factory API answered 500: boom",
    ...(status === "failed" ? { failedAt: sql`DATE_SUB(NOW(3), INTERVAL 1 HOUR)` } : {}),
    ...(leaseSeconds ? { leaseUntil: sql`DATE_ADD(NOW(3), INTERVAL ${leaseSeconds} SECOND)` } : {}),
  });
  await sendToDlq({ restockId: id, sku, quantity: 12 }, eventBridgeError);
  return id;
}

async function sendToDlq(detail: Record<string, unknown>, eventBridgeError?: string) {
  const body = JSON.stringify({ version: "0", id: ulid(), "detail-type": "OutOfStock", source: "donut-states.sales", detail });
  await emulator.sqs.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: body,
      MessageAttributes: eventBridgeError ? { ERROR_CODE: { DataType: "String", StringValue: eventBridgeError } } : undefined,
    }),
  );
}

const statusOf = async (id: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.id, id)))[0];
const dlqVisible = async () =>
  Number(
    (await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"] })))
      .Attributes!.ApproximateNumberOfMessages,
  );

describe("DLQ alarm follow-up", () => {
  it("marks each pending request in the DLQ failed, leaves the others as they are, and e-mails them with the commands", async () => {
    const stranded = await deadLettered("DLQ-PENDING", "pending");
    const failed = await deadLettered("DLQ-FAILED", "failed", { lastError: "Factory API 10.0.0.1 failed: no answer within 10000 ms" });
    const requested = await deadLettered("DLQ-REQUESTED", "requested");
    const busy = await deadLettered("DLQ-BUSY", "pending", { leaseSeconds: 300 });
    const undelivered = await deadLettered("DLQ-EVENTBRIDGE", "pending", { eventBridgeError: "SQS.QueueDoesNotExist" });
    await sendToDlq({ restockId: "01J0000000000000000000GONE", sku: "DLQ-GONE", quantity: 1 });
    const failedBefore = (await statusOf(failed)).failedAt;

    await followUp();

    expect((await statusOf(stranded)).status).toBe("failed");
    expect((await statusOf(stranded)).failedAt).toBeInstanceOf(Date);
    expect((await statusOf(failed)).failedAt).toEqual(failedBefore);
    expect((await statusOf(requested)).status).toBe("requested");
    expect((await statusOf(busy)).status).toBe("pending");
    expect((await statusOf(undelivered)).status).toBe("failed");
    // EventBridge's error is why it never reached the factory: it becomes the request's last error.
    expect((await statusOf(undelivered)).lastError).toBe(
      "EventBridge could not deliver the event to the factory queue: SQS.QueueDoesNotExist",
    );
    // Nothing consumed: every message is still there, visible, for the redrive.
    expect(await dlqVisible()).toBe(6);

    const [mail, ...more] = await receiveAlerts();
    expect(more).toEqual([]);
    expect(mail.subject).toBe("Restock DLQ: 6 restock requests not delivered to the factory");
    const text = mail.message;
    expect(text).toContain(`The alarm "${ALARM_NAME}" went to ALARM at 2026-12-02T13:00:00.000+0000.`);
    for (const id of [stranded, failed, requested, busy, undelivered]) expect(text).toContain(`Restock request ${id}`);
    expect(text).toMatch(
      new RegExp(
        `${stranded}\\n   SKU:         DLQ-PENDING\\n   Quantity:    12\\n   Attempts:    5 factory call\\(s\\)\\n   Last error:  Factory API answered 500: boom\\n   Status:      failed \\(marked failed now`,
      ),
    );
    expect(text).toContain("Last error:  Factory API 10.0.0.1 failed: no answer within 10000 ms");
    expect(text).toContain("Status:      requested");
    expect(text).toContain("EventBridge never delivered it to the factory queue");
    expect(text).toContain("Restock request 01J0000000000000000000GONE\n   Not in the database");
    // The commands, for the function's stage.
    expect(text).toContain("  npm run ops -- --stage prod dlq peek\n");
    expect(text).toContain("  npm run ops -- --stage prod restock list --status failed\n");
    expect(text).toContain("  npm run ops -- --stage prod dlq redrive --max 1\n");
    expect(text).toContain("Runbook: docs/runbook.md#dlq-alarm");
  });

  it("is idempotent: a second run (Lambda's retry) changes nothing and names the same requests", async () => {
    const stranded = await deadLettered("DLQ-TWICE", "pending");
    await followUp();
    const first = await statusOf(stranded);
    await followUp();
    expect(await statusOf(stranded)).toEqual(first);
    const mails = await receiveAlerts();
    expect(mails).toHaveLength(2);
    expect(mails[1].subject).toBe(`Restock DLQ: ${stranded} (DLQ-TWICE) not delivered to the factory`);
    expect(mails[1].message).toContain("Status:      failed\n");
    expect(await dlqVisible()).toBe(1);
  });

  it("names a message that is not a restock event, and sends nothing when the DLQ is empty again", async () => {
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: "not json" }));
    await followUp();
    const [mail] = await receiveAlerts();
    expect(mail.message).toMatch(/- DLQ message \S+ names no restock request: not json/);

    await emulator.sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
    await followUp();
    expect(await receiveAlerts()).toEqual([]);
  });

  it("does nothing on the alarm's way back to OK, and refuses an event that is not an alarm state change", async () => {
    const stranded = await deadLettered("DLQ-OK", "pending");
    await followUp("OK");
    expect((await statusOf(stranded)).status).toBe("pending");
    expect(await receiveAlerts()).toEqual([]);
    await expect(
      handler(
        { ...alarmEvent("ALARM"), source: "donut-states.sales", "detail-type": "OutOfStock" } as never,
        {} as never,
        () => {},
      ) as Promise<void>,
    ).rejects.toThrow(/is OutOfStock from donut-states\.sales; expected CloudWatch Alarm State Change from aws\.cloudwatch/);
  });
});
