import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/** Facts docs/deploy.md states about the installed tools, checked against the install. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const json = (file: string) =>
  JSON.parse(readFileSync(file, "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };

it("pins aws-cdk-lib to the version sst depends on, and SST resolves the one root copy", () => {
  const root = json(path.join(ROOT, "package.json"));
  const requireFromRoot = createRequire(path.join(ROOT, "package.json"));
  const sstManifest = requireFromRoot.resolve("sst/package.json");
  const sst = json(sstManifest);
  expect(root.devDependencies?.["aws-cdk-lib"]).toBe(sst.dependencies?.["aws-cdk-lib"]);
  const fromSst = createRequire(sstManifest).resolve("aws-cdk-lib/package.json");
  expect(fromSst).toBe(requireFromRoot.resolve("aws-cdk-lib/package.json"));
  expect(json(fromSst).version).toBe(root.devDependencies?.["aws-cdk-lib"]);
});
