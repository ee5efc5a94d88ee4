import { describe, expect, it } from "vitest";
import { expectedPairs, leaves, matches, steps } from "./markdown";

/** The README reader must be able to say "the README is wrong", or the docs test proves nothing. */
describe("README example reader", () => {
  const block = [
    "API=http://127.0.0.1:3000",
    "",
    "# Order two",
    "curl -s -X POST $API/orders -H 'content-type: application/json' \\",
    `  -H 'Idempotency-Key: k-1' -d '{"sku":"CP-502101","quantity":2}'`,
    `# 201 {"order":{"id":"01M8…","sku":"CP-502101","quantity":2},"stock":98}`,
    `curl -s -X POST $API/orders -d '{"sku":"CP-502104","quantity":50}'`,
    `# 409 {"error":{"code":"OUT_OF_STOCK","message":"Only 5 unit(s) of CP-502104 available; …",`,
    `#       "available":5}}`,
    "curl -s $API/products",
    "",
  ].join("\n");

  it("splits commands, joins continuations, and reads the result shown below each", () => {
    expect(steps(block)).toEqual([
      { command: "API=http://127.0.0.1:3000" },
      {
        command: `curl -s -X POST $API/orders -H 'content-type: application/json' -H 'Idempotency-Key: k-1' -d '{"sku":"CP-502101","quantity":2}'`,
        expected: { status: 201, text: `{"order":{"id":"01M8…","sku":"CP-502101","quantity":2},"stock":98}` },
      },
      {
        command: `curl -s -X POST $API/orders -d '{"sku":"CP-502104","quantity":50}'`,
        expected: {
          status: 409,
          text: `{"error":{"code":"OUT_OF_STOCK","message":"Only 5 unit(s) of CP-502104 available; …","available":5}}`,
        },
      },
      { command: "curl -s $API/products" },
    ]);
  });

  it("accepts a matching answer and names every field that differs", () => {
    const shown = expectedPairs(`{"order":{"id":"01M8…","sku":"CP-502101","quantity":2},"stock":98,"message":"Only 5 unit(s) …"}`);
    const good = { order: { id: "01KABCDEF", sku: "CP-502101", quantity: 2 }, stock: 98, message: "Only 5 unit(s) of CP-502104" };
    expect(matches(leaves(good), shown)).toEqual([]);
    const bad = { order: { sku: "CP-502101", quantity: 2 }, stock: 97, message: "Only 4 unit(s)" };
    expect(matches(leaves(bad), shown)).toEqual([
      `"id":… is shown, got no such field`,
      `"stock":98 is shown, got 97`,
      `"message":"Only 5 unit(s) …" is shown, got "Only 4 unit(s)"`,
    ]);
  });
});
