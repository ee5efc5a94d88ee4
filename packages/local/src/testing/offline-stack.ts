import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import { FREE_PORTS } from "../config";
import { type OfflineStack, type StackOverrides, startOfflineStack } from "../stack";

/** The offline stack an end-to-end test runs against, and what it was given. */
export interface TestStack {
  stack: OfflineStack;
  /** The test's own database (the stack's functions connect as its application user). */
  database: TestDatabase;
  /** The stack's LOCAL_DIR: stack.json, the mail sink's mails. */
  localDir: string;
  /** Stop the stack, drop the database, remove the directory. */
  stop(): Promise<void>;
}

/**
 * Start the whole offline stack for one test file: its own database (`ds_test_<name>_…`), free
 * ports, its own LOCAL_DIR, no demo data and one alert address, unless `overrides` says otherwise.
 * `prepare` runs on the database before the stack starts (rows the stack must find at start-up).
 */
export async function startTestStack(
  name: string,
  overrides: StackOverrides = {},
  prepare?: (database: TestDatabase) => Promise<unknown>,
): Promise<TestStack> {
  const database = await createTestDatabase(name);
  const localDir = await mkdtemp(path.join(os.tmpdir(), `donut-${name.replace(/_/g, "-")}-`));
  const cleanUp = async (stack?: OfflineStack) => {
    await stack?.stop();
    await database.drop();
    await rm(localDir, { recursive: true, force: true });
  };
  try {
    await prepare?.(database);
    const stack = await startOfflineStack({
      databaseUrl: database.url,
      ...FREE_PORTS,
      LOCAL_DIR: localDir,
      SEED_DEMO_DATA: "false",
      ALERT_EMAILS: ["ops@test.local"],
      ...overrides,
    });
    return { stack, database, localDir, stop: () => cleanUp(stack) };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
