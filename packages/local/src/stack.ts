import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import mysql from "mysql2/promise";
import { closeDatabase, createClient } from "@donut-states/core/drizzle";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { applicationUrl } from "@donut-states/core/drizzle/local-app-user";
import { redactUrl } from "@donut-states/core/util/url";
import { seedDemoData } from "@donut-states/core/drizzle/seed";
import {
  type FunctionEnvironment,
  dlqAlarm,
  dlqAlarmFollowUp,
  factoryCaller,
  factoryQueue,
  functions,
  adminRoutes,
  allRoutes,
  offlineCredentials,
  outOfStockRule,
} from "@donut-states/core/topology";
import { type FactorySimulator, loadFactoryConfig, startFactorySimulator } from "@donut-states/factory";
import { startDlqAlarm, startEmailSubscriptions, startSqsSns } from "@donut-states/emulators/aws";
import { lambdaTarget, sqsTarget, startEventBridge } from "@donut-states/emulators/eventbridge";
import { createIamVerifier } from "@donut-states/emulators/gateway";
import { createMailer, startSmtpSink } from "@donut-states/emulators/mail";
import { startScheduler, startSqsPoller } from "@donut-states/emulators/runtime";
import { startDashboard } from "./dashboard";
import { provisionTopology } from "./aws/topology";
import { callbackSecret, loadOfflineConfig, type OfflineConfig } from "./config";
import { startGateway } from "./gateway";
import { ensureMysqlServer, withDatabase } from "./mysql";
import { listeningOn } from "./ports";
import { handlerPool } from "./runtime";

const DEFAULT_DATABASE = "donut_states";

export type OfflineStack = Awaited<ReturnType<typeof startOfflineStack>>;

/** What `npm start` writes to `.local/stack.json`: where everything runs (the ops CLI and the dashboard read it). */
export interface StackFile {
  apiUrl: string;
  dashboardUrl: string;
  factoryUrl: string;
  /** True when factoryUrl is the simulator (its /_sim/* control plane exists). */
  factorySimulator: boolean;
  sqsEndpoint: string;
  eventBridgeEndpoint: string;
  region: string;
  factoryQueueUrl: string;
  dlqUrl: string;
  alertsTopicArn: string;
  /** Where the built-in SMTP sink saves alert mails (unset when SMTP_URL sends them elsewhere). */
  mailDir?: string;
  smtpUrl: string;
  /** The database URL with its password hidden. */
  databaseUrl: string;
  databaseSource: string;
}

/**
 * Start the whole AWS topology on this machine: MySQL, SQS + DLQ and SNS (fauxqs), the event
 * bus with its rule, the Lambda runtimes (HTTP gateway, SQS poller, cron), the DLQ alarm, the
 * e-mail path and the legacy factory simulator. The handlers are the production ones; they
 * find the emulators through the standard AWS_ENDPOINT_URL_* variables set here.
 */
