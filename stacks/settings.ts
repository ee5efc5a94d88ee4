/**
 * Per-stage settings, decided once at synth time from the stage name, the SST mode and a few
 * environment variables (SST loads `.env`, `.env.<stage>` and `.env.<stage>.local` before it
 * runs the stacks, so a stage's values can live in `.env.prod`; see docs/deploy.md).
 *
 * Queue, rule, alarm and route settings are NOT here: they come from the topology
 * (packages/core/src/topology/), the single source of truth shared with the offline stack.
 */

import { restockAlerts } from "@donut-states/core/topology";
import type { App } from "sst/constructs";

/**
 * Where the functions' database is.
 * - "rds": a VPC, RDS for MySQL 8.4 behind an RDS Proxy (TLS required), credentials generated
 *   into Secrets Manager. Functions get DATABASE_SECRET_ARN + DATABASE_HOST + DATABASE_NAME +
 *   DATABASE_TLS. The default for every stage that is deployed (`sst deploy`).
 * - "url": no VPC, no RDS. Functions get the SST Secret DATABASE_URL (`npx sst secrets set
 *   DATABASE_URL mysql://… --stage <stage>`). The default under `sst dev`, where the functions
 *   run on the developer's machine and reach the developer's MySQL.
 * DATABASE_MODE=rds|url overrides the default (e.g. a short-lived preview stage deployed
 * against a shared database).
 */
export type DatabaseMode = "rds" | "url";

export interface StageSettings {
  app: string;
  stage: string;
  mode: App["mode"];
  isProd: boolean;
  database: DatabaseMode;
  /** Retain stateful and stateless resources on `sst remove` (prod), else destroy them. */
  retain: boolean;
  vpc: {
    /** One NAT gateway per AZ on prod (an AZ outage keeps egress); one shared NAT elsewhere. */
    natGateways: number;
  };
  rds: {
    /** Burstable Graviton instance size (db.t4g.<size>). */
    instanceSize: "micro" | "small" | "medium" | "large";
    multiAz: boolean;
    allocatedStorageGiB: number;
    maxAllocatedStorageGiB: number;
    backupRetentionDays: number;
    deletionProtection: boolean;
    databaseName: string;
    /** The application user every function connects as (DML only); ≤ 10 characters, as multi-user rotation appends `_clone`. */
    applicationUser: string;
    /** Secrets Manager rotates the admin and the application credentials this often. */
    credentialRotationDays: number;
  };
  /** Connections per Lambda container: Lambda runs one request per container, RDS Proxy pools. */
  lambdaDatabasePoolSize: number;
  /**
   * Recipients of the operations alerts topic (each must confirm SNS's e-mail). Required to
   * deploy any stage; under `sst dev` it may be empty (then nobody is subscribed).
   */
  alertEmails: string[];
  /** Base URL of the legacy Factory API (a factory row's api_url overrides it). */
  factoryApiUrl: string;
  /** MessageAttributeRequester we send to the factory. */
  factoryRequester: string;
  /** A `requested` restock without callback for this long raises an alert (watchdog). */
  restockSlaSeconds: number;
  /**
   * The migrations also insert the demo catalogue where it is missing (existing rows are kept),
   * so a new non-prod stage has products to order. SEED_DEMO_DATA=true|false; never on prod.
   */
  seedDemoData: boolean;
  logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR";
  logRetention: "one_week" | "one_month" | "three_months";
  /** HTTP API default-stage throttling (per account and region limits still apply). */
  apiThrottle: { burst: number; rate: number };
  /**
   * The factory callback route's own throttle: one callback per restock request, so a flood of
   * callbacks (a replaying factory, a leaked URL being probed) cannot take the customers' share.
   */
  callbackThrottle: { burst: number; rate: number };
  /**
   * The back-in-stock subscription route's own throttle (all callers together; API Gateway has no
   * per-client limit on an HTTP API). Each accepted request may enqueue a confirmation mail to the
   * address given: with the per-address cool-down (in the database), this caps how many mails anyone
   * can make us send.
   */
  subscriptionThrottle: { burst: number; rate: number };
}

export const PROD_STAGE = "prod";
/** The SST app's name: every stack, function and named resource is `<stage>-donut-states-…`. */
export const APP_NAME = "donut-states";

/** POWERTOOLS_SERVICE_NAME of every function, and the `service` dimension of its metrics. */
export const SERVICE_NAME = "donut-states";
/** The factory simulator (`npm run factory`); under `sst dev` the functions run locally. */
export const DEFAULT_DEV_FACTORY_API_URL = "http://127.0.0.1:3001";
export const DEFAULT_RESTOCK_SLA_SECONDS = restockAlerts.slaSeconds;

