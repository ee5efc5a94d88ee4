import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOfflineConfig, subscriptionTokenSecret } from "./config";

/** The offline stack's keys: refused at start-up when too short, else generated once and kept. */
let localDir: string;
beforeAll(async () => {
  localDir = await mkdtemp(path.join(os.tmpdir(), "donut-config-"));
});
afterAll(async () => {
  await rm(localDir, { recursive: true, force: true });
});

describe("SUBSCRIPTION_TOKEN_SECRET offline", () => {
  it("stops the start with a message naming it when it has fewer than 32 bytes", () => {
    expect(() => loadOfflineConfig({ SUBSCRIPTION_TOKEN_SECRET: "x".repeat(31) })).toThrow(
      "Invalid configuration:\n  SUBSCRIPTION_TOKEN_SECRET: SUBSCRIPTION_TOKEN_SECRET must be at least 32 bytes",
    );
    // Bytes, not characters: eleven three-byte characters are 33 bytes.
    expect(loadOfflineConfig({ SUBSCRIPTION_TOKEN_SECRET: "한".repeat(11) }).SUBSCRIPTION_TOKEN_SECRET).toBe("한".repeat(11));
  });

  it("is generated on the first start, kept for the next ones, readable by its owner only", async () => {
    const config = loadOfflineConfig({ LOCAL_DIR: localDir });
    const first = subscriptionTokenSecret(config);
    expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(32);
    expect(subscriptionTokenSecret(config)).toBe(first);
    const file = path.join(localDir, "subscription-token-secret");
    expect(await readFile(file, "utf8")).toBe(first);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(subscriptionTokenSecret(loadOfflineConfig({ LOCAL_DIR: localDir, SUBSCRIPTION_TOKEN_SECRET: "given".repeat(8) }))).toBe(
      "given".repeat(8),
    );
  });
});
