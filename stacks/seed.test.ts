/**
 * A new non-prod stage has products to order: its migrations seed the demo catalogue
 * (SEED_DEMO_DATA, read by packages/functions/src/database/migrate.ts). Prod never does.
 * Only Config and Database are synthesized (in deploy mode, where the migrations exist).
 */

import type { App } from "sst/constructs";
import { afterAll, describe, expect, it } from "vitest";
import { defaultFunctionProps } from "../sst.config";
import { Config } from "./Config";
import { Database } from "./Database";
import { stageSettings } from "./settings";
import { type SettingsEnv, type Synthesized, synthesize } from "./test/synth";
import { type Json, resourcesOf } from "./test/templates";

const MIGRATE = "packages/functions/src/database/migrate.handler";
const DEPLOY_ENV: SettingsEnv = { FACTORY_API_URL: "https://factory.example.com", ALERT_EMAILS: "oncall@example.com" };
const apps: App[] = [];

const registerDatabase = (app: App) => {
  app.setDefaultFunctionProps(defaultFunctionProps);
  app.stack(Config).stack(Database);
};

async function migrateEnvironment(stage: string, env: SettingsEnv = {}): Promise<Record<string, Json>> {
  const synth: Synthesized = await synthesize({ stage, mode: "deploy", env: { ...DEPLOY_ENV, ...env }, register: registerDatabase });
  apps.push(synth.app);
  const migrate = resourcesOf(synth.templates.Database, "AWS::Lambda::Function").filter(([, fn]) => fn.Properties.Description === MIGRATE);
  expect(migrate).toHaveLength(1);
  return migrate[0][1].Properties.Environment.Variables;
}

afterAll(async () => {
  const { rmSync } = await import("node:fs");
  for (const app of apps) rmSync(app.outdir, { recursive: true, force: true });
});

describe("demo catalogue at migrate time", () => {
  it("is seeded on a deployed non-prod stage", async () => {
    expect((await migrateEnvironment("staging")).SEED_DEMO_DATA).toBe("true");
  }, 600_000);

  it("follows SEED_DEMO_DATA=true|false, and refuses anything else", () => {
    const settings = (env: Record<string, string>) =>
      stageSettings({ name: "donut-states", stage: "staging", mode: "deploy" } as App, { ...DEPLOY_ENV, ...env });
    expect(settings({ SEED_DEMO_DATA: "false" }).seedDemoData).toBe(false);
    expect(settings({ SEED_DEMO_DATA: "true" }).seedDemoData).toBe(true);
    expect(() => settings({ SEED_DEMO_DATA: "yes" })).toThrow(/SEED_DEMO_DATA must be "true" or "false"/);
  });

  it("is never seeded on prod, and asking for it there stops the synth", async () => {
    expect((await migrateEnvironment("prod")).SEED_DEMO_DATA).toBe("false");
    await expect(migrateEnvironment("prod", { SEED_DEMO_DATA: "true" })).rejects.toThrow(/SEED_DEMO_DATA=true is refused for stage prod/);
  }, 600_000);
});
