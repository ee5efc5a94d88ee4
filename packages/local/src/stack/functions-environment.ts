import { closeDatabase } from "@donut-states/core/drizzle";
import type { FunctionEnvironment } from "@donut-states/core/topology";
import { callbackSecret, type OfflineConfig, subscriptionTokenSecret } from "../config";
import type { Database } from "./database";
import type { Factory } from "./factory";
import type { Messaging } from "./messaging";
import { type Log, type Step, step } from "./step";

/** The offline event bus's name: the emulator's one bus, as the functions and the ops CLI name it. */
export const OFFLINE_EVENT_BUS = "default";

/** The functions' configuration, as the stacks would set it (AWS SDK endpoints included); stopping closes their database pool. */
export function configureFunctions(
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
      SUBSCRIPTION_TOKEN_SECRET: subscriptionTokenSecret(config),
      MAIL_QUEUE_URL: topology.mailQueueUrl,
      FACTORY_TIMEOUT_MS: String(config.FACTORY_TIMEOUT_MS),
      RESTOCK_SLA_SECONDS: String(config.RESTOCK_SLA_SECONDS),
      RESTOCK_PENDING_SECONDS: String(config.RESTOCK_PENDING_SECONDS),
    } satisfies FunctionEnvironment);
    onStop(() => closeDatabase());
  });
}
