import { adminRoutes, allRoutes, factoryCaller, functions, offlineCredentials } from "@donut-states/core/topology";
import { createIamVerifier } from "@donut-states/emulators/gateway";
import { type SqsPoller, startScheduler, startSqsPoller } from "@donut-states/emulators/runtime";
import type { OfflineConfig } from "../config";
import { type Gateway, startGateway } from "../gateway";
import { listeningOn } from "../ports";
import { handlerPool } from "../runtime";
import type { Messaging } from "./messaging";
import { type Log, type Step, step } from "./step";

export interface Runtimes {
  gateway: Gateway;
  scheduler: ReturnType<typeof startScheduler>;
  /** The factory queue's poller now (restartPoller replaces it). */
  readonly poller: SqsPoller;
  restartPoller(options?: { kill?: boolean }): Promise<void>;
}

/** The Lambda runtimes: the HTTP API (the admin routes behind the IAM check), the SQS event source mapping, cron. */
export function startRuntimes(
  config: OfflineConfig,
  { aws, topology, followUp, busRulePools }: Messaging,
  log: Log,
): Promise<Step<Runtimes>> {
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
    const housekeeping = handlerPool(functions.housekeeping.handler);
    await Promise.all([
      relay.prewarm(),
      watchdog.prewarm(),
      housekeeping.prewarm(),
      followUp.prewarm(),
      ...busRulePools.map((pool) => pool.prewarm()),
    ]);
    const scheduler = startScheduler(
      [
        { name: "outbox-relay", intervalMs: config.OUTBOX_RELAY_INTERVAL_MS, handler: relay },
        { name: "restock-watchdog", intervalMs: config.WATCHDOG_INTERVAL_MS, handler: watchdog },
        { name: "housekeeping", intervalMs: config.HOUSEKEEPING_INTERVAL_MS, handler: housekeeping },
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
