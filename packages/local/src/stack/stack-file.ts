import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { backInStockRule } from "@donut-states/core/topology";
import { redactUrl } from "@donut-states/core/util/url";
import type { OfflineConfig } from "../config";
import type { Dashboard } from "../dashboard";
import type { Alerting } from "./alerting";
import type { Database } from "./database";
import type { Factory } from "./factory";
import { OFFLINE_EVENT_BUS } from "./functions-environment";
import type { Messaging } from "./messaging";
import type { Runtimes } from "./runtimes";
import { type Step, step } from "./step";

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

/** Where everything is, for the ops CLI and the dashboard: `.local/stack.json`. */
export function writeStackFile(
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
