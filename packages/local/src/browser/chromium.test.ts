import { describe, expect, it } from "vitest";
import { browserTestPlan } from "./chromium";

describe("browserTestPlan", () => {
  const missing = "/nowhere/chromium";

  it("runs the browser tests where Chromium is installed", () => {
    expect(browserTestPlan({ CHROMIUM_PATH: process.execPath })).toEqual({ run: true });
    expect(browserTestPlan({ CHROMIUM_PATH: process.execPath, CI: "true" })).toEqual({ run: true });
  });

  it("skips them with a notice that says how to install it when Chromium is missing on a workstation", () => {
    const plan = browserTestPlan({ CHROMIUM_PATH: missing });
    if (plan.run) throw new Error("expected the browser tests to be skipped");
    expect(plan.notice).toContain(missing);
    expect(plan.notice).toMatch(/apt-get install chromium/);
    expect(plan.notice).toMatch(/SKIPPED/);
  });

  it("never skips them under CI=true: a missing Chromium fails the run there", () => {
    expect(browserTestPlan({ CHROMIUM_PATH: missing, CI: "true" })).toEqual({ run: true });
  });
});
