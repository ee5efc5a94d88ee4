/**
 * Where the ops CLI points: the offline stack (default) or a deployed stage (`--stage`).
 *
 * Stock, products, restock requests, the outbox and the DLQ depth go through the admin API,
 * SigV4-signed, in both cases: offline through the local gateway (its URL from
 * `.local/stack.json`, written by `npm start`), signed with the offline credentials; for a
 * stage through its HTTP API (--api-url or API_URL, the stack output ApiUrl), signed with the
 * standard AWS credential chain. No database connection is opened for either.
 *
 * DLQ peek and redrive and the queue depths use SQS directly: offline the stack file gives the
 * emulator and the queue URLs; for a stage, AWS_REGION and --queue-url/--dlq-url or
 * FACTORY_QUEUE_URL/FACTORY_DLQ_URL (stack outputs). So does the back-in-stock notifier's
 * failed-events queue (--failed-events-url or BACK_IN_STOCK_FAILED_EVENTS_URL), whose replay puts
 * events on the bus (--bus-name or EVENT_BUS_NAME; offline the stack file's emulator). `demo reset` (offline only) uses the
 * offline stack's own database, the one its stack file names, on this machine; DATABASE_URL may
 * give its password (the stack file keeps it redacted) but must name that same database.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { createClient, type Database } from "@donut-states/core/drizzle";
import { DEFAULT_REGION, offlineCredentials } from "@donut-states/core/topology";
import { awsClientConfig, DEFAULT_AWS_TIMEOUTS, SQS_TIMEOUTS } from "@donut-states/core/util/aws";
import { parseCredentialUrl, redactUrl } from "@donut-states/core/util/url";
import type { StackFile as OfflineStackFile } from "@donut-states/local/stack";
import { type AdminApi, createAdminApi } from "./admin-api";
import { OpsError, usageError } from "./output";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Options every command accepts (see program.ts). */
export interface GlobalOptions {
  json?: boolean;
  stage?: string;
  stackFile?: string;
  region?: string;
  queueUrl?: string;
  dlqUrl?: string;
  apiUrl?: string;
  failedEventsUrl?: string;
  busName?: string;
}

/**
 * What `npm start` writes to .local/stack.json: the offline stack's own type (a type-only import,
 * so the CLI does not load the offline stack). Every field may be missing from a file written by
 * an older version or by hand.
 */
export type StackFile = Partial<OfflineStackFile>;

export type Env = Record<string, string | undefined>;

export interface OpsContext {
  readonly mode: "offline" | "aws";
  /** For messages: "offline stack (.local/stack.json)" or "stage prod". */
  readonly label: string;
  readonly json: boolean;
  readonly region: string;
  /** The offline stack file's content, when there is one. */
  readonly stack?: StackFile;
  /** The offline stack's database URL with its password hidden, for messages. */
  readonly databaseLabel: string;
  /** Where the SQS client sends requests, for messages. */
  readonly sqsLabel: string;
  /**
   * The offline stack's own database (only `demo reset` uses it; a deployed stage is operated
   * through `api()`): refused unless the stack file names it on this machine and DATABASE_URL,
   * if set, names the same one.
   */
  db(): Promise<Database>;
  /** The admin API (SigV4-signed): stock, products, restock requests, outbox, DLQ depth. */
  api(): AdminApi;
  sqs(): SQSClient;
  factoryQueueUrl(): string;
  dlqUrl(): string;
  /** The back-in-stock notifier's failed-events queue. */
  backInStockFailedEventsUrl(): string;
  eventBridge(): EventBridgeClient;
  /** The bus our rules are on (replayed events go there). */
  eventBusName(): string;
  close(): Promise<void>;
}

/** What the offline emulators accept: the offline stack's fixed credentials. */
const OFFLINE_CLIENT_CREDENTIALS = { accessKeyId: offlineCredentials.accessKeyId, secretAccessKey: offlineCredentials.secretAccessKey };

const value = (raw: string | undefined) => (raw === undefined || raw === "" ? undefined : raw);

export function readStackFile(file: string): StackFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StackFile;
  } catch (error) {
    throw new OpsError(`Cannot read the offline stack file ${file}: ${(error as Error).message}`);
  }
}

export function createContext(options: GlobalOptions, env: Env = process.env): OpsContext {
  const json = options.json === true;
  if (options.stage !== undefined) return awsContext(options, env, json);
  return offlineContext(options, env, json);
}

