/**
 * The legacy Factory API contract has two deliberate copies: core's (what we send and what we
 * accept back, packages/core/src/factory/contract.ts) and the simulator's (written from the
 * contract to stand in for the real API, packages/factory/src/contract.ts). They must agree: on
 * the path and fields, on a real request and its callback over HTTP, and on what a count is.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as Factory from "@donut-states/core/factory";
import * as Restock from "@donut-states/core/restock";
import * as Simulator from "@donut-states/factory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let simulator: Simulator.FactorySimulator;
const callbacks: unknown[] = [];
const receiver = http.createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    callbacks.push(JSON.parse(body));
    response.writeHead(200).end("{}");
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  simulator = await Simulator.startFactorySimulator({ port: 0, host: "127.0.0.1", delayMs: 0, callback: "once" });
});
afterAll(async () => {
  await simulator?.close();
  await new Promise((resolve) => receiver.close(resolve));
});

describe("the factory contract: core and the simulator agree", () => {
  it("on the path and the fields, in order", () => {
    expect(Factory.MANUFACTURE_PATH).toBe(Simulator.MANUFACTURE_PATH);
    expect(Factory.MANUFACTURE_FIELDS).toEqual(Simulator.MANUFACTURE_FIELDS);
  });

  it("on a request core's client sends and the callback the simulator sends back", async () => {
    const restockId = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const body: Factory.ManufactureRequest = {
      MessageGroupId: Factory.MESSAGE_GROUP_ID,
      MessageAttributeProductId: "CP-502101",
      MessageAttributeProductCnt: "30",
      MessageAttributeFactoryId: "FF-500293",
      MessageAttributeRequester: "donut-states-test",
      CallbackUrl: Restock.callbackUrl(
        `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
        restockId,
        "a-test-secret-of-enough-length",
        1,
      ),
    };
    expect(Simulator.validateManufactureRequest(body)).toEqual({ ok: true, value: body });
    await expect(Factory.requestProduction(simulator.url, body, 10_000)).resolves.toMatchObject({ status: 202 });

    const deadline = Date.now() + 20_000;
    while (callbacks.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(callbacks).toHaveLength(1);
    const parsed = Factory.FactoryCallback.safeParse(callbacks[0]);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(body);
  });

  it("on what a count is", () => {
    const withCount = (count: string) => ({ ...sample, MessageAttributeProductCnt: count });
    const sample = {
      MessageGroupId: Factory.MESSAGE_GROUP_ID,
      MessageAttributeProductId: "CP-502101",
      MessageAttributeFactoryId: "FF-500293",
      MessageAttributeRequester: "donut-states-test",
      CallbackUrl: "http://127.0.0.1:1/factory/callbacks/x?token=t",
    };
    for (const count of ["1", "10", "999999999"]) {
      expect(Simulator.validateManufactureRequest(withCount(count)).ok, count).toBe(true);
      expect(Factory.FactoryCallback.safeParse(withCount(count)).success, count).toBe(true);
    }
    for (const count of ["0", "010", "-1", "1.5", "1e3", " 1", ""]) {
      expect(Simulator.validateManufactureRequest(withCount(count)).ok, count).toBe(false);
      expect(Factory.FactoryCallback.safeParse(withCount(count)).success, count).toBe(false);
    }
  });
});
