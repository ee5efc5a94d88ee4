import { configDefaults, defineConfig } from "vitest/config";

/**
 * What `npm run test:quick` (`vitest run --mode quick`) leaves to `npm test`, and why: a test file,
 * or a folder ending in "/". Everything else is in the quick loop: unit tests, and tests against
 * the database and in-process emulators. `test/quick.test.ts` keeps this list honest.
 */
export const notQuick: Record<string, string> = {
  "test/e2e/": "the offline stack end to end, chaos included",
  "test/docs/readme.test.ts": "`npm start`, then the README's walkthroughs as written",
  "packages/local/src/ports.test.ts": "starts the offline stack once per port",
  "packages/local/src/dashboard/first-run.test.ts": "`npm run dashboard` as a process of its own, read in headless Chromium",
  "packages/ops/src/cli.test.ts": "the ops CLI as a process of its own: a cold tsx start per command",
  "test/cli/": "`npm run db:migrate` as a process of its own",
  "test/fuzz/": "more than 10,000 hostile requests through the gateway",
  "stacks/": "synthesizes the SST app and bundles its functions",
  "test/typecheck.test.ts": "tsc over the whole project (`npm run typecheck`)",
};

export default defineConfig(({ mode }) => ({
  test: {
    include: ["packages/*/src/**/*.test.ts", "stacks/**/*.test.ts", "test/**/*.test.ts"],
    exclude: [
      ...configDefaults.exclude,
      ...(mode === "quick" ? Object.keys(notQuick).map((entry) => (entry.endsWith("/") ? `${entry}**` : entry)) : []),
    ],
    // The test database server; the directory the stack tests share their syntheses through.
    globalSetup: ["test/global-setup.ts", ...(mode === "quick" ? [] : ["stacks/test/global-setup.ts"])],
    // No test secret in what the tests print: test/secret-scan.ts.
    setupFiles: ["test/secret-scan.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests share one MySQL server; each file gets its own database.
    fileParallelism: true,
    maxWorkers: 2,
    env: {
      // Handlers log JSON through Powertools; keep test output to real problems.
      POWERTOOLS_LOG_LEVEL: "ERROR",
      POWERTOOLS_METRICS_DISABLED: "true",
    },
  },
}));
