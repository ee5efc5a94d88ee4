import { dlqAlarmFollowUp, factoryCaller, functions } from "@donut-states/core/topology";
import { type StackContext, use } from "sst/constructs";
import { Alerts } from "./Alerts";
import { Api } from "./Api";
import { appFunction, fromTopology, functionId, type StageWiring } from "./app-function";
import { Config } from "./Config";
import { type Cdk, Duration, events, eventsTargets, lambda as lambdaCdk } from "./cdk";
import { cronFunction } from "./cron";
import { Database } from "./Database";
import { Events } from "./Events";
import { toCdkEventPattern } from "./event-pattern";

/**
 * The restock pipeline's functions:
 * - the factory caller, consumer of the factory queue (batches with partial failures), which
 *   calls the legacy Factory API and hands it a callback URL on this stage's Api;
 * - the outbox relay (cron), which republishes events whose after-commit publish did not happen;
 * - the restock watchdog (cron), which e-mails operations about requests that failed, that the
 *   factory accepted but never called back for, or that stopped moving (marking failed those whose
 *   message it finds in the DLQ), and about products sold out with nothing to restock them;
 * - the DLQ alarm's follow-up, run by a rule on the default bus when the DLQ alarm enters ALARM.
 * What each reads and may do comes from its entry in the topology (grants.ts).
 * It comes after Api because the caller needs the API's URL; the queue and bus it uses are in
 * Events, so no reference points back and the stacks deploy in order. The follow-up's rule names
 * the DLQ alarm by its name, so this stack needs nothing from Monitoring either.
 */
export function Restock({ stack, app }: StackContext) {
  const { settings, secrets } = use(Config);
  const { access } = use(Database);
  const { bus, queue, deadLetterQueue } = use(Events);
  const { api } = use(Api);
  const { topic } = use(Alerts);

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
      FACTORY_DLQ_URL: deadLetterQueue.queueUrl,
    },
    targets: { bus: bus.eventBusArn, alertsTopic: topic.topicArn, deadLetterQueue: deadLetterQueue.queueArn },
  };

  const caller = appFunction(stack, functionId("factoryCaller"), settings, fromTopology(functions.factoryCaller, wiring));
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

  const relay = cronFunction(stack, "outboxRelay", functions.outboxRelay, settings, wiring);
  const watchdog = cronFunction(stack, "restockWatchdog", functions.restockWatchdog, settings, wiring);

  // The DLQ alarm's follow-up: CloudWatch sends the alarm's state changes to the account's
  // default event bus, and a rule there runs it when the DLQ alarm enters ALARM. It reads the DLQ
  // without consuming it (ReceiveMessage with a short hold, then ChangeMessageVisibility back to 0
  // at once: a message hidden for longer could let the alarm see an empty DLQ, go OK and come back
  // to ALARM, which would run it again), marks each restock request it finds failed, and
  // publishes the list with the commands to run to the alerts topic.
  const followUp = appFunction(stack, functionId("dlqFollowUp"), settings, fromTopology(functions.dlqFollowUp, wiring));
  // No eventBus: the rule is on the default bus, where CloudWatch sends alarm state changes.
  new events.Rule(stack, "DlqAlarmFollowUpRule", {
    ruleName: app.logicalPrefixedName(dlqAlarmFollowUp.name),
    description: "The DLQ alarm entered ALARM: name the failed restock requests and what to run",
    eventPattern: toCdkEventPattern(dlqAlarmFollowUp.pattern(app.logicalPrefixedName(functions.dlqFollowUp.trigger.alarm))),
    // Lambda itself retries a failed invocation twice; this is EventBridge's delivery to Lambda.
    targets: [new eventsTargets.LambdaFunction(followUp, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
  });

  return { caller, relay, watchdog, followUp };
}
