/**
 * The app's two syntheses, shared by the stack test files: `dev` as `sst dev` builds it
 * (live-lambda stubs, no VPC, no RDS) and `prod` as `sst deploy` builds it (every function
 * bundled with esbuild, VPC + RDS + proxy, cdk-nag applied).
 *
 * Synthesizing prod takes most of the stack tests' time, so each stage is synthesized once per
 * test run: the first file that needs it synthesizes it and writes what the tests read to this
 * run's directory (stacks/test/global-setup.ts makes it, and removes it with the bundles at the
 * end of the run); every other file, in whichever worker, reads that.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, inject } from "vitest";
import { withLock } from "./lock";
import type { NagFinding } from "./nag";
import type { Json } from "./templates";

export const PROD_ENV = {
  FACTORY_API_URL: "https://factory.example.com/legacy",
  ALERT_EMAILS: "oncall@example.com, lead@example.com",
};
export const PROD_EMAILS = ["oncall@example.com", "lead@example.com"];

/** One synthesis of the app, as the tests read it. */
export interface AppSynth {
  stage: string;
  mode: "deploy" | "dev";
  /** The cloud assembly's directory: the staged code of every bundled function. */
  outdir: string;
  /** CloudFormation templates by stack id (Config, Alerts, Database, Events, BackInStock, Api, Restock, Monitoring). */
  templates: Record<string, Json>;
  /** The app's first default function props were sst.config.ts's object itself. */
  sharesDefaultFunctionProps: boolean;
  /** cdk-nag's findings (prod only). */
  nagFindings: NagFinding[];
  functionCount: number;
  ms: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    stacksSynthDir: string;
  }
}

const stages = {
  dev: { stage: "dev", mode: "dev", env: {}, nag: false },
  prod: { stage: "prod", mode: "deploy", env: PROD_ENV, nag: true },
} as const;

/** The run's synthesis of `name`, made by the first caller of this run. */
export async function appSynth(name: keyof typeof stages): Promise<AppSynth> {
  const dir = path.join(inject("stacksSynthDir"), name);
  const file = path.join(dir, "synth.json");
  mkdirSync(dir, { recursive: true });
  return withLock(`${dir}.lock`, async () => {
    if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as AppSynth;
    const { stage, mode, env, nag } = stages[name];
    // Loaded only by the file that synthesizes: SST and the CDK take seconds to load.
    const [{ synthesize }, { applyNagChecks }, { defaultFunctionProps }] = await Promise.all([
      import("./synth"),
      import("./nag"),
      import("../../sst.config"),
    ]);
    const nagFindings: NagFinding[] = [];
    const synth = await synthesize({ stage, mode, env, beforeFinish: nag ? (app) => applyNagChecks(app, nagFindings) : undefined });
    const result: AppSynth = {
      stage,
      mode,
      outdir: synth.outdir,
      templates: synth.templates,
      sharesDefaultFunctionProps: synth.app.defaultFunctionProps[0] === defaultFunctionProps,
      nagFindings,
      functionCount: synth.functions.length,
      ms: synth.ms,
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(result));
    renameSync(`${file}.tmp`, file);
    console.info(`synth: ${name} ${synth.ms} ms (${synth.functions.length} functions)`);
    return result;
  });
}

/**
 * Both syntheses for the calling test file (loaded before its tests run), and the table its
 * tests that hold on both stages iterate: [name, synthesis, database mode].
 */
export function bothStages() {
  const loaded: Partial<Record<keyof typeof stages, AppSynth>> = {};
  beforeAll(async () => {
    loaded.dev = await appSynth("dev");
    loaded.prod = await appSynth("prod");
  }, 15 * 60_000); // synthesis and bundling take minutes on a busy machine
  const get = (name: keyof typeof stages) => () => {
    const synth = loaded[name];
    if (!synth) throw new Error(`the ${name} synthesis did not load`);
    return synth;
  };
  return {
    dev: get("dev"),
    prod: get("prod"),
    each: [
      ["dev", get("dev"), "url"],
      ["prod", get("prod"), "rds"],
    ] as const,
  };
}
