import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { notQuick } from "../vitest.config";

/**
 * `npm run test:quick` is `npm test` without the files vitest.config.ts's `notQuick` names, each
 * with its reason; nothing that starts the offline stack, runs `npm start` or synthesizes the app
 * slips into the quick loop. The file lists are vitest's own (`vitest list`), for both modes.
 */
const ROOT = path.resolve(import.meta.dirname, "..");
const exec = promisify(execFile);

async function testFiles(mode: "test" | "quick"): Promise<string[]> {
  const cli = path.join(ROOT, "node_modules/vitest/vitest.mjs");
  const { stdout } = await exec(process.execPath, [cli, "list", "--filesOnly", "--json", "--mode", mode], { cwd: ROOT, timeout: 120_000 });
  return (JSON.parse(stdout) as { file: string }[]).map(({ file }) => path.relative(ROOT, file).split(path.sep).join("/")).sort();
}

const covers = (entry: string, file: string) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry);

/** What in a test file's text says it is slow by nature. */
const SLOW_SIGNS: Record<string, RegExp> = {
  "starts the offline stack": /\b(startOfflineStack|startTestStack|runChaos)\(/,
  "runs `npm start`": /["']npm["'],\s*\[\s*["']start["']/,
  "synthesizes the SST app": /\bsynthesize\(/,
};

describe("npm run test:quick", async () => {
  const [all, quick] = await Promise.all([testFiles("test"), testFiles("quick")]);

  it("runs every test file of npm test except those named, each with its reason", () => {
    expect(all.length).toBeGreaterThan(50);
    const left = all.filter((file) => !quick.includes(file));
    expect(left.filter((file) => !Object.keys(notQuick).some((entry) => covers(entry, file)))).toEqual([]);
    expect(quick.filter((file) => Object.keys(notQuick).some((entry) => covers(entry, file)))).toEqual([]);
    expect(quick.filter((file) => !all.includes(file))).toEqual([]);
    expect(Object.entries(notQuick).filter(([, reason]) => reason.trim().length < 10)).toEqual([]);
  });

  it("names no file or folder that has no test", () => {
    expect(Object.keys(notQuick).filter((entry) => !all.some((file) => covers(entry, file)))).toEqual([]);
  });

  it("leaves out every test that starts the offline stack, runs npm start or synthesizes the app", () => {
    const slowInQuick = quick.flatMap((file) => {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      return Object.entries(SLOW_SIGNS)
        .filter(([, sign]) => sign.test(text))
        .map(([why]) => `${file} ${why}`);
    });
    expect(slowInQuick).toEqual([]);
    // The signs find what they look for: each names at least one file of the full suite.
    for (const [why, sign] of Object.entries(SLOW_SIGNS)) {
      expect(
        all.some((file) => sign.test(readFileSync(path.join(ROOT, file), "utf8"))),
        why,
      ).toBe(true);
    }
  });
});
