import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { seedProducts, TEST_FACTORY } from "@donut-states/core/testing";
import { type FactorySimulator, startFactorySimulator } from "@donut-states/factory";
import { ACTIVE_CHARACTER as ACTIVE, type OpsFixture, opsFixture } from "@donut-states/ops/testing";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { ulid } from "ulid";
import { afterAll, beforeAll, expect, it } from "vitest";

/**
 * What a factory answers reaches operators' terminals: the body of a failed call (up to 200
 * characters) is recorded as the restock request's last error, which `ops restock list` prints.
 * Here the factory simulator answers 500 with bodies full of escape sequences and control
 * characters; after the real factory-call path recorded each, the CLI's output (table and JSON)
 * must hold none of them, while the error itself is kept as the factory sent it.
 *
 * Knobs: FUZZ_TERMINAL_RUNS (default 40), FUZZ_SEED (replay a failure).
 */

const RUNS = Number(process.env.FUZZ_TERMINAL_RUNS ?? 40);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** Pieces of a hostile answer: escape sequences terminals act on, single control characters, and plain text between them. */
const piece = fc.oneof(
  fc.constantFrom(
    "\u001b[8m", // conceal
    "\u001b[2J\u001b[H", // clear the screen, cursor home
    "\u001b]0;owned\u0007", // window title
    "\u001b]8;;http://evil.example\u001b\\", // hyperlink
    "\u001b[31;1m",
    "\u001bP+q544e\u001b\\", // DCS: ask the terminal to answer
    "\u009b2K", // 8-bit CSI: erase the line
    "\u009d0;owned\u009c", // 8-bit OSC
    "\u202e", // right-to-left override
  ),
  fc.integer({ min: 0, max: 0x9f }).map((code) => String.fromCharCode(code)),
  fc.string({ maxLength: 12 }),
  fc.constantFrom("부산도너츠", "Factory down", " "),
);

let fixture: OpsFixture;
let factory: FactorySimulator;
let nextSku = 0;

beforeAll(async () => {
  fixture = await opsFixture({ label: "fuzz_terminal" });
  factory = await startFactorySimulator({ port: 0, failureRate: 1 });
  Object.assign(process.env, {
    FACTORY_API_URL: factory.url,
    PUBLIC_API_URL: "http://127.0.0.1:1/",
    FACTORY_CALLBACK_SECRET: "fuzz-terminal-callback-secret-0123456789",
    FACTORY_TIMEOUT_MS: "10000",
  });
});
afterAll(async () => {
  await factory?.close();
  await fixture?.close();
});

/** A pending request whose factory call failed with `answer`, through the factory caller's own path. */
async function failedCall(answer: string): Promise<string> {
  const sku = `FZ-${String(++nextSku).padStart(6, "0")}`;
  await seedProducts(fixture.database.db, [{ sku, stock: 0 }]);
  const [product] = await fixture.database.db
    .select({ id: Product.productTable.id })
    .from(Product.productTable)
    .where(eq(Product.productTable.sku, sku));
  const id = ulid();
  await fixture.database.db
    .insert(Restock.restockRequestTable)
    .values({ id, productId: product.id, sku, factoryId: TEST_FACTORY.id, quantity: 30, status: "pending" });
  factory.setOptions({ failureBody: answer });
  await expect(Restock.requestFromFactory(id, { receiveCount: 1, maxReceiveCount: 5 })).rejects.toThrow(/Factory API answered 500/);
  return id;
}

it("prints no escape sequence or control character a factory put in its answer", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 24 }), async (pieces) => {
      const answer = pieces.join("").slice(0, 200);
      const id = await failedCall(answer);
      const [{ lastError }] = await fixture.database.db
        .select({ lastError: Restock.restockRequestTable.lastError })
        .from(Restock.restockRequestTable)
        .where(eq(Restock.restockRequestTable.id, id));
      // Kept as the factory sent it: the filtering is the printing's job.
      expect(lastError).toBe(`Factory API answered 500: ${answer}`);

      const human = await fixture.ops("restock", "list", "--limit", "5");
      expect(human.code, human.err).toBe(0);
      expect(human.out).toContain(id);
      for (const line of [...human.out.split("\n"), ...human.err.split("\n")]) expect(line).not.toMatch(ACTIVE);

      const json = await fixture.ops("--json", "restock", "list", "--limit", "5");
      expect(json.code, json.err).toBe(0);
      expect(json.out.replace(/\n/g, "")).not.toMatch(ACTIVE);
      const listed = json.json<{ restockRequests: Array<{ id: string; lastError: string | null }> }>();
      expect(listed.restockRequests.find((row) => row.id === id)?.lastError).toBe(lastError);
    }),
    { numRuns: RUNS, seed: SEED },
  );
}, 300_000);
