import type { OfflineConfig } from "../config";
import { type Dashboard, startDashboard } from "../dashboard";
import { listeningOn } from "../ports";
import type { Alerting } from "./alerting";
import type { Database } from "./database";
import type { Messaging } from "./messaging";
import { type Log, type Step, step } from "./step";

/** The live dashboard: the database, the queues, the alarm and the mails of this stack. */
export function serveDashboard(
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
