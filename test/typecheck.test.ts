import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

/**
 * The code type-checks: the whole project (stacks, packages, scripts, tests) and the k6 scripts
 * for deployed stages, which nothing else here executes (k6 is not an npm package).
 */
it.each([["tsconfig.json"], ["load/tsconfig.json"]])(
  "tsc --noEmit -p %s reports no errors",
  async (project) => {
    const result = await run("npx", ["tsc", "--noEmit", "-p", project], { encoding: "utf8" }).catch(
      (error: { stdout?: string; stderr?: string }) => error,
    );
    expect(`${result.stdout ?? ""}${result.stderr ?? ""}`.trim()).toBe("");
  },
  15 * 60_000,
); // tsc on a busy machine takes minutes; the check is the output, not the time
