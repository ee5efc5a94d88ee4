import { EventEmitter } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { closeDatabase, createClient } from "@donut-states/core/drizzle";
import { applicationUrl } from "@donut-states/core/drizzle/local-app-user";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { seedDemoData } from "@donut-states/core/drizzle/seed";
import {
  adminRoutes,
  allRoutes,
  backInStockRule,
  backInStockTopic,
  dlqAlarm,
  dlqAlarmFollowUp,
  type FunctionDefinition,
  type FunctionEnvironment,
  factoryCaller,
  factoryQueue,
  functions,
  offlineCredentials,
  outOfStockRule,
} from "@donut-states/core/topology";
import { redactUrl } from "@donut-states/core/util/url";
import {
  type DlqAlarm,
  type EmailSubscriptionFollower,
  followEmailSubscriptions,
  type SqsSnsEmulator,
  startDlqAlarm,
  startEmailSubscriptions,
  startSqsSns,
} from "@donut-states/emulators/aws";
import {
  type AsyncInvocationFailureRecord,
  type EventBridgeEmulator,
  type EventEnvelope,
  lambdaTarget,
  sqsTarget,
  startEventBridge,
} from "@donut-states/emulators/eventbridge";
import { createIamVerifier } from "@donut-states/emulators/gateway";
import { createMailer, startSmtpSink } from "@donut-states/emulators/mail";
import { type HandlerPool, type SqsPoller, startScheduler, startSqsPoller } from "@donut-states/emulators/runtime";
import { type FactorySimulator, loadFactoryConfig, startFactorySimulator } from "@donut-states/factory";
import mysql from "mysql2/promise";
import { busRules, type ProvisionedTopology, provisionTopology } from "./aws/topology";
import { callbackSecret, loadOfflineConfig, type OfflineConfig } from "./config";
import { type Dashboard, startDashboard } from "./dashboard";
import { type Gateway, startGateway } from "./gateway";
import { ensureMysqlServer, withDatabase } from "./mysql";
import { listeningOn } from "./ports";
import { handlerPool } from "./runtime";

const DEFAULT_DATABASE = "donut_states";
/** The offline event bus's name: the emulator's one bus, as the functions and the ops CLI name it. */
const OFFLINE_EVENT_BUS = "default";

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
  /** The back-in-stock topic customers' e-mail subscriptions are made on. */
  backInStockTopicArn: string;
  /** RestockFulfilled events the back-in-stock notifier failed on after Lambda's retries (docs/runbook.md#back-in-stock-failed-events). */
  backInStockFailedEventsQueueUrl: string;
  /** The bus the functions publish to (EVENT_BUS_NAME). */
  eventBusName: string;
  /** Where the built-in SMTP sink saves alert mails (unset when SMTP_URL sends them elsewhere). */
  mailDir?: string;
  smtpUrl: string;
  /** The database URL with its password hidden. */
  databaseUrl: string;
  databaseSource: string;
}

/** What a caller may set besides the configuration: a database to use as is, the simulator's options. */
export type StackOverrides = Partial<OfflineConfig> & {
  databaseUrl?: string;
  factoryOptions?: Parameters<typeof startFactorySimulator>[0];
};

/**
 * Start the whole AWS topology on this machine: MySQL, SQS + DLQ and SNS (fauxqs), the event
 * bus with its rules, the DLQ alarm and the e-mail path, the legacy factory simulator, the Lambda
 * runtimes (HTTP gateway, SQS poller, cron) and the dashboard. The handlers are the production
 * ones; they find the emulators through the standard AWS_ENDPOINT_URL_* variables set here.
 * Each step stops what it started; stop() stops the steps in reverse order, as does a step that
 * fails to start.
 */