function offlineContext(options: GlobalOptions, env: Env, json: boolean): OpsContext {
  const stackFile = path.resolve(
    options.stackFile ?? value(env.OPS_STACK_FILE) ?? path.join(value(env.LOCAL_DIR) ?? path.join(REPO_ROOT, ".local"), "stack.json"),
  );
  const stack = readStackFile(stackFile);
  if (options.stackFile && !stack) throw usageError(`No offline stack file at ${stackFile}`);
  const region = options.region ?? stack?.region ?? value(env.AWS_REGION) ?? DEFAULT_REGION;
  const where = path.relative(process.cwd(), stackFile) || stackFile;
  const notRunning = `no offline stack file at ${where}: start the stack with \`npm start\`, or pass --stage with the deployed stage's settings`;
  env.AWS_REGION = region;

  let client: ReturnType<typeof createClient> | undefined;
  let sqs: SQSClient | undefined;
  let eventBridge: EventBridgeClient | undefined;
  let api: AdminApi | undefined;
  return {
    mode: "offline",
    label: stack ? `offline stack (${where})` : "offline stack",
    json,
    region,
    stack,
    databaseLabel: stack?.databaseUrl ?? "(no offline stack)",
    sqsLabel: stack?.sqsEndpoint ?? "(no SQS endpoint)",
    async db() {
      client ??= createClient(offlineStackDatabaseUrl(stack, where, value(env.DATABASE_URL)), 1);
      return client.db;
    },
    api() {
      const baseUrl = options.apiUrl ?? value(env.API_URL) ?? stack?.apiUrl;
      if (!baseUrl) throw new OpsError(`Cannot reach the admin API: ${notRunning}`);
      // The offline gateway checks signatures against the offline stack's fixed credentials.
      api ??= createAdminApi({ baseUrl, region, credentials: offlineCredentials, target: `offline stack (${where})` });
      return api;
    },
    sqs() {
      if (!stack?.sqsEndpoint) throw new OpsError(`Cannot reach SQS: ${notRunning}`);
      // fauxqs: an explicit endpoint, and queue URLs used exactly as the emulator returned them.
      sqs ??= tagErrors(
        new SQSClient({
          endpoint: stack.sqsEndpoint,
          region,
          credentials: OFFLINE_CLIENT_CREDENTIALS,
          useQueueUrlAsEndpoint: false,
          ...awsClientConfig(SQS_TIMEOUTS),
        }),
      );
      return sqs;
    },
    factoryQueueUrl() {
      const url = options.queueUrl ?? value(env.FACTORY_QUEUE_URL) ?? stack?.factoryQueueUrl;
      if (!url) throw new OpsError(`No factory queue URL: ${notRunning}`);
      return url;
    },
    dlqUrl() {
      const url = options.dlqUrl ?? value(env.FACTORY_DLQ_URL) ?? stack?.dlqUrl;
      if (!url) throw new OpsError(`No DLQ URL: ${notRunning}`);
      return url;
    },
    backInStockFailedEventsUrl() {
      const url = options.failedEventsUrl ?? value(env.BACK_IN_STOCK_FAILED_EVENTS_URL) ?? stack?.backInStockFailedEventsQueueUrl;
      if (!url) throw new OpsError(`No failed-events queue URL: ${notRunning}`);
      return url;
    },
    eventBridge() {
      if (!stack?.eventBridgeEndpoint) throw new OpsError(`Cannot reach EventBridge: ${notRunning}`);
      eventBridge ??= new EventBridgeClient({
        endpoint: stack.eventBridgeEndpoint,
        region,
        credentials: OFFLINE_CLIENT_CREDENTIALS,
        ...awsClientConfig(DEFAULT_AWS_TIMEOUTS),
      });
      return eventBridge;
    },
    eventBusName() {
      return options.busName ?? value(env.EVENT_BUS_NAME) ?? stack?.eventBusName ?? "default";
    },
    async close() {
      sqs?.destroy();
      eventBridge?.destroy();
      await client?.pool.end();
    },
  };
}

/**
 * The URL of the offline stack's own database, or a refusal that changed nothing: the stack file
 * must name a database on a loopback address, and DATABASE_URL (which may carry the password the
 * stack file redacts) must name that same server and database. A command that deletes demo data
 * must not follow DATABASE_URL to wherever it points (a stage's database behind a tunnel).
 */