type Env = Record<string, string | undefined>;

const cache = new WeakMap<object, StageSettings>();

/** The settings of this app's stage (computed once per app). */
export function stageSettings(app: App, env: Env = process.env): StageSettings {
  let settings = cache.get(app);
  if (!settings) {
    settings = computeSettings(app, env);
    cache.set(app, settings);
  }
  return settings;
}

function computeSettings(app: App, env: Env): StageSettings {
  const stage = app.stage;
  const isProd = stage === PROD_STAGE;
  // `sst remove` synthesizes too, but nothing it builds is deployed: never refuse it.
  const strict = app.mode === "deploy";
  const database = databaseMode(app, env);

  const alertEmails = list(env.ALERT_EMAILS);
  for (const email of alertEmails) {
    if (!/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/.test(email)) throw new Error(`ALERT_EMAILS: "${email}" is not an e-mail address`);
  }
  if (alertEmails.length === 0 && strict) {
    throw new Error(
      `ALERT_EMAILS is required to deploy stage ${stage}: someone must get its DLQ and overdue-restock alerts. ` +
        `Set it (comma-separated) in .env.${stage} or the environment of \`npx sst deploy --stage ${stage}\`.`,
    );
  }

  let factoryApiUrl = env.FACTORY_API_URL?.trim() || undefined;
  if (!factoryApiUrl) {
    if (strict) {
      throw new Error(
        `FACTORY_API_URL is required to deploy stage ${stage}: the factory caller has nowhere to send restock requests. ` +
          `Set it in .env.${stage} or the environment of \`npx sst deploy --stage ${stage}\`.`,
      );
    }
    factoryApiUrl = DEFAULT_DEV_FACTORY_API_URL;
  }
  if (!/^https?:\/\/[^\s]+$/.test(factoryApiUrl)) throw new Error(`FACTORY_API_URL: "${factoryApiUrl}" is not an http(s) URL`);

  const restockSlaSeconds = env.RESTOCK_SLA_SECONDS ? Number(env.RESTOCK_SLA_SECONDS) : DEFAULT_RESTOCK_SLA_SECONDS;
  if (!Number.isInteger(restockSlaSeconds) || restockSlaSeconds < 60) {
    throw new Error(`RESTOCK_SLA_SECONDS must be a whole number of seconds >= 60, got ${env.RESTOCK_SLA_SECONDS}`);
  }

  const seedDemoData = (env.SEED_DEMO_DATA?.trim() || String(!isProd)) === "true";
  if (env.SEED_DEMO_DATA?.trim() && !["true", "false"].includes(env.SEED_DEMO_DATA.trim())) {
    throw new Error(`SEED_DEMO_DATA must be "true" or "false", got "${env.SEED_DEMO_DATA}"`);
  }
  if (seedDemoData && isProd) throw new Error("SEED_DEMO_DATA=true is refused for stage prod: its catalogue is real data, not the demo's");

  return {
    app: app.name,
    stage,
    mode: app.mode,
    isProd,
    database,
    retain: isProd,
    vpc: { natGateways: isProd ? 2 : 1 },
    rds: {
      instanceSize: isProd ? "small" : "micro",
      multiAz: isProd,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: isProd ? 200 : 50,
      backupRetentionDays: isProd ? 14 : 1,
      deletionProtection: isProd,
      databaseName: "donut_states",
      applicationUser: "donut_app",
      credentialRotationDays: 30,
    },
    lambdaDatabasePoolSize: 2,
    alertEmails,
    factoryApiUrl,
    factoryRequester: env.FACTORY_REQUESTER?.trim() || `${app.name}-${stage}`,
    restockSlaSeconds,
    seedDemoData,
    logLevel: isProd ? "INFO" : "DEBUG",
    logRetention: isProd ? "three_months" : "one_week",
    apiThrottle: isProd ? { burst: 2000, rate: 1000 } : { burst: 200, rate: 100 },
    callbackThrottle: isProd ? { burst: 50, rate: 20 } : { burst: 10, rate: 5 },
    subscriptionThrottle: isProd ? { burst: 20, rate: 10 } : { burst: 5, rate: 2 },
  };
}

function databaseMode(app: App, env: Env): DatabaseMode {
  const explicit = env.DATABASE_MODE?.trim();
  if (explicit) {
    if (explicit !== "rds" && explicit !== "url") throw new Error(`DATABASE_MODE must be "rds" or "url", got "${explicit}"`);
    return explicit;
  }
  return app.mode === "dev" ? "url" : "rds";
}

function list(value: string | undefined): string[] {
  const items = (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  return [...new Set(items)];
}
