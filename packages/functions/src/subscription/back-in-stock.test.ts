import { backInStockTopic } from "@donut-states/core/topology";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { testTopic, topicInbox } from "@donut-states/emulators/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler } from "./back-in-stock";

/**
 * The notifier against the SNS emulator: one publish per restock, with the SKU attribute the
 * topic's subscribers can filter on. Each subscriber here is an SQS queue whose filter policy
 * names one SKU.
 */
const REGION = "ap-northeast-2";
let emulator: SqsSnsEmulator;
let topicArn: string;

beforeAll(async () => {
  emulator = await startSqsSns({ port: 0, region: REGION });
  topicArn = await testTopic(emulator.sns, "back-in-stock-notifier");
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SNS: emulator.endpoint,
    BACK_IN_STOCK_TOPIC_ARN: topicArn,
  });
});
afterAll(async () => {
  await emulator?.close();
});

/** A subscriber of `sku`'s notices: an SQS queue whose filter policy names that SKU. */
const subscriber = async (sku: string) => (await topicInbox(emulator, topicArn, { [backInStockTopic.skuAttribute]: [sku] })).receive;

const restockFulfilled = (detail: Record<string, unknown>) => ({
  version: "0",
  id: "5f3c2f0e-0000-4000-8000-000000000001",
  "detail-type": "RestockFulfilled",
  source: "donut-states.sales",
  account: "000000000000",
  time: "2026-12-02T09:00:00Z",
  region: REGION,
  resources: [],
  detail,
});

describe("back-in-stock notifier", () => {
  it("publishes one readable notice that reaches the restocked SKU's subscribers only", async () => {
    const waitingForTwist = await subscriber("CP-502104");
    const waitingForBusan = await subscriber("CP-502101");
    await handler(
      restockFulfilled({
        restockId: "01JREST0CK0000000000000001",
        sku: "CP-502104",
        name: "Injeolmi Twist",
        quantity: 30,
        stock: 30,
        occurredAt: "2026-12-02T09:00:00.000Z",
      }),
      {} as never,
      () => {},
    );
    const [notice, ...more] = await waitingForTwist();
    expect(more).toEqual([]);
    expect(notice.subject).toBe("Back in stock: CP-502104");
    expect(notice.attributes).toEqual({ sku: "CP-502104" });
    expect(notice.message).toBe(
      [
        "Good news: Injeolmi Twist (CP-502104) is back in stock.",
        "",
        '30 are available right now. Order with POST /orders {"sku": "CP-502104", "quantity": 1}.',
        "",
        "You get this mail because you asked to hear when CP-502104 is back. It is the one mail we send about it: your request ends here.",
      ].join("\n"),
    );
    // fauxqs applies the filter policy while publishing: the other SKU's queue got nothing.
    expect(await waitingForBusan()).toEqual([]);
  });

  it("refuses an event that is not a valid RestockFulfilled (Lambda retries, then drops it) and publishes nothing", async () => {
    const waiting = await subscriber("CP-999");
    await expect(handler(restockFulfilled({ sku: "CP-999" }), {} as never, () => {})).rejects.toThrow(
      /\(RestockFulfilled\) has an invalid detail: restockId: /,
    );
    expect(await waiting()).toEqual([]);
  });
});
