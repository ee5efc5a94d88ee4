import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as Subscription from "@donut-states/core/subscription";
import { expect, it } from "vitest";

/** The back-in-stock notice the README shows is the one the notifier publishes. */
const README = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../README.md"), "utf8");

it("shows the back-in-stock notice exactly as the notifier writes it", () => {
  const at = README.indexOf("Subject: Back in stock:");
  expect(at, "the README shows a back-in-stock notice").toBeGreaterThan(0);
  const [headers, body] = README.slice(at, README.indexOf("\n```", at)).split(/\n\n([\s\S]*)/);
  const { subject, message } = Subscription.backInStockMessage({ sku: "CP-502104", name: "Injeolmi Twist", stock: 30 });
  expect(headers.split("\n")).toEqual([`Subject: ${subject}`]);
  expect(body).toBe(message);
});
