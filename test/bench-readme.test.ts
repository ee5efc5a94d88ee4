import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { measuringRegion, README, readReference, renderMeasuring } from "../bench/readme";

// README numbers are generated from the committed reference run, never typed by hand.
it("README's measuring table is the one generated from bench/results/reference.json (npm run bench:readme)", () => {
  const region = measuringRegion(readFileSync(README, "utf8"));
  expect(region, "README.md lost its <!-- bench:begin … --> / <!-- bench:end --> markers").toBeDefined();
  expect(region, "README.md differs from bench/results/reference.json: run `npm run bench:readme`").toBe(renderMeasuring(readReference()));
});
