/**
 * Start the whole AWS topology on this machine: MySQL, SQS + DLQ and SNS (fauxqs), the event
 * bus with its rules, the DLQ alarm and the e-mail path, the legacy factory simulator, the Lambda
 * runtimes (HTTP gateway, SQS poller, cron) and the dashboard, one step per file in this folder.
 * The handlers are the production ones; they find the emulators through the standard
 * AWS_ENDPOINT_URL_* variables the functions' environment step sets.
 */
import type { EventEnvelope } from "@donut-states/emulators/eventbridge";
import { loadOfflineConfig, type OfflineConfig } from "../config";
import { startAlerting } from "./alerting";
import { serveDashboard } from "./dashboard";
import { startDatabase } from "./database";
import { type FactoryOptions, startFactory } from "./factory";
import { configureFunctions } from "./functions-environment";
import { startMessaging } from "./messaging";
import { startRuntimes } from "./runtimes";
import { writeStackFile } from "./stack-file";
import { type Log, type Step, stopList } from "./step";

export type { StackFile } from "./stack-file";
export type { Step } from "./step";

export type OfflineStack = Awaited<ReturnType<typeof startOfflineStack>>;

/** What a caller may set besides the configuration: a database to use as is, the simulator's options. */
export type StackOverrides = Partial<OfflineConfig> & {
  databaseUrl?: string;
  factoryOptions?: FactoryOptions;
};

/**
 * Runs the steps in order, each given what the earlier ones started. Each step stops what it
 * started; stop() stops the steps in reverse order, as does a step that fails to start.
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