export async function startOfflineStack(
  overrides: Partial<OfflineConfig> & { databaseUrl?: string; factoryOptions?: Parameters<typeof startFactorySimulator>[0] } = {},
  log: (line: string) => void = () => {},
) {
  const { databaseUrl: forcedDatabaseUrl, factoryOptions, ...configOverrides } = overrides;
  const config = loadOfflineConfig(process.env, configOverrides);
  const region = config.AWS_REGION;
  const stoppers: Array<() => Promise<unknown> | unknown> = [];
  const stop = async () => {
    for (const stopper of stoppers.reverse()) await Promise.resolve(stopper()).catch((error) => log(`stop: ${(error as Error).message}`));
    stoppers.length = 0;
  };

  try {
    // 1. MySQL
    let databaseUrl = forcedDatabaseUrl;
    let databaseSource = "given";
    if (!databaseUrl) {
      const server = await ensureMysqlServer({ privateDataDir: path.join(config.LOCAL_DIR, "mysql"), log });
      stoppers.push(() => server.stop());
      const database = server.database ?? DEFAULT_DATABASE;
      const admin = await mysql.createConnection({ uri: server.serverUrl });
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await admin.end();
      databaseUrl = config.DATABASE_URL ?? withDatabase(server.serverUrl, database);
      databaseSource = server.source;
    }
    await migrateDatabase(databaseUrl);
    if (config.SEED_DEMO_DATA === "true") {
      const seeding = createClient(databaseUrl, 1);
      await seedDemoData(seeding.db);
      await seeding.pool.end();
    }
    // The functions connect as the database's DML-only application user, as in AWS; migrations,
    // seeding, the dashboard and the ops CLI keep the admin URL.
    const functionsDatabaseUrl = await applicationUrl(databaseUrl);

    // 2. SQS + SNS, and the queues and topic from the shared topology
    const host = config.HOST;
    const aws = await listeningOn("SQS_PORT", { host, port: config.SQS_PORT }, () => startSqsSns({ port: config.SQS_PORT, host, region }));
    stoppers.push(() => aws.close());
    const topology = await provisionTopology({
      sqs: aws.sqs,
      sns: aws.sns,
      settings: {
        visibilityTimeoutSeconds: config.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        maxReceiveCount: config.QUEUE_MAX_RECEIVE_COUNT,
      },
    });

    // 3. EventBridge with the OutOfStock rule -> factory queue, and on the default bus (where
    // CloudWatch sends alarm state changes) the DLQ alarm's rule -> its follow-up function.
    const followUpPool = handlerPool(functions.dlqFollowUp.handler);
    const followUp = lambdaTarget(followUpPool, functions.dlqFollowUp.timeoutSeconds * 1000, { log: (line) => log(`[eventbridge] ${line}`) });
    const eventBridge = await listeningOn("EVENTBRIDGE_PORT", { host, port: config.EVENTBRIDGE_PORT }, () => startEventBridge({
      port: config.EVENTBRIDGE_PORT,
      host,
      region,
      accountId: aws.accountId,
      rules: [
        {
          name: outOfStockRule.name,
          pattern: outOfStockRule.pattern,
          targets: [{ id: factoryQueue.name, deliver: sqsTarget(aws.sqs, topology.factoryQueueUrl) }],
        },
        {
          name: dlqAlarmFollowUp.name,
          pattern: dlqAlarmFollowUp.pattern(dlqAlarm.name),
          targets: [{ id: "dlq-follow-up", deliver: followUp }],
        },
      ],
      log: (message, error) => log(`[eventbridge] ${message}${error ? `: ${(error as Error).message}` : ""}`),
    }));
    stoppers.push(() => eventBridge.close());
    stoppers.push(() => followUp.stop());

    // 4. E-mail: the SMTP sink (or a real server), SNS e-mail subscriptions, the DLQ alarm
    const mailDir = config.MAIL_DIR ?? path.join(config.LOCAL_DIR, "mail");
    let smtpUrl = config.SMTP_URL;
    if (!smtpUrl) {
      const sink = await listeningOn("SMTP_PORT", { host, port: config.SMTP_PORT }, () =>
        startSmtpSink({ port: config.SMTP_PORT, host, dir: mailDir, log: (line) => log(`[mail] ${line}`) }),
      );
      stoppers.push(() => sink.close());
      smtpUrl = sink.url;
    }
    const mailer = createMailer({ smtpUrl });
    stoppers.push(() => mailer.close());
    const subscriptions = await startEmailSubscriptions({
      sns: aws.sns,
      sqs: aws.sqs,
      topicArn: topology.alertsTopicArn,
      emails: config.ALERT_EMAILS,
      mailer,
      retryAfterSeconds: 5,
      log: (line) => log(`[sns] ${line}`),
    });
    stoppers.push(() => subscriptions.stop());
    const alarm = startDlqAlarm({
      sqs: aws.sqs,
      sns: aws.sns,
      queueUrl: topology.dlqUrl,
      queueName: topology.dlqName,
      topicArn: topology.alertsTopicArn,
      alarm: dlqAlarm,
      description: `Messages in dead-letter queue ${topology.dlqName}: restock requests failed repeatedly and need an operator.`,
      intervalMs: config.ALARM_INTERVAL_MS,
      region,
      onStateChange: (event) => eventBridge.putServiceEvent(event),
      log: (line) => log(`[alarm] ${line}`),
    });
    stoppers.push(() => alarm.stop());

    // 5. The legacy factory (simulated unless FACTORY_API_URL points at a real one)
    let factory: FactorySimulator | undefined;
    let factoryUrl = config.FACTORY_API_URL;
    if (!factoryUrl) {
      const factoryConfig = { ...loadFactoryConfig(process.env), ...factoryOptions };
      const factoryAt = { host: factoryConfig.host ?? "127.0.0.1", port: factoryConfig.port ?? 0, hostVariable: "FACTORY_HOST" };
      factory = await listeningOn("FACTORY_PORT", factoryAt, () => startFactorySimulator({
        ...factoryConfig,
        onEvent: (event) =>
          log(
            event.type === "request"
              ? `[factory] ${event.request.method} ${event.request.path} -> ${event.request.outcome}${event.request.status ? ` ${event.request.status}` : ""}`
              : `[factory] callback #${event.callback.delivery ?? 1} -> ${event.callback.status ?? event.callback.error}`,
          ),
      }));
      stoppers.push(() => factory!.close());
      factoryUrl = factory.url;
    }

    // 6. The functions' configuration, as the stacks would set it (AWS SDK endpoints included).
    Object.assign(process.env, {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "local",
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "local",
      AWS_ENDPOINT_URL_SQS: aws.endpoint,
      AWS_ENDPOINT_URL_SNS: aws.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
    });
    Object.assign(process.env, {
      DATABASE_URL: functionsDatabaseUrl,
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? "32",
      EVENT_BUS_NAME: "default",
      ALERTS_TOPIC_ARN: topology.alertsTopicArn,
      FACTORY_DLQ_URL: topology.dlqUrl,
      FACTORY_API_URL: factoryUrl,
      FACTORY_CALLBACK_SECRET: callbackSecret(config),
      FACTORY_TIMEOUT_MS: String(config.FACTORY_TIMEOUT_MS),
      RESTOCK_SLA_SECONDS: String(config.RESTOCK_SLA_SECONDS),
      RESTOCK_PENDING_SECONDS: String(config.RESTOCK_PENDING_SECONDS),
    } satisfies FunctionEnvironment);
    stoppers.push(() => closeDatabase());

    // 7. Lambda runtimes: HTTP API, SQS event source mapping, cron
    // The admin routes are checked as API Gateway's AWS_IAM authorizer would, against the offline credentials.
    const iam = { routes: Object.keys(adminRoutes), verify: createIamVerifier({ credentials: offlineCredentials, region }) };
    const gateway = await listeningOn("PORT", { host, port: config.PORT }, () => startGateway({ routes: allRoutes, iam, port: config.PORT, host }));
    stoppers.push(() => gateway.close());
    // The real port is known only now (PORT=0 in tests): the factory calls back here.
    process.env.PUBLIC_API_URL = gateway.url;

    const caller = handlerPool(functions.factoryCaller.handler);
    await caller.prewarm();
    const startPoller = () =>
      startSqsPoller({
        sqs: aws.sqs,
        queueUrl: topology.factoryQueueUrl,
        queueArn: topology.factoryQueueArn,
        region,
        handler: caller,
        batchSize: factoryCaller.batchSize,
        timeoutMs: Math.min(functions.factoryCaller.timeoutSeconds * 1000, config.QUEUE_VISIBILITY_TIMEOUT_SECONDS * 1000),
        concurrency: factoryCaller.maxConcurrency,
        waitTimeSeconds: 1,
        log: (line) => log(`[poller] ${line}`),
      });
    let poller = startPoller();
    stoppers.push(() => poller.stop());

    const relay = handlerPool(functions.outboxRelay.handler);
    const watchdog = handlerPool(functions.restockWatchdog.handler);
    await Promise.all([relay.prewarm(), watchdog.prewarm(), followUpPool.prewarm()]);
    const scheduler = startScheduler(
      [
        { name: "outbox-relay", intervalMs: config.OUTBOX_RELAY_INTERVAL_MS, handler: relay },
        { name: "restock-watchdog", intervalMs: config.WATCHDOG_INTERVAL_MS, handler: watchdog },
      ],
      (line) => log(`[cron] ${line}`),
    );
    stoppers.push(() => scheduler.stop());

    const mailbox = smtpUrl === config.SMTP_URL ? undefined : mailDir;
    const dashboard = await listeningOn("DASHBOARD_PORT", { host, port: config.DASHBOARD_PORT }, () => startDashboard({
      port: config.DASHBOARD_PORT,
      host,
      databaseUrl,
      sqs: aws.sqs,
      factoryQueueUrl: topology.factoryQueueUrl,
      dlqUrl: topology.dlqUrl,
      mailDir: mailbox,
      alarmState: () => alarm.state,
      log: (line) => log(`[dashboard] ${line}`),
    }));
    stoppers.push(() => dashboard.close());

    // Where everything is, for the ops CLI and the dashboard.
    const endpoints: StackFile = {
      apiUrl: gateway.url,
      dashboardUrl: dashboard.url,
      factoryUrl,
      factorySimulator: Boolean(factory),
      sqsEndpoint: aws.endpoint,
      eventBridgeEndpoint: eventBridge.url,
      region,
      factoryQueueUrl: topology.factoryQueueUrl,
      dlqUrl: topology.dlqUrl,
      alertsTopicArn: topology.alertsTopicArn,
      mailDir: mailbox,
      smtpUrl,
      databaseUrl: redactUrl(databaseUrl),
      databaseSource,
    };
    mkdirSync(config.LOCAL_DIR, { recursive: true });
    writeFileSync(path.join(config.LOCAL_DIR, "stack.json"), `${JSON.stringify(endpoints, null, 2)}\n`);

    return {
      config,
      ...endpoints,
      databaseUrl,
      topology,
      aws,
      eventBridge,
      factory,
      alarm,
      scheduler,
      get poller() {
        return poller;
      },
      /** Resolves once the API has answered every request it received. */
      apiIdle: () => gateway.idle(),
      /** Restart the SQS poller: gracefully, or killed mid-batch as if its Lambda died. */
      async restartPoller({ kill = false }: { kill?: boolean } = {}) {
        if (kill) poller.kill();
        else await poller.stop();
        poller = startPoller();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