export async function startOfflineStack(overrides: StackOverrides = {}, log: Log = () => {}) {
  const { databaseUrl: givenDatabaseUrl, factoryOptions, ...configOverrides } = overrides;
  const config = loadOfflineConfig(process.env, configOverrides);
  const started = stopList(log);
  const run = async <T>(starting: Promise<Step<T>>): Promise<T> => {
    const { value, stop } = await starting;
    started.add(stop);
    return value;
  };

  try {
    const database = await run(startDatabase(config, givenDatabaseUrl, log));
    const messaging = await run(startMessaging(config, log));
    const alerting = await run(startAlerting(config, messaging, log));
    const factory = await run(startFactory(config, factoryOptions, log));
    await run(configureFunctions(config, { database, messaging, factory }, log));
    const runtimes = await run(startRuntimes(config, messaging, log));
    const dashboard = await run(serveDashboard(config, { database, messaging, alerting }, log));
    const endpoints = await run(writeStackFile(config, { database, messaging, alerting, factory, runtimes, dashboard }));

    const { topology, aws, eventBridge } = messaging;
    return {
      config,
      ...endpoints,
      databaseUrl: database.url,
      topology,
      aws,
      eventBridge,
      factory: factory.simulator,
      alarm: alerting.alarm,
      /** The back-in-stock topic's e-mail subscriptions, as delivered offline. */
      backInStockMail: alerting.backInStockMail,
      scheduler: runtimes.scheduler,
      get poller() {
        return runtimes.poller;
      },
      /**
       * Calls `listener` each time a function run by a rule on our bus (a `busRule` of the
       * topology) is done with an event, Lambda's retries included. Returns the unsubscribe.
       */
      onBusRuleDelivered(listener: (rule: string, event: EventEnvelope) => void): () => void {
        messaging.busRuleDeliveries.on("delivered", listener);
        return () => void messaging.busRuleDeliveries.off("delivered", listener);
      },
      /** Resolves once the API has answered every request it received. */
      apiIdle: () => runtimes.gateway.idle(),
      /** Restart the SQS poller: gracefully, or killed mid-batch as if its Lambda died. */
      restartPoller: runtimes.restartPoller,
      stop: started.stop,
    };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

type Log = (line: string) => void;
type Stopper = () => Promise<unknown> | unknown;

/** One started part of the offline stack: what it gives the parts after it, and how to stop it. */
export interface Step<T> {
  value: T;
  stop(): Promise<void>;
}

/** What was started, stopped newest first; a stop that fails is logged and the others still run. */
function stopList(log: Log) {
  const stoppers: Stopper[] = [];
  return {
    add: (stopper: Stopper) => void stoppers.push(stopper),
    async stop() {
      for (const stopper of stoppers.splice(0).reverse()) {
        await (async () => stopper())().catch((error) => log(`stop: ${(error as Error).message}`));
      }
    },
  };
}

/** Runs one step: what it starts is registered with `onStop`, and stopped again if the step fails halfway. */
async function step<T>(log: Log, start: (onStop: (stopper: Stopper) => void) => Promise<T>): Promise<Step<T>> {
  const started = stopList(log);
  try {
    return { value: await start(started.add), stop: started.stop };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

interface Database {
  /** The admin URL: migrations, seeding, the dashboard and the ops CLI. */
  url: string;
  /** The database's DML-only application user, whom the functions connect as (as in AWS). */
  functionsUrl: string;
  source: string;
}

/** MySQL: the given database, else DATABASE_URL's server, 127.0.0.1:3306 or a private mariadbd; migrated (and seeded). */
function startDatabase(config: OfflineConfig, givenUrl: string | undefined, log: Log): Promise<Step<Database>> {
  return step(log, async (onStop) => {
    let url = givenUrl;
    let source = "given";
    if (!url) {
      const server = await ensureMysqlServer({ privateDataDir: path.join(config.LOCAL_DIR, "mysql"), log });
      onStop(() => server.stop());
      const database = server.database ?? DEFAULT_DATABASE;
      const admin = await mysql.createConnection({ uri: server.serverUrl });
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await admin.end();
      url = config.DATABASE_URL ?? withDatabase(server.serverUrl, database);
      source = server.source;
    }
    await migrateDatabase(url);
    if (config.SEED_DEMO_DATA === "true") {
      const seeding = createClient(url, 1);
      await seedDemoData(seeding.db);
      await seeding.pool.end();
    }
    return { url, source, functionsUrl: await applicationUrl(url) };
  });
}

interface Messaging {
  aws: SqsSnsEmulator;
  topology: ProvisionedTopology;
  eventBridge: EventBridgeEmulator;
  /** The DLQ follow-up's execution environments, the target of its rule (warmed with the other runtimes). */
  followUp: HandlerPool;
  /** The execution environments of the functions rules on our bus run (`busRule` triggers). */
  busRulePools: HandlerPool[];
  /** "delivered" once such a function is done with an event (Lambda's retries included). */
  busRuleDeliveries: EventEmitter<{ delivered: [rule: string, event: EventEnvelope] }>;
}

/**
 * SQS + SNS with the queues and topics of the shared topology; EventBridge with the OutOfStock
 * rule -> factory queue, on the default bus (where CloudWatch sends alarm state changes) the DLQ
 * alarm's rule -> its follow-up function, and the rule of every function the topology triggers
 * by a rule on our bus (as the stacks build them).
 */
function startMessaging(config: OfflineConfig, log: Log): Promise<Step<Messaging>> {
  return step(log, async (onStop) => {
    const { HOST: host, AWS_REGION: region } = config;
    const aws = await listeningOn("SQS_PORT", { host, port: config.SQS_PORT }, () => startSqsSns({ port: config.SQS_PORT, host, region }));
    onStop(() => aws.close());
    const topology = await provisionTopology({
      sqs: aws.sqs,
      sns: aws.sns,
      settings: {
        visibilityTimeoutSeconds: config.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        maxReceiveCount: config.QUEUE_MAX_RECEIVE_COUNT,
      },
    });

    const followUp = handlerPool(functions.dlqFollowUp.handler);
    const followUpTarget = lambdaTarget(followUp, functions.dlqFollowUp.timeoutSeconds * 1000, {
      log: (line) => log(`[eventbridge] ${line}`),
    });
    const busRuleDeliveries = new EventEmitter<{ delivered: [rule: string, event: EventEnvelope] }>();
    const busRuleTargets = (Object.values(functions) as FunctionDefinition[]).flatMap(({ handler, timeoutSeconds, trigger }) => {
      if (!("busRule" in trigger)) return [];
      const pool = handlerPool(handler);
      // Lambda's on-failure destination: the rule's failed-events queue gets the invocation record.
      const onFailure = {
        functionArn: `arn:aws:lambda:${region}:${aws.accountId}:function:${pool.functionName}`,
        send: async (record: AsyncInvocationFailureRecord) => {
          await aws.sqs.send(
            new SendMessageCommand({ QueueUrl: topology.failedEventsQueueUrls[trigger.busRule.name], MessageBody: JSON.stringify(record) }),
          );
        },
      };
      return [
        {
          rule: trigger.busRule,
          pool,
          deliver: lambdaTarget(pool, timeoutSeconds * 1000, { log: (line) => log(`[eventbridge] ${line}`), onFailure }),
        },
      ];
    });
    const eventBridge = await listeningOn("EVENTBRIDGE_PORT", { host, port: config.EVENTBRIDGE_PORT }, () =>
      startEventBridge({
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
            targets: [{ id: "dlq-follow-up", deliver: followUpTarget }],
          },
          ...busRuleTargets.map(({ rule, pool, deliver }) => ({
            name: rule.name,
            pattern: rule.pattern,
            targets: [
              {
                id: pool.functionName,
                // Its invocation (with Lambda's retries) is over: tests wait for this, not for time.
                deliver: async (event: EventEnvelope) => {
                  await deliver(event);
                  busRuleDeliveries.emit("delivered", rule.name, event);
                },
              },
            ],
          })),
        ],
        log: (message, error) => log(`[eventbridge] ${message}${error ? `: ${(error as Error).message}` : ""}`),
      }),
    );
    onStop(() => eventBridge.close());
    onStop(() => followUpTarget.stop());
    for (const { deliver } of busRuleTargets) onStop(() => deliver.stop());
    return { aws, topology, eventBridge, followUp, busRulePools: busRuleTargets.map(({ pool }) => pool), busRuleDeliveries };
  });
}

interface Alerting {
  alarm: DlqAlarm;
  /** The back-in-stock topic's e-mail subscriptions, as delivered offline. */
  backInStockMail: EmailSubscriptionFollower;
  smtpUrl: string;
  /** Where the built-in SMTP sink saves mails; unset when SMTP_URL sends them elsewhere. */
  mailDir?: string;
}

/** E-mail: the SMTP sink (or a real server), SNS e-mail subscriptions (operations' and customers'), the DLQ alarm. */
function startAlerting(config: OfflineConfig, { aws, topology, eventBridge }: Messaging, log: Log): Promise<Step<Alerting>> {
  return step(log, async (onStop) => {
    const host = config.HOST;
    const mailDir = config.MAIL_DIR ?? path.join(config.LOCAL_DIR, "mail");
    let smtpUrl = config.SMTP_URL;
    let sinkDir: string | undefined;
    if (!smtpUrl) {
      const sink = await listeningOn("SMTP_PORT", { host, port: config.SMTP_PORT }, () =>
        startSmtpSink({ port: config.SMTP_PORT, host, dir: mailDir, log: (line) => log(`[mail] ${line}`) }),
      );
      onStop(() => sink.close());
      smtpUrl = sink.url;
      sinkDir = mailDir;
    }
    const mailer = createMailer({ smtpUrl });
    onStop(() => mailer.close());
    const subscriptions = await startEmailSubscriptions({
      sns: aws.sns,
      sqs: aws.sqs,
      topicArn: topology.alertsTopicArn,
      emails: config.ALERT_EMAILS,
      mailer,
      retryAfterSeconds: 5,
      log: (line) => log(`[sns] ${line}`),
    });
    onStop(() => subscriptions.stop());
    // Customers' back-in-stock subscriptions are made while the stack runs (the subscription
    // route): each is confirmed (its confirmation mail in the log) and gets what its filter
    // policy lets through, from the topic's display name as SNS sends it.
    const backInStockMailer = createMailer({ smtpUrl, from: `${backInStockTopic.displayName} <no-reply@sns.amazonaws.com>` });
    onStop(() => backInStockMailer.close());
    const backInStockMail = followEmailSubscriptions({
      sns: aws.sns,
      sqs: aws.sqs,
      topicArn: topology.backInStockTopicArn,
      mailer: backInStockMailer,
      retryAfterSeconds: 5,
      log: (line) => log(`[sns] ${line}`),
    });
    onStop(() => backInStockMail.stop());
    const alarm = startDlqAlarm({
      sqs: aws.sqs,
      sns: aws.sns,
      queueUrl: topology.dlqUrl,
      queueName: topology.dlqName,
      topicArn: topology.alertsTopicArn,
      alarm: dlqAlarm,
      description: `Messages in dead-letter queue ${topology.dlqName}: restock requests failed repeatedly and need an operator.`,
      intervalMs: config.ALARM_INTERVAL_MS,
      region: config.AWS_REGION,
      onStateChange: (event) => eventBridge.putServiceEvent(event),
      log: (line) => log(`[alarm] ${line}`),
    });
    onStop(() => alarm.stop());
    // Each bus rule's failed-events queue has its alarm too, e-mailing operations the same way.
    for (const rule of busRules) {
      const failedEvents = startDlqAlarm({
        sqs: aws.sqs,
        sns: aws.sns,
        queueUrl: topology.failedEventsQueueUrls[rule.name],
        queueName: rule.failedEvents.queueName,
        topicArn: topology.alertsTopicArn,
        alarm: rule.failedEvents.alarm,
        description: `Events of rule ${rule.name} wait in ${rule.failedEvents.queueName}: its function failed on them after Lambda's retries. Runbook: docs/runbook.md#back-in-stock-failed-events`,
        intervalMs: config.ALARM_INTERVAL_MS,
        region: config.AWS_REGION,
        onStateChange: (event) => eventBridge.putServiceEvent(event),
        log: (line) => log(`[alarm] ${line}`),
      });
      onStop(() => failedEvents.stop());
    }
    return { alarm, backInStockMail, smtpUrl, mailDir: sinkDir };
  });
}

interface Factory {
  url: string;
  /** The simulator, unless FACTORY_API_URL points at a real factory. */
  simulator?: FactorySimulator;
}

/** The legacy factory: simulated unless FACTORY_API_URL points at a real one. */
function startFactory(config: OfflineConfig, options: StackOverrides["factoryOptions"], log: Log): Promise<Step<Factory>> {
  return step(log, async (onStop) => {
    if (config.FACTORY_API_URL) return { url: config.FACTORY_API_URL };
    const factoryConfig = { ...loadFactoryConfig(process.env), ...options };
    const factoryAt = { host: factoryConfig.host ?? "127.0.0.1", port: factoryConfig.port ?? 0, hostVariable: "FACTORY_HOST" };
    const simulator = await listeningOn("FACTORY_PORT", factoryAt, () =>
      startFactorySimulator({
        ...factoryConfig,
        onEvent: (event) =>
          log(
            event.type === "request"
              ? `[factory] ${event.request.method} ${event.request.path} -> ${event.request.outcome}${event.request.status ? ` ${event.request.status}` : ""}`
              : `[factory] callback #${event.callback.delivery ?? 1} -> ${event.callback.status ?? event.callback.error}`,
          ),
      }),
    );
    onStop(() => simulator.close());
    return { url: simulator.url, simulator };
  });
}

/** The functions' configuration, as the stacks would set it (AWS SDK endpoints included); stopping closes their database pool. */
function configureFunctions(
  config: OfflineConfig,
  { database, messaging, factory }: { database: Database; messaging: Messaging; factory: Factory },
  log: Log,
): Promise<Step<void>> {
  const { aws, topology, eventBridge } = messaging;
  return step(log, async (onStop) => {
    Object.assign(process.env, {
      AWS_REGION: config.AWS_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "local",
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "local",
      AWS_ENDPOINT_URL_SQS: aws.endpoint,
      AWS_ENDPOINT_URL_SNS: aws.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.url,
    });
    Object.assign(process.env, {
      DATABASE_URL: database.functionsUrl,
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? "32",
      EVENT_BUS_NAME: OFFLINE_EVENT_BUS,
      ALERTS_TOPIC_ARN: topology.alertsTopicArn,
      BACK_IN_STOCK_TOPIC_ARN: topology.backInStockTopicArn,
      FACTORY_DLQ_URL: topology.dlqUrl,
      FACTORY_API_URL: factory.url,
      FACTORY_CALLBACK_SECRET: callbackSecret(config),
      FACTORY_TIMEOUT_MS: String(config.FACTORY_TIMEOUT_MS),
      RESTOCK_SLA_SECONDS: String(config.RESTOCK_SLA_SECONDS),
      RESTOCK_PENDING_SECONDS: String(config.RESTOCK_PENDING_SECONDS),
    } satisfies FunctionEnvironment);
    onStop(() => closeDatabase());
  });
}

interface Runtimes {
  gateway: Gateway;
  scheduler: ReturnType<typeof startScheduler>;
  /** The factory queue's poller now (restartPoller replaces it). */
  readonly poller: SqsPoller;
  restartPoller(options?: { kill?: boolean }): Promise<void>;
}

/** The Lambda runtimes: the HTTP API (the admin routes behind the IAM check), the SQS event source mapping, cron. */
function startRuntimes(config: OfflineConfig, { aws, topology, followUp, busRulePools }: Messaging, log: Log): Promise<Step<Runtimes>> {
  return step(log, async (onStop) => {
    const { HOST: host, AWS_REGION: region } = config;
    // The admin routes are checked as API Gateway's AWS_IAM authorizer would, against the offline credentials.
    const iam = { routes: Object.keys(adminRoutes), verify: createIamVerifier({ credentials: offlineCredentials, region }) };
    const gateway = await listeningOn("PORT", { host, port: config.PORT }, () =>
      startGateway({ routes: allRoutes, iam, port: config.PORT, host }),
    );
    onStop(() => gateway.close());
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
    onStop(() => poller.stop());

    const relay = handlerPool(functions.outboxRelay.handler);
    const watchdog = handlerPool(functions.restockWatchdog.handler);
    await Promise.all([relay.prewarm(), watchdog.prewarm(), followUp.prewarm(), ...busRulePools.map((pool) => pool.prewarm())]);
    const scheduler = startScheduler(
      [
        { name: "outbox-relay", intervalMs: config.OUTBOX_RELAY_INTERVAL_MS, handler: relay },
        { name: "restock-watchdog", intervalMs: config.WATCHDOG_INTERVAL_MS, handler: watchdog },
      ],
      (line) => log(`[cron] ${line}`),
    );
    onStop(() => scheduler.stop());

    return {
      gateway,
      scheduler,
      get poller() {
        return poller;
      },
      async restartPoller({ kill = false }: { kill?: boolean } = {}) {
        if (kill) poller.kill();
        else await poller.stop();
        poller = startPoller();
      },
    };
  });
}

/** The live dashboard: the database, the queues, the alarm and the mails of this stack. */
function serveDashboard(
  config: OfflineConfig,
  { database, messaging, alerting }: { database: Database; messaging: Messaging; alerting: Alerting },
  log: Log,
): Promise<Step<Dashboard>> {
  return step(log, async (onStop) => {
    const { HOST: host, DASHBOARD_PORT: port } = config;
    const dashboard = await listeningOn("DASHBOARD_PORT", { host, port }, () =>
      startDashboard({
        port,
        host,
        databaseUrl: database.url,
        sqs: messaging.aws.sqs,
        factoryQueueUrl: messaging.topology.factoryQueueUrl,
        dlqUrl: messaging.topology.dlqUrl,
        mailDir: alerting.mailDir,
        alarmState: () => alerting.alarm.state,
        log: (line) => log(`[dashboard] ${line}`),
      }),
    );
    onStop(() => dashboard.close());
    return dashboard;
  });
}

/** Where everything is, for the ops CLI and the dashboard: `.local/stack.json`. */
function writeStackFile(
  config: OfflineConfig,
  parts: { database: Database; messaging: Messaging; alerting: Alerting; factory: Factory; runtimes: Runtimes; dashboard: Dashboard },
): Promise<Step<StackFile>> {
  const { database, messaging, alerting, factory, runtimes, dashboard } = parts;
  return step(
    () => {},
    async () => {
      const endpoints: StackFile = {
        apiUrl: runtimes.gateway.url,
        dashboardUrl: dashboard.url,
        factoryUrl: factory.url,
        factorySimulator: Boolean(factory.simulator),
        sqsEndpoint: messaging.aws.endpoint,
        eventBridgeEndpoint: messaging.eventBridge.url,
        region: config.AWS_REGION,
        factoryQueueUrl: messaging.topology.factoryQueueUrl,
        dlqUrl: messaging.topology.dlqUrl,
        alertsTopicArn: messaging.topology.alertsTopicArn,
        backInStockTopicArn: messaging.topology.backInStockTopicArn,
        backInStockFailedEventsQueueUrl: messaging.topology.failedEventsQueueUrls[backInStockRule.name],
        eventBusName: OFFLINE_EVENT_BUS,
        mailDir: alerting.mailDir,
        smtpUrl: alerting.smtpUrl,
        databaseUrl: redactUrl(database.url),
        databaseSource: database.source,
      };
      mkdirSync(config.LOCAL_DIR, { recursive: true });
      writeFileSync(path.join(config.LOCAL_DIR, "stack.json"), `${JSON.stringify(endpoints, null, 2)}\n`);
      return endpoints;
    },
  );
}
