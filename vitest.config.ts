import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "stacks/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
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
});
