import * as Restock from "@donut-states/core/restock";
import { seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { queueDepth } from "@donut-states/core/util/sqs";
import { readMailbox } from "@donut-states/emulators/mail";
import { waitFor as waitUntil } from "@donut-states/emulators/testing";
import type { OfflineStack } from "@donut-states/local/stack";
import { startTestStack, type TestStack } from "@donut-states/local/testing/offline-stack";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The DLQ alarm's follow-up, end to end through the offline stack: the alarm's state change goes
 * to the event bus, its rule runs the follow-up function, which marks what it finds in the DLQ
 * failed and e-mails operations what failed and what to run.
 *
 * The alarm evaluates only when the test asks (evaluateNow), so the state before the alarm can
 * be checked without racing it.
 */

let database: TestDatabase;
let testStack: TestStack;
let stack: OfflineStack;
const NOWHERE = "mysql://root@127.0.0.1:9/nowhere"; // nothing listens on port 9

beforeAll(async () => {
  testStack = await startTestStack("dlq_follow_up", {
    // Deliveries fail fast here (the factory answers 500, or the database refuses): 4 s of
    // visibility is several times what one needs even on a saturated machine.
    QUEUE_VISIBILITY_TIMEOUT_SECONDS: 4,
    FACTORY_TIMEOUT_MS: 2000,
    WATCHDOG_INTERVAL_MS: 60 * 60 * 1000,
    ALARM_INTERVAL_MS: 60 * 60 * 1000,
    factoryOptions: { port: 0, delayMs: 100, failureRate: 1, timeoutRate: 0, callback: "once" },
  });
  ({ stack, database } = testStack);
});

afterAll(() => testStack?.stop());

const waitFor = <T>(what: string, probe: () => Promise<T> | T, timeoutMs = 120_000) => waitUntil(what, probe, timeoutMs);
const requestFor = async (sku: string) =>
  (await database.db.select().from(Restock.restockRequestTable).where(eq(Restock.restockRequestTable.sku, sku)))[0];

describe("DLQ alarm follow-up", { timeout: 300_000 }, () => {
  it("marks a request failed whose last delivery met a database outage, and e-mails what failed and what to run", async () => {
    const realUrl = process.env.DATABASE_URL!;
    await seedProducts(database.db, [{ sku: "E2E-DLQDB", stock: 0, restockQuantity: 7 }]);
    try {
      const response = await fetch(`${stack.apiUrl}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sku: "E2E-DLQDB", quantity: 1 }),
      });
      expect(response.status).toBe(409);
      // The factory refuses the first call and that is recorded; then the database goes away, so
      // every later delivery (the last one included) fails without recording anything.
      await waitFor("the first factory failure recorded", async () => (await requestFor("E2E-DLQDB"))?.lastError);
      process.env.DATABASE_URL = NOWHERE;
      await waitFor("the message in the DLQ", async () => (await queueDepth(stack.aws.sqs, stack.topology.dlqUrl)).visible >= 1);
      process.env.DATABASE_URL = realUrl;

      // The defect this follow-up exists for: nobody marked it failed, its message is in the DLQ.
      const stranded = await requestFor("E2E-DLQDB");
      expect(stranded.status).toBe("pending");
      expect(stranded.lastError).toMatch(/500/);

      expect(await stack.alarm.evaluateNow()).toBe("ALARM");
      await waitFor("the request marked failed", async () => (await requestFor("E2E-DLQDB")).status === "failed");
      const failed = await requestFor("E2E-DLQDB");
      expect(failed.failedAt).toBeInstanceOf(Date);
      expect(failed.lastError).toBe(stranded.lastError);
      // Its message stays in the DLQ for the redrive: the follow-up only looked.
      expect((await queueDepth(stack.aws.sqs, stack.topology.dlqUrl)).visible).toBe(1);

      const mails = await waitFor("the alarm mail and its follow-up", async () => {
        const all = await readMailbox(stack.mailDir!);
        const alarm = all.find((mail) => mail.subject.startsWith("ALARM:"));
        const followUp = all.find((mail) => mail.text.includes(failed.id) && !mail.subject.startsWith("ALARM:"));
        return alarm && followUp ? { alarm, followUp } : undefined;
      });
      // The alarm reads as AWS e-mails it, not as JSON.
      expect(mails.alarm.text).toMatch(
        /^You are receiving this email because your Amazon CloudWatch Alarm "factory-dlq-not-empty" in the .* region has entered the ALARM state, because "Threshold Crossed: /,
      );
      expect(mails.alarm.text).toContain("- State Change:               INSUFFICIENT_DATA -> ALARM");
      expect(mails.alarm.text).toContain(`[QueueName = ${stack.topology.dlqName}]`);
      expect(mails.alarm.text).not.toContain('"AlarmName"');
      // The follow-up names the request, its SKU, quantity, attempts and last error, and the commands.
      const text = mails.followUp.text;
      expect(text).toContain(failed.id);
      expect(text).toContain("E2E-DLQDB");
      expect(text).toMatch(/Quantity:\s+7/);
      expect(text).toMatch(new RegExp(`Attempts:\\s+${failed.attempts} factory call`));
      expect(text).toContain(failed.lastError!);
      expect(text).toContain("npm run ops -- dlq peek");
      expect(text).toContain("npm run ops -- dlq redrive");
      expect(text).not.toContain("--stage");
    } finally {
      process.env.DATABASE_URL = realUrl;
    }
  });
});
