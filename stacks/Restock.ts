import { factoryCaller, functions } from "@donut-states/core/topology";
import { Cron, type StackContext, use } from "sst/constructs";
import { Alerts } from "./Alerts";
import { Api } from "./Api";
import { Config } from "./Config";
import { type Cdk, Duration, iam, lambda as lambdaCdk } from "./cdk";
import { Database } from "./Database";
import { Events } from "./Events";
import { fromTopology, lambda, type StageWiring } from "./lambda";

/**
 * The restock pipeline's functions:
 * - the factory caller, consumer of the factory queue (batches with partial failures), which
 *   calls the legacy Factory API and hands it a callback URL on this stage's Api;
 * - the outbox relay (cron), which republishes events whose after-commit publish did not happen;
 * - the restock watchdog (cron), which e-mails operations about requests that failed, that the
 *   factory accepted but never called back for, or that stopped moving (marking failed those whose
 *   message it finds in the DLQ), and about products sold out with nothing to restock them.
 * The caller (RestockRequested, RestockFailed) and the watchdog (RestockOverdue) publish the
 * lifecycle events they commit, like the sale: PutEvents on this bus only.
 * It comes after Api because the caller needs the API's URL; the queue and bus it uses are in
 * Events, so no reference points back and the stacks deploy in order.
 */
export function Restock({ stack, app }: StackContext) {
  const { settings, secrets } = use(Config);
  const { access } = use(Database);
  const { bus, queue, deadLetterQueue } = use(Events);
  const { api } = use(Api);
  const { topic } = use(Alerts);

  const putEvents = () =>
    new iam.PolicyStatement({ sid: "PublishToEventBus", actions: ["events:PutEvents"], resources: [bus.eventBusArn] });

  const wiring: StageWiring = {
    database: access,
    secrets,
    values: {
      FACTORY_API_URL: settings.factoryApiUrl,
      PUBLIC_API_URL: api.url,
      FACTORY_REQUESTER: settings.factoryRequester,
      EVENT_BUS_NAME: bus.eventBusName,
      ALERTS_TOPIC_ARN: topic.topicArn,
      RESTOCK_SLA_SECONDS: String(settings.restockSlaSeconds),
    },
  };

  const caller = lambda(stack, "FactoryCaller", settings, { ...fromTopology(functions.factoryCaller, wiring), statements: [putEvents()] });
  // The event source grants the role exactly what polling needs on this queue
  // (ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl).
  // At most maxConcurrency batches in flight (the legacy factory is slow). Under `sst dev` the
  // trigger starts disabled: without a connected session SST's live stub answers a 500-shaped
  // object as a success, and Lambda would delete the batch (docs/deploy.md#dev).
  queue.addConsumer(stack, {
    function: caller,
    cdk: {
      eventSource: {
        batchSize: factoryCaller.batchSize,
        maxBatchingWindow: Duration.seconds(factoryCaller.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: factoryCaller.maxConcurrency,
        enabled: app.mode !== "dev",
      },
    },
  });
  const eventSourceMapping = caller.node.findAll().find((child) => child instanceof lambdaCdk.EventSourceMapping) as
    | Cdk.aws_lambda.EventSourceMapping
    | undefined;
  if (!eventSourceMapping) throw new Error("the factory caller has no event source mapping");
  stack.addOutputs({ FactoryCallerEventSourceMappingId: eventSourceMapping.eventSourceMappingId });

  const relay = lambda(stack, "OutboxRelay", settings, {
    ...fromTopology(functions.outboxRelay, wiring),
    // The next run is a minute away: an async retry would only overlap it.
    retryAttempts: 0,
    statements: [putEvents()],
  });
  new Cron(stack, "OutboxRelaySchedule", { schedule: functions.outboxRelay.trigger.schedule.aws, job: relay });

  const watchdog = lambda(stack, "RestockWatchdog", settings, {
    ...fromTopology(functions.restockWatchdog, { ...wiring, values: { ...wiring.values, FACTORY_DLQ_URL: deadLetterQueue.queueUrl } }),
    retryAttempts: 0,
    statements: [
      new iam.PolicyStatement({ sid: "PublishAlerts", actions: ["sns:Publish"], resources: [topic.topicArn] }),
      putEvents(),
      // A stuck request whose message is in the DLQ is marked failed: peeked, never consumed.
      new iam.PolicyStatement({
        sid: "PeekDeadLetterQueue",
        actions: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"],
        resources: [deadLetterQueue.queueArn],
      }),
    ],
  });
  new Cron(stack, "RestockWatchdogSchedule", { schedule: functions.restockWatchdog.trigger.schedule.aws, job: watchdog });

  return { caller, relay, watchdog };
}
