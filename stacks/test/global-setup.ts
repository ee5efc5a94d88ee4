import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * A directory for this test run's syntheses of the app (stacks/test/app.ts): every stack test
 * file reads the one synthesis of each stage from it. At the end of the run it goes, with the
 * cloud assemblies (tens of MB of bundles) the syntheses wrote.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), "donut-states-stacks-"));
  project.provide("stacksSynthDir", dir);
  return () => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry, "synth.json");
      if (existsSync(file)) rmSync(JSON.parse(readFileSync(file, "utf8")).outdir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
