/**
 * Offline synthesis of the SST app for the infrastructure tests (no AWS calls):
 * initProject with an explicit stage (without one SST prompts for a personal stage and the
 * test hangs), an App in the mode `sst deploy` or `sst dev` would use, the stacks exactly as
 * sst.config.ts registers them, `app.finish()` (bundles every function with esbuild in deploy
 * mode) and one `app.synth()` whose templates every assertion shares.
 *
 * NODE_ENV must be "test" (vitest sets it): SST then skips its bootstrap lookups (AWS calls).
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { App, Function as SstFunction } from "sst/constructs";
import { initProject } from "sst/project.js";
import { APP_NAME, DEFAULT_REGION, registerStacks } from "../../sst.config";
import { withLock } from "./lock";
import { type Json, TEST_ACCOUNT } from "./templates";

/** The environment variables the stacks read at synth time (settings.ts). */
export const SETTINGS_ENV = [
  "ALERT_EMAILS",
  "FACTORY_API_URL",
  "FACTORY_REQUESTER",
  "DATABASE_MODE",
  "RESTOCK_SLA_SECONDS",
  "SEED_DEMO_DATA",
] as const;
export type SettingsEnv = Partial<Record<(typeof SETTINGS_ENV)[number], string>>;

export interface Synthesized {
  app: App;
  stage: string;
  /** The cloud assembly's directory (app.outdir): templates and staged function code. */
  outdir: string;
  /** CloudFormation templates by stack id (Config, Alerts, Database, Events, Api, Restock, Monitoring). */
  templates: Record<string, Json>;
  /** Every SST Function of the app. */
  functions: SstFunction[];
  /** Wall time of construct + finish (bundling) + synth. */
  ms: number;
}

/**
 * SST bundles each function into .sst/artifacts/<its construct address>, which is the same for
 * the same function in two apps (the Migrate function of two test files): two test files
 * building at once would write and delete each other's bundle. One build at a time, across the
 * test workers.
 */
function oneBuildAtATime<T>(build: () => Promise<T>): Promise<T> {
  mkdirSync(".sst", { recursive: true });
  return withLock(path.join(".sst", "synth.lock"), build);
}

export interface SynthesizeOptions {
  stage: string;
  mode: "deploy" | "dev";
  env?: SettingsEnv;
  /** Register stacks (default: exactly what sst.config.ts does). */
  register?: (app: App) => void;
  /** Called after the stacks exist and before finish (e.g. add cdk-nag). */
  beforeFinish?: (app: App) => void;
}

export async function synthesize({
  stage,
  mode,
  env = {},
  register = registerStacks,
  beforeFinish,
}: SynthesizeOptions): Promise<Synthesized> {
  const started = Date.now();
  // Loads sst.config.ts and the stage's .env files (which may set the variables below), and
  // fixes the SSM prefix of Secrets (/sst/<app>/<stage>/): one project per stage.
  await initProject({ stage });
  const saved = new Map<string, string | undefined>();
  const set = (key: string, value: string | undefined) => {
    if (!saved.has(key)) saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  };
  for (const key of SETTINGS_ENV) set(key, env[key]);
  // SST runs `npm install` in each bundle's folder (for packages marked "install"; none here):
  // keep that from touching the network.
  set("npm_config_offline", "true");
  set("npm_config_audit", "false");
  set("npm_config_fund", "false");
  try {
    const app = new App({ mode, name: APP_NAME, stage, region: DEFAULT_REGION, account: TEST_ACCOUNT });
    let assembly: ReturnType<App["synth"]>;
    try {
      register(app);
      beforeFinish?.(app);
      assembly = await oneBuildAtATime(async () => {
        await app.finish();
        return app.synth();
      });
    } catch (error) {
      rmSync(app.outdir, { recursive: true, force: true });
      throw error;
    }
    const prefix = `${stage}-${APP_NAME}-`;
    const templates: Record<string, Json> = {};
    for (const artifact of assembly.stacks) templates[artifact.stackName.slice(prefix.length)] = artifact.template;
    const functions = app.node.findAll().filter((construct): construct is SstFunction => construct instanceof SstFunction);
    return { app, stage, outdir: app.outdir, templates, functions, ms: Date.now() - started };
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
