import { readFileSync } from "node:fs";
import { functions } from "@donut-states/core/topology";
import { expect, it } from "vitest";
import { bundleRegion, DEPLOY_GUIDE, readBundleReference, renderBundleTable } from "../../scripts/bundle-table";

// The deploy guide's bundle numbers are generated from the committed reference run, never typed.
it("docs/deploy.md's bundle table is the one generated from docs/bundles.json (BUNDLES_REFERENCE=1 npm run bundles)", () => {
  const region = bundleRegion(readFileSync(DEPLOY_GUIDE, "utf8"));
  expect(region, "docs/deploy.md lost its <!-- bundles:begin … --> / <!-- bundles:end --> markers").toBeDefined();
  expect(region, "docs/deploy.md differs from docs/bundles.json: run `BUNDLES_REFERENCE=1 npm run bundles`").toBe(
    renderBundleTable(readBundleReference()),
  );
});

it("the bundle reference has a row for every function the stacks build, and no other", () => {
  const built = Object.values(functions).map((fn) => fn.handler);
  const measured = readBundleReference().rows.map((row) => row.handler);
  expect(
    [...new Set(measured)].sort(),
    "a function was added or removed since the reference run: run `BUNDLES_REFERENCE=1 npm run bundles`",
  ).toEqual([...new Set(built)].sort());
});
