import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { TEST_FACTORY } from "@donut-states/core/testing";
import { eq } from "drizzle-orm";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./context";
import { runOps } from "./program";
import { type OpsFixture, opsFixture } from "./testing";

/** The real entry point, as `npm run ops --` runs it: a separate process, real exit codes. */
const exec = promisify(execFile);
const CLI = path.join(REPO_ROOT, "packages/ops/src/cli.ts");
const TSX = path.join(REPO_ROOT, "node_modules/.bin/tsx");

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  // The CLI's own defaults, not the test run's: no Powertools log level or metrics switch set.
  const { POWERTOOLS_LOG_LEVEL: _level, POWERTOOLS_METRICS_DISABLED: _metrics, ...inherited } = process.env;
  try {
    // A generous bound: a cold tsx start takes tens of seconds on a busy machine.
    const { stdout, stderr } = await exec(TSX, [CLI, ...args], { cwd: REPO_ROOT, env: { ...inherited, ...env }, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout: string; stderr: string };
    return { code: failure.code ?? -1, stdout: failure.stdout, stderr: failure.stderr };
  }
}

let fixture: OpsFixture;
let failedId: string;
beforeAll(async () => {
  fixture = await opsFixture({
    label: "ops_cli",
    eventBridge: true,
    products: [
      { sku: "CP-7", stock: 3 },
      { sku: "CP-8", stock: 0 },
    ],
  });
  const [product] = await fixture.database.db
    .select({ id: Product.productTable.id })
    .from(Product.productTable)
    .where(eq(Product.productTable.sku, "CP-8"));
  failedId = ulid();
  await fixture.database.db
    .insert(Restock.restockRequestTable)
    .values({ id: failedId, productId: product.id, sku: "CP-8", factoryId: TEST_FACTORY.id, quantity: 30, status: "failed", attempts: 5 });
});
afterAll(async () => {
  await fixture?.close();
});

describe("the ops CLI as a process", { timeout: 600_000 }, () => {
  it("prints JSON that parses, with nothing else on stdout", async () => {
    const run = await cli(["--stack-file", fixture.stackFile, "--json", "stock"], { DATABASE_URL: fixture.database.url });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      products: [
        { sku: "CP-7", stock: 3 },
        { sku: "CP-8", stock: 0 },
      ],
    });
    expect(run.stderr).toBe("");
  });

  it("keeps --json clean when the domain code logs and emits metrics (re-request publishes through the outbox)", async () => {
    // A generous publish budget: on a saturated machine the default 1 s can pass before the bus
    // answers, and the row is then left for the relay (published: false), which is correct too.
    const run = await cli(["--stack-file", fixture.stackFile, "--json", "restock", "re-request", failedId], {
      DATABASE_URL: fixture.database.url,
      OUTBOX_PUBLISH_BUDGET_MS: "30000",
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: failedId, previousStatus: "failed", status: "pending", published: true });
  });

  it("exits 2 with a one-line message on bad input, 1 on a failed operation", async () => {
    const [negative, unknown] = await Promise.all([
      cli(["--stack-file", fixture.stackFile, "stock", "set", "CP-7", "-1"], { DATABASE_URL: fixture.database.url }),
      cli(["--stack-file", fixture.stackFile, "--json", "stock", "set", "CP-404", "1", "--expect", "0", "--reason", "count"], {
        DATABASE_URL: fixture.database.url,
      }),
    ]);
    expect(negative.code).toBe(2);
    expect(negative.stderr.trim()).toBe("error: Stock cannot be negative (got -1)");
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toEqual({
      error: { code: "PRODUCT_NOT_FOUND", message: expect.stringMatching(/No product has SKU CP-404/) },
    });
  });

  it("--help lists the commands and exits 0", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    for (const command of ["stock", "product", "restock", "outbox", "queues", "dlq"])
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(run.stdout).toMatch(/Exit codes: 0 ok, 1 the operation failed \(or was cancelled\), 2 invalid input \(or not confirmed\)/);
    expect(run.stdout).toMatch(/--yes goes ahead without asking/);
  });
});

describe("choosing the target", () => {
  const capture = async (args: string[], env: Record<string, string | undefined>) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runOps(args, { io: { out: (text) => out.push(text), err: (text) => err.push(text) }, env });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };

  it("a stage needs a region, queue URLs from flags/env (stack outputs) and its API URL", async () => {
    const noRegion = await capture(["--stage", "prod", "dlq", "peek"], {});
    expect(noRegion.code).toBe(2);
    expect(noRegion.err).toMatch(/Set AWS_REGION \(or --region\) for stage prod/);

    const noQueue = await capture(["--stage", "prod", "--region", "ap-northeast-2", "dlq", "peek"], {});
    expect(noQueue.code).toBe(1);
    expect(noQueue.err).toMatch(/No FACTORY_DLQ_URL for stage prod: pass --dlq-url or set FACTORY_DLQ_URL \(the stack outputs list it/);

    const noApi = await capture(["--stage", "prod", "stock"], { AWS_REGION: "ap-northeast-2" });
    expect(noApi.code).toBe(1);
    expect(noApi.err).toMatch(/No API_URL for stage prod: pass --api-url or set API_URL \(the stack outputs list it/);
  });

  it("offline without a stack file: SQS commands say to start the stack", async () => {
    const missing = await capture(["--stack-file", "/nonexistent/stack.json", "queues"], {});
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/No offline stack file at \/nonexistent\/stack.json/);

    const noStack = await capture(["queues"], { OPS_STACK_FILE: "/nonexistent/stack.json" });
    expect(noStack.code).toBe(1);
    expect(noStack.err).toMatch(/start the stack with `npm start`, or pass --stage/);
  });
});
