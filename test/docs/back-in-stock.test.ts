import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as Subscription from "@donut-states/core/subscription";
import { backInStockTopic } from "@donut-states/core/topology";
import { expect, it } from "vitest";

/** The back-in-stock mail the README shows is the one the notifier writes, from the topic's sender. */
const README = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../README.md"), "utf8");

it("shows the back-in-stock mail exactly as the notifier writes it", () => {
  const at = README.indexOf("Subject: Back in stock:");
  expect(at, "the README shows a back-in-stock mail").toBeGreaterThan(0);
  const from = README.lastIndexOf("From: ", at);
  const [headers, body] = README.slice(from, README.indexOf("\n```", at))
    .split("\n\n--\n")[0]
    .split(/\n\n([\s\S]*)/);
  const { subject, message } = Subscription.backInStockMessage({ sku: "CP-502104", name: "Injeolmi Twist", stock: 30 });
  expect(headers.split("\n")).toEqual([
    `From: ${backInStockTopic.displayName} <no-reply@sns.amazonaws.com>`,
    "To: you@example.com",
    `Subject: ${subject}`,
  ]);
  expect(body).toBe(message);
});
