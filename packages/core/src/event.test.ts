import { describe, expect, it } from "vitest";
import { BusEventError, Events, parseBusEvent } from "./event";

const detail = {
  restockId: "01JREST0CK0000000000000001",
  sku: "CP-502104",
  quantity: 30,
  factoryId: "FF-500293",
  occurredAt: "2026-12-02T09:00:00.000Z",
};
const envelope = {
  version: "0",
  id: "5f3c2f0e-0000-4000-8000-000000000001",
  "detail-type": "OutOfStock",
  source: "donut-states.sales",
  account: "000000000000",
  time: "2026-12-02T09:00:00Z",
  region: "ap-northeast-2",
  resources: [],
  detail,
};

/** The error parseBusEvent throws for `raw`, expected to be an OutOfStock event. */
function refusal(raw: unknown): BusEventError {
  try {
    parseBusEvent(Events.OutOfStock, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(BusEventError);
    return error as BusEventError;
  }
  throw new Error("parseBusEvent accepted it");
}

describe("parseBusEvent", () => {
  it("reads an event as a Lambda function receives it, and as an SQS message body carries it", () => {
    expect(parseBusEvent(Events.OutOfStock, envelope)).toEqual(envelope);
    expect(parseBusEvent(Events.OutOfStock, JSON.stringify(envelope))).toEqual(envelope);
  });

  it("keeps the envelope's fields and drops detail fields the schema does not know (additive changes)", () => {
    const event = parseBusEvent(Events.OutOfStock, { ...envelope, detail: { ...detail, later: "field" } });
    expect(event.id).toBe(envelope.id);
    expect(event.detail).toEqual(detail);
  });

  it("says what is wrong with what is not an EventBridge event", () => {
    expect(refusal("not json").message).toBe(
      "expected an EventBridge event (OutOfStock from donut-states.sales), got text that is not JSON: not json",
    );
    expect(refusal(detail).message).toMatch(
      /^expected an EventBridge event \(OutOfStock from donut-states\.sales\), got no envelope: version: /,
    );
    expect(refusal(null).message).toMatch(/got no envelope: /);
  });

  it("refuses another event type or source, naming both", () => {
    expect(refusal({ ...envelope, "detail-type": "RestockFulfilled" }).message).toBe(
      `event ${envelope.id} is RestockFulfilled from donut-states.sales; expected OutOfStock from donut-states.sales`,
    );
    expect(refusal({ ...envelope, source: "someone.else" }).message).toBe(
      `event ${envelope.id} is OutOfStock from someone.else; expected OutOfStock from donut-states.sales`,
    );
  });

  it("refuses a detail its schema refuses, naming each field", () => {
    const { sku: _sku, ...withoutSku } = detail;
    expect(refusal({ ...envelope, detail: { ...withoutSku, quantity: 0 } }).message).toBe(
      `event ${envelope.id} (OutOfStock) has an invalid detail: sku: Invalid input: expected string, received undefined; quantity: Too small: expected number to be >0`,
    );
  });
});
