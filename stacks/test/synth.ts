/**
 * Offline synthesis of the SST app for the infrastructure tests (no AWS calls):
 * initProject with an explicit stage (without one SST prompts for a personal stage and the
 * test hangs), an App in the mode `sst deploy` or `sst dev` would use, the stacks exactly as
 * sst.config.ts registers them, `app.finish()` (bundles every function with esbuild in deploy
 * mode) and one `app.synth()` whose templates every assertion shares.
 *
 * NODE_ENV must be "test" (vitest sets it): SST then skips its bootstrap lookups (AWS calls).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { App, Function as SstFunction } from "sst/constructs";
import { initProject } from "sst/project.js";
import { APP_NAME, DEFAULT_REGION, registerStacks } from "../../sst.config";

export const TEST_ACCOUNT = "123456789012";

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

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template's JSON, read by tests as they need.
export type Json = any;

export interface Synthesized {
  app: App;
  stage: string;
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
 * test workers: a lock directory (mkdir is atomic) holding the owner's pid, taken over when
 * that process is gone.
 */
async function oneBuildAtATime<T>(build: () => Promise<T>): Promise<T> {
  const lock = path.join(".sst", "synth.lock");
  mkdirSync(".sst", { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!ownerAlive(lock)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await build();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function ownerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(lock, "pid"), "utf8"));
  } catch {
    // No pid yet: being created right now, unless its creator died in between.
    const created = statSync(lock, { throwIfNoEntry: false });
    return created !== undefined && Date.now() - created.mtimeMs < 5_000;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    return { app, stage, templates, functions, ms: Date.now() - started };
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** [logicalId, resource] of every resource of `type` in a template. */
export function resourcesOf(template: Json, type: string): [string, Json][] {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => (resource as Json).Type === type) as [string, Json][];
}

/** The only resource of `type` in a template (fails otherwise). */
export function single(template: Json, type: string): [string, Json] {
  const found = resourcesOf(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/**
 * A readable, stack-qualified description of a CloudFormation value, following cross-stack
 * imports to what they export: {"Fn::ImportValue": "prod-donut-states-Events:ExportsOutputFnGetAttBus…"}
 * becomes "Events.BusEventBus016AB1B4.Arn"; {"Ref": "Topic…"} in Alerts becomes "Alerts.Topic…".
 */
export function describeValue(synth: Synthesized, stackId: string, value: Json): string {
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value)) return value.map((item) => describeValue(synth, stackId, item)).join(" + ");
  if (value && typeof value === "object") {
    if ("Fn::ImportValue" in value) {
      const name = value["Fn::ImportValue"];
      for (const [id, template] of Object.entries(synth.templates)) {
        for (const output of Object.values(template.Outputs ?? {}) as Json[]) {
          if (output.Export?.Name === name) return describeValue(synth, id, output.Value);
        }
      }
      throw new Error(`no stack exports ${name}`);
    }
    if ("Ref" in value) return String(value.Ref).startsWith("AWS::") ? `\${${value.Ref}}` : `${stackId}.${value.Ref}`;
    if ("Fn::GetAtt" in value) return `${stackId}.${value["Fn::GetAtt"].join(".")}`;
    if ("Fn::Join" in value) {
      const [separator, parts] = value["Fn::Join"];
      return parts.map((part: Json) => describeValue(synth, stackId, part)).join(separator);
    }
  }
  return JSON.stringify(value);
}

/** The staged code directory of a bundled function (what `sst deploy` zips and uploads). */
export function assetDir(synth: Synthesized, resource: Json): string {
  return path.join(synth.app.outdir, `asset.${resource.Properties.Code.S3Key.replace(/\.zip$/, "")}`);
}

/** Bytes of every file under `dir`, by path relative to it. */
export function filesOf(dir: string): Record<string, number> {
  const files: Record<string, number> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = statSync(file).size;
  }
  return files;
}

// The zip `sst deploy` uploads is made by cdk-assets (SST's dependency): use that very code.
const requireFromSst = createRequire(createRequire(import.meta.url).resolve("sst/package.json"));
const { zipDirectory } = requireFromSst("cdk-assets/lib/private/archive") as {
  zipDirectory(directory: string, outputFile: string, onEvent: (message: string) => void): Promise<void>;
};

/** Size of `dir` zipped exactly as the asset publisher zips it. */
export async function zippedSize(dir: string): Promise<number> {
  const scratch = mkdtempSync(path.join(tmpdir(), "donut-states-zip-"));
  try {
    const file = path.join(scratch, "asset.zip");
    await zipDirectory(dir, file, () => {});
    return statSync(file).size;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