export function offlineStackDatabaseUrl(stack: StackFile | undefined, where: string, given: string | undefined): string {
  const refuse = (why: string) => usageError(`${why}. demo reset runs only on the offline stack's own database. Nothing was changed.`);
  if (!stack?.databaseUrl) throw refuse(`There is no offline stack file at ${where} naming a database (start it with \`npm start\`)`);
  const named = parseCredentialUrl(stack.databaseUrl, `the database URL in ${where}`);
  if (!isLoopback(named.hostname))
    throw refuse(`The offline stack's database ${redactUrl(stack.databaseUrl)} is not on this machine (${named.hostname})`);
  if (given === undefined) {
    if (named.password === "****")
      throw usageError(`The offline stack's database ${stack.databaseUrl} has a password ${where} does not store: set DATABASE_URL`);
    return stack.databaseUrl;
  }
  const target = parseCredentialUrl(given, "DATABASE_URL");
  const sameDatabase =
    isLoopback(target.hostname) && (target.port || "3306") === (named.port || "3306") && target.pathname === named.pathname;
  if (!sameDatabase)
    throw refuse(`DATABASE_URL names ${redactUrl(given)}, not the offline stack's database ${redactUrl(stack.databaseUrl)} (${where})`);
  return given;
}

/** 127.0.0.0/8, ::1 or localhost: this machine. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function awsContext(options: GlobalOptions, env: Env, json: boolean): OpsContext {
  const stage = options.stage!;
  if (!/^[A-Za-z0-9-]{1,64}$/.test(stage)) throw usageError(`--stage must be a stage name such as "prod" (got ${JSON.stringify(stage)})`);
  const region = options.region ?? value(env.AWS_REGION) ?? value(env.AWS_DEFAULT_REGION);
  if (!region) throw usageError(`Set AWS_REGION (or --region) for stage ${stage}`);
  env.AWS_REGION = region;
  const fromOutputs = (flag: string, variable: string) =>
    `No ${variable} for stage ${stage}: pass ${flag} or set ${variable} (the stack outputs list it: \`npx sst deploy --stage ${stage}\` prints them, or \`aws cloudformation describe-stacks\`)`;

  let sqs: SQSClient | undefined;
  let eventBridge: EventBridgeClient | undefined;
  let api: AdminApi | undefined;
  return {
    mode: "aws",
    label: `stage ${stage} (${region})`,
    json,
    region,
    databaseLabel: "(the admin API's)",
    sqsLabel: `SQS ${region}`,
    async db() {
      throw new OpsError(`Stage ${stage} is operated through its admin API, not its database`);
    },
    api() {
      const baseUrl = options.apiUrl ?? value(env.API_URL);
      if (!baseUrl) throw new OpsError(fromOutputs("--api-url", "API_URL"));
      // Credentials from the SDK's standard chain (AWS_PROFILE, SSO, environment, instance role...).
      api ??= createAdminApi({ baseUrl, region, target: `stage ${stage}` });
      return api;
    },
    sqs() {
      // Credentials and endpoint from the SDK's standard chain (AWS_PROFILE, SSO, env...).
      sqs ??= tagErrors(new SQSClient({ region, ...awsClientConfig(SQS_TIMEOUTS) }));
      return sqs;
    },
    factoryQueueUrl() {
      const url = options.queueUrl ?? value(env.FACTORY_QUEUE_URL);
      if (!url) throw new OpsError(fromOutputs("--queue-url", "FACTORY_QUEUE_URL"));
      return url;
    },
    dlqUrl() {
      const url = options.dlqUrl ?? value(env.FACTORY_DLQ_URL);
      if (!url) throw new OpsError(fromOutputs("--dlq-url", "FACTORY_DLQ_URL"));
      return url;
    },
    backInStockFailedEventsUrl() {
      const url = options.failedEventsUrl ?? value(env.BACK_IN_STOCK_FAILED_EVENTS_URL);
      if (!url) throw new OpsError(fromOutputs("--failed-events-url", "BACK_IN_STOCK_FAILED_EVENTS_URL"));
      return url;
    },
    eventBridge() {
      eventBridge ??= new EventBridgeClient({ region, ...awsClientConfig(DEFAULT_AWS_TIMEOUTS) });
      return eventBridge;
    },
    eventBusName() {
      const name = options.busName ?? value(env.EVENT_BUS_NAME);
      if (!name) throw new OpsError(fromOutputs("--bus-name", "EVENT_BUS_NAME"));
      return name;
    },
    async close() {
      sqs?.destroy();
      eventBridge?.destroy();
    },
  };
}

/** Marks every error an SQS call throws, so a refused connection is not mistaken for the database's. */
export function isSqsError(error: unknown): boolean {
  return Boolean(error && typeof error === "object" && (error as { $opsSource?: string }).$opsSource === "sqs");
}

function tagErrors(client: SQSClient): SQSClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === "object") Object.assign(error, { $opsSource: "sqs" });
        throw error;
      }
    },
    { step: "initialize", name: "opsTagSqsErrors" },
  );
  return client;
}
