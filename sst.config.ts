import { DEFAULT_REGION } from "@donut-states/core/topology";
import type { SSTConfig } from "sst";
import type { App, FunctionProps } from "sst/constructs";
import { Alerts } from "./stacks/Alerts";
import { Api } from "./stacks/Api";
import { BackInStock } from "./stacks/BackInStock";
import { trimBundle } from "./stacks/bundle";
import { Config } from "./stacks/Config";
import { Database } from "./stacks/Database";
import { Events } from "./stacks/Events";
import { Monitoring } from "./stacks/Monitoring";
import { Restock } from "./stacks/Restock";
import { APP_NAME, SERVICE_NAME } from "./stacks/settings";

export { APP_NAME, DEFAULT_REGION };

/**
 * Defaults of every function (the tests in stacks/ synthesize with this same object).
 * A function overrides what it needs (timeout of the factory caller, the crons, migrations).
 */
export const defaultFunctionProps = {
  runtime: "nodejs22.x",
  architecture: "arm_64",
  memorySize: "512 MB",
  timeout: "10 seconds",
  tracing: "active",
  nodejs: {
    format: "esm",
    // Minified (names kept: SST sets keepNames, so stack traces and error names stay readable).
    // Source maps: SST writes one per function, uploads it beside the code (the SST Console
    // maps stack traces with it) and keeps it out of the code zip.
    minify: true,
    esbuild: {
      // The AWS SDK v3 of the nodejs22.x runtime, not a bundled copy: it halves every bundle
      // (docs/deploy.md, "Bundles", says why and what it costs).
      external: ["@aws-sdk/*"],
      // Dependency data our functions never read (stacks/bundle.ts).
      plugins: [trimBundle()],
    },
  },
  environment: {
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  },
} satisfies FunctionProps;

/** Register the stacks in dependency order (each `use()`s only stacks registered before it). */
export function registerStacks(app: App): void {
  app.setDefaultFunctionProps(defaultFunctionProps);
  // prod keeps everything on `sst remove` (CloudFormation retains the resources); other stages
  // delete everything, the database included.
  app.setDefaultRemovalPolicy(app.stage === "prod" ? "retain" : "destroy");
  app
    .stack(Config) //     stage settings, SST Secrets
    .stack(Alerts) //     SNS topic + e-mail subscriptions (the watchdog publishes to it)
    .stack(Database) //   VPC + RDS MySQL + RDS Proxy + migrations, or the DATABASE_URL secret under `sst dev`
    .stack(Events) //     EventBus, OutOfStock rule, factory queue + DLQ
    .stack(BackInStock) // back-in-stock topic, its notifier and RestockFulfilled rule
    .stack(Api) //        HTTP API, one function per route of the topology
    .stack(Restock) //    factory caller (queue consumer), outbox relay cron, restock watchdog cron
    .stack(Monitoring); // alarms -> Alerts topic, dashboard
}

export default {
  config() {
    return {
      name: APP_NAME,
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || DEFAULT_REGION,
    };
  },
  stacks(app) {
    registerStacks(app);
  },
} satisfies SSTConfig;
