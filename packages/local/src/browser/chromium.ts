import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** The system's Chromium (Debian: `apt-get install chromium`); playwright never downloads one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export type BrowserTestPlan = { run: true } | { run: false; notice: string };

/**
 * Whether the browser tests run here. A workstation without Chromium skips them with a notice
 * (a newcomer's first `npm test` stays green); under CI=true they always run, so a CI image
 * that lost its Chromium fails instead of silently testing less.
 */
export function browserTestPlan(env: NodeJS.ProcessEnv = process.env): BrowserTestPlan {
  const executable = env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (env.CI === "true" || existsSync(executable)) return { run: true };
  const notice = [
    "",
    "!".repeat(78),
    `!! Browser tests SKIPPED: no Chromium at ${executable}.`,
    "!! Install it (Debian/Ubuntu: sudo apt-get install chromium fonts-noto-cjk) or set CHROMIUM_PATH.",
    "!! Under CI=true a missing Chromium fails the run instead.",
    "!".repeat(78),
    "",
  ].join("\n");
  return { run: false, notice };
}

// Headless on a closed network: without the background-networking flags Chromium keeps
// dialling Google's services and its connections are refused, many at a time.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless Chromium with a fresh throwaway profile; `close()` removes the profile too. */
export async function launchChromium(
  options: { viewport?: { width: number; height: number }; deviceScaleFactor?: number } = {},
): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(path.join(os.tmpdir(), "donut-chromium-"));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      ...options,
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(
      `Could not start Chromium at ${CHROMIUM_PATH} (install it: sudo apt-get install chromium): ${(error as Error).message}`,
    );
  }
}
