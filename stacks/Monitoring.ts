// Long by design: one concern, every alarm of the stage (each with its threshold, description and runbook link) and the dashboard.
import {
  alarmNames,
  backInStockRule,
  dlqAlarm,
  factoryCaller,
  factoryQueue,
  outOfStockRule,
  routeThrottlesAlarmName,
  schedules,
} from "@donut-states/core/topology";
import { METRICS_NAMESPACE, MetricName } from "@donut-states/core/util/metrics";
import { type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { Alerts } from "./Alerts";
import { Api } from "./Api";
import { BackInStock } from "./BackInStock";
import { type Cdk, cloudwatch, cloudwatchActions, Duration } from "./cdk";
import { Database } from "./Database";
import { Events } from "./Events";
import { Restock } from "./Restock";
import { SERVICE_NAME } from "./settings";

/**
 * Alarms that e-mail operations (through the Alerts topic, on ALARM and again on OK) and one
 * dashboard. It is the last stack: it reads metrics of everything before it and nothing reads it.
 * Every alarm's name comes from the topology (packages/core/src/topology/alarms.ts).
 *
 * The DLQ alarm is the one the design promises (a request that cannot be delivered ends in the
 * DLQ and operations get an e-mail); its metric, threshold, period and comparison come from the
 * topology. The others watch for the pipeline silently stopping; their thresholds are derived
 * from the topology where one applies (see `thresholds`).
 */
export const thresholds = {
  /** Older than its whole retry budget (visibility timeout x receives): nobody is consuming. */
  queueAgeSeconds: factoryQueue.visibilityTimeoutSeconds * factoryQueue.maxReceiveCount,
  /** The consumer never throws for a failed record (partial batch responses): any error is a crash or timeout. */
  consumerErrorsPer5Minutes: 1,
  /** The relay throws while events stay unpublished: 3 failed runs out of 5 means the bus stays down. */
  relayFailedRunsOutOf5: 3,
  /** The API answers 503 when the database is unreachable. */
  apiServerErrorsPer5Minutes: 25,
  /** RDS: under 10 % of the smallest allocated storage left (storage autoscaling lags). */
  databaseFreeStorageBytes: 2 * 1024 ** 3,
  /** RDS: CPU above this for 15 minutes (a burstable instance spends its credits). */
  databaseCpuPercent: 80,
  /** RDS: connections held by the proxy; a db.t4g.micro allows about 60 (max_connections). */
  databaseConnections: 45,
  /** Proxy: client connections (one pool of 2 per Lambda container): a flash crowd or a leak. */
  proxyClientConnections: 1000,
  /** Proxy: any pinned session means some code path sends session state (docs/deploy.md). */
  proxyPinnedSessions: 1,
  /** Events EventBridge could neither deliver nor put into the DLQ: lost restock requests. */
  ruleFailedToDlq: 1,
  /** Throttled invocations of an API function per 5 minutes (account concurrency exhausted). */
  apiThrottlesPer5Minutes: 1,
} as const;

export function Monitoring({ stack, app }: StackContext) {
  const { topic } = use(Alerts);
  const { queue, deadLetterQueue, bus } = use(Events);
  const { instance, proxy, housekeeping } = use(Database);
  const { api, functions: routeFunctions } = use(Api);
  const { caller, relay, watchdog, followUp } = use(Restock);
  const { notifier, failedEvents: backInStockFailedEvents } = use(BackInStock);

  const notify = new cloudwatchActions.SnsAction(topic);
  const alarm = (id: string, props: Cdk.aws_cloudwatch.AlarmProps) => {
    const created = new cloudwatch.Alarm(stack, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
      alarmName: props.alarmName && app.logicalPrefixedName(props.alarmName),
    });
    created.addAlarmAction(notify);
    created.addOkAction(notify);
    return created;
  };

  const dlqDepth = alarm("DlqNotEmpty", {
    alarmName: dlqAlarm.name,
    alarmDescription: [
      `Restock requests are in the factory dead-letter queue ${deadLetterQueue.queueName} (the factory kept refusing them, or EventBridge could not deliver them).`,
      `Each one is a product waiting for stock. Inspect with \`npm run ops -- --stage ${app.stage} dlq peek\`, fix the cause, then \`dlq redrive\`. Runbook: docs/runbook.md#dlq-alarm`,
    ].join(" "),
    metric: deadLetterQueue.cdk.queue.metric(dlqAlarm.metricName, {
      period: Duration.seconds(dlqAlarm.periodSeconds),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: dlqAlarm.threshold,
    comparisonOperator: comparisonOperator(dlqAlarm.comparison),
    evaluationPeriods: dlqAlarm.evaluationPeriods,
  });

  const queueAge = alarm("FactoryQueueStuck", {
    alarmName: alarmNames.factoryQueueOldestMessageAge,
    alarmDescription: `The oldest factory request has waited ${thresholds.queueAgeSeconds} s or more, longer than its retries take: the factory caller is not consuming ${queue.queueName}. Runbook: docs/runbook.md#factory-queue-age`,
    metric: queue.cdk.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: thresholds.queueAgeSeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const consumerErrors = alarm("FactoryCallerErrors", {
    alarmName: alarmNames.factoryCallerErrors,
    alarmDescription: `The factory caller crashed or timed out (limit ${factoryCaller.timeoutSeconds} s); its batch is retried, then goes to the DLQ. Runbook: docs/runbook.md#function-errors`,
    metric: caller.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: thresholds.consumerErrorsPer5Minutes,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const relayErrors = alarm("OutboxRelayErrors", {
    alarmName: alarmNames.outboxRelayErrors,
    alarmDescription: `The outbox relay (${schedules.outboxRelay.aws}) keeps failing: OutOfStock events stay unpublished (EventBridge or the database is down). Check \`npm run ops -- --stage ${app.stage} outbox pending\`. Runbook: docs/runbook.md#function-errors`,
    metric: relay.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 5,
    datapointsToAlarm: thresholds.relayFailedRunsOutOf5,
  });

  const watchdogErrors = alarm("RestockWatchdogErrors", {
    alarmName: alarmNames.restockWatchdogErrors,
    alarmDescription: `The restock watchdog (${schedules.restockWatchdog.aws}) failed twice in a row: overdue factory callbacks are not being reported. Runbook: docs/runbook.md#function-errors`,
    metric: watchdog.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  });

  const housekeepingErrors = alarm("HousekeepingErrors", {
    alarmName: alarmNames.housekeepingErrors,
    alarmDescription: `The housekeeping function (${schedules.housekeeping.aws}) failed twice in a row: unconfirmed back-in-stock subscriptions are not expiring and ended ones not deleted, so addresses are kept longer than docs/design.md#privacy says. Runbook: docs/runbook.md#function-errors`,
    metric: housekeeping.metricErrors({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  });

  const followUpErrors = alarm("DlqFollowUpErrors", {
    alarmName: alarmNames.dlqFollowUpErrors,
    alarmDescription: `The DLQ alarm's follow-up failed (Lambda retries it twice): the failed restock requests are not named by e-mail and may still be pending. \`npm run ops -- --stage ${app.stage} dlq peek\` shows them. Runbook: docs/runbook.md#dlq-alarm`,
    metric: followUp.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const notifierErrors = alarm("BackInStockNotifierErrors", {
    alarmName: alarmNames.backInStockNotifierErrors,
    alarmDescription: `The back-in-stock notifier failed. Lambda retries it twice; an event that still fails goes to ${app.logicalPrefixedName(backInStockRule.failedEvents.queueName)} (its own alarm). Runbook: docs/runbook.md#back-in-stock`,
    metric: notifier.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const failedEventsAlarm = backInStockRule.failedEvents.alarm;
  const notifierFailedEvents = alarm("BackInStockFailedEvents", {
    alarmName: failedEventsAlarm.name,
    alarmDescription: `RestockFulfilled events the back-in-stock notifier failed on three times, or EventBridge could not deliver to it, wait in ${app.logicalPrefixedName(backInStockRule.failedEvents.queueName)}: their subscribers have not been told. Fix the cause, then replay them. Runbook: docs/runbook.md#back-in-stock-failed-events`,
    metric: backInStockFailedEvents.metric(failedEventsAlarm.metricName, {
      period: Duration.seconds(failedEventsAlarm.periodSeconds),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: failedEventsAlarm.threshold,
    comparisonOperator: comparisonOperator(failedEventsAlarm.comparison),
    evaluationPeriods: failedEventsAlarm.evaluationPeriods,
  });

  const apiErrors = alarm("ApiServerErrors", {
    alarmName: alarmNames.apiServerErrors,
    alarmDescription:
      "The Sales API answers 5xx (503: the database is unreachable). Customers cannot order. Runbook: docs/runbook.md#function-errors",
    metric: api.cdk.httpApi.metricServerError({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: thresholds.apiServerErrorsPer5Minutes,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const rule = bus.getRule(outOfStockRule.name);
  if (!rule) throw new Error(`no rule ${outOfStockRule.name} on the bus`);
  const ruleFailedToDlq = alarm("RuleFailedToDlq", {
    alarmName: alarmNames.outOfStockRuleFailedToDlq,
    alarmDescription: `EventBridge could deliver an OutOfStock event neither to the factory queue nor to its DLQ: a restock request is lost. Find it with \`npm run ops -- --stage ${app.stage} restock open\` and re-request it. Runbook: docs/runbook.md#dlq-alarm`,
    metric: new cloudwatch.Metric({
      namespace: "AWS/Events",
      metricName: "InvocationsFailedToBeSentToDlq",
      dimensionsMap: { EventBusName: bus.eventBusName, RuleName: rule.ruleName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
    }),
    threshold: thresholds.ruleFailedToDlq,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const apiThrottles = Object.entries(routeFunctions).map(([routeKey, fn]) =>
    alarm(`${fn.node.id}Throttles`, {
      alarmName: routeThrottlesAlarmName(routeKey),
      alarmDescription: `Lambda throttled ${routeKey}: the account's concurrency is exhausted and customers get 503s from API Gateway. Runbook: docs/runbook.md#function-errors`,
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: thresholds.apiThrottlesPer5Minutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    }),
  );

  // RDS and its proxy ("rds" stages only).
  const databaseAlarms: Cdk.aws_cloudwatch.Alarm[] = [];
  if (instance && proxy) {
    const proxyMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: "AWS/RDS",
        metricName,
        dimensionsMap: { ProxyName: proxy.dbProxyName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      });
    const runbook = "Runbook: docs/runbook.md#function-errors";
    databaseAlarms.push(
      alarm("DatabaseFreeStorage", {
        alarmName: alarmNames.databaseFreeStorage,
        alarmDescription: `RDS has less than ${thresholds.databaseFreeStorageBytes / 1024 ** 3} GiB free: writes will fail when it runs out. ${runbook}`,
        metric: instance.metricFreeStorageSpace({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MINIMUM }),
        threshold: thresholds.databaseFreeStorageBytes,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
      }),
      alarm("DatabaseCpu", {
        alarmName: alarmNames.databaseCpu,
        alarmDescription: `RDS CPU above ${thresholds.databaseCpuPercent} % for 15 minutes: orders slow down, then time out. ${runbook}`,
        metric: instance.metricCPUUtilization({ period: Duration.minutes(5), statistic: cloudwatch.Stats.AVERAGE }),
        threshold: thresholds.databaseCpuPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
      }),
      alarm("DatabaseConnections", {
        alarmName: alarmNames.databaseConnections,
        alarmDescription: `RDS holds ${thresholds.databaseConnections} or more connections, close to the instance's max_connections. ${runbook}`,
        metric: instance.metricDatabaseConnections({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: thresholds.databaseConnections,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
      }),
      alarm("ProxyClientConnections", {
        alarmName: alarmNames.proxyClientConnections,
        alarmDescription: `${thresholds.proxyClientConnections} or more client connections to the RDS Proxy (2 per Lambda container): a flash crowd beyond plan, or connections leaking. ${runbook}`,
        metric: proxyMetric("ClientConnections"),
        threshold: thresholds.proxyClientConnections,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
      }),
      alarm("ProxyPinnedSessions", {
        alarmName: alarmNames.proxyPinnedSessions,
        alarmDescription: `Sessions are pinned on the RDS Proxy: some code sends session state (SET, user variables, server-side prepared statements...) and its connections are no longer multiplexed. See docs/deploy.md#pinning. ${runbook}`,
        metric: proxyMetric("DatabaseConnectionsCurrentlySessionPinned"),
        threshold: thresholds.proxyPinnedSessions,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
      }),
    );
  }

  const business = (metricName: string, statistic: string = cloudwatch.Stats.SUM) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME },
      statistic,
      period: Duration.minutes(1),
    });
  // The watchdog's reading of the database (failed, overdue and stuck requests, products sold
  // out without one): catches a restock lost on any path, even one that never reached the DLQ.
  const restockAttention = alarm("RestockNeedsAttention", {
    alarmName: alarmNames.restockNeedsAttention,
    alarmDescription: `The restock watchdog (${schedules.restockWatchdog.aws}) found restock requests that failed, are overdue or stopped moving, or products sold out with no open request. It e-mails each one with the command that fixes it; \`npm run ops -- --stage ${app.stage} restock list\` shows them. Runbook: docs/runbook.md#restock-failed`,
    metric: business(MetricName.RestockNeedsAttention, cloudwatch.Stats.MAXIMUM).with({ period: Duration.minutes(5) }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });
  const functions: [string, SstFunction][] = [
    ...Object.entries(routeFunctions).map(([routeKey, fn]) => [routeKey, fn] as [string, SstFunction]),
    ["factory caller", caller],
    ["outbox relay", relay],
    ["restock watchdog", watchdog],
    ["DLQ follow-up", followUp],
    ["back-in-stock notifier", notifier],
  ];
  const width = 8;
  const height = 6;

  new cloudwatch.Dashboard(stack, "Dashboard", {
    dashboardName: app.logicalPrefixedName("operations"),
    defaultInterval: Duration.hours(3),
    widgets: [
      [
        new cloudwatch.GraphWidget({
          title: "Orders per minute",
          width,
          height,
          left: [business(MetricName.OrdersConfirmed), business(MetricName.OrdersRejectedOutOfStock)],
          right: [business(MetricName.UnitsSold)],
        }),
        new cloudwatch.GraphWidget({
          title: "Sales API requests",
          width,
          height,
          left: [
            api.cdk.httpApi.metricCount({ period: Duration.minutes(1) }),
            api.cdk.httpApi.metricClientError({ period: Duration.minutes(1) }),
            api.cdk.httpApi.metricServerError({ period: Duration.minutes(1) }),
          ],
          right: [api.cdk.httpApi.metricLatency({ period: Duration.minutes(1), statistic: "p99" })],
        }),
        new cloudwatch.AlarmStatusWidget({
          title: "Alarms",
          width,
          height,
          alarms: [
            dlqDepth,
            queueAge,
            consumerErrors,
            relayErrors,
            watchdogErrors,
            housekeepingErrors,
            followUpErrors,
            notifierErrors,
            notifierFailedEvents,
            apiErrors,
            restockAttention,
            ruleFailedToDlq,
            ...databaseAlarms,
          ],
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: "Restock requests",
          width,
          height,
          left: [
            business(MetricName.RestockOpened),
            business(MetricName.RestockRequested),
            business(MetricName.RestockFulfilled),
            business(MetricName.RestockFailed),
            business(MetricName.RestockOverdue),
          ],
          right: [business(MetricName.RestockNeedsAttention, cloudwatch.Stats.MAXIMUM)],
        }),
        new cloudwatch.GraphWidget({
          title: "Legacy Factory API calls",
          width,
          height,
          left: [business(MetricName.FactoryCallLatency, "p50"), business(MetricName.FactoryCallLatency, "p99")],
          right: [business(MetricName.FactoryCallErrors)],
        }),
        new cloudwatch.GraphWidget({
          title: "Outbox",
          width,
          height,
          left: [business(MetricName.OutboxPublished), business(MetricName.OutboxPublishFailures)],
          right: [business(MetricName.OutboxLag, "p99")],
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: "Factory queue depth",
          width,
          height,
          left: [
            queue.cdk.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
            queue.cdk.queue.metricApproximateNumberOfMessagesNotVisible({ period: Duration.minutes(1) }),
          ],
          right: [queue.cdk.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) })],
        }),
        new cloudwatch.AlarmWidget({ title: "Dead-letter queue depth", width, height, alarm: dlqDepth }),
        new cloudwatch.GraphWidget({
          title: "Function errors",
          width,
          height,
          left: functions.map(([label, fn]) => fn.metricErrors({ label, period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM })),
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: "Function duration p99",
          width: width * 2,
          height,
          left: functions.map(([label, fn]) => fn.metricDuration({ label, period: Duration.minutes(1), statistic: "p99" })),
        }),
        new cloudwatch.GraphWidget({
          title: "Function throttles",
          width,
          height,
          left: functions.map(([label, fn]) => fn.metricThrottles({ label, period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM })),
        }),
      ],
    ],
  });

  return {
    alarms: {
      dlqDepth,
      queueAge,
      consumerErrors,
      relayErrors,
      watchdogErrors,
      housekeepingErrors,
      notifierErrors,
      notifierFailedEvents,
      apiErrors,
      ruleFailedToDlq,
      apiThrottles,
      databaseAlarms,
    },
  };
}

function comparisonOperator(value: string): Cdk.aws_cloudwatch.ComparisonOperator {
  const known = Object.values(cloudwatch.ComparisonOperator) as string[];
  if (!known.includes(value)) throw new Error(`topology: unknown alarm comparison "${value}"`);
  return value as Cdk.aws_cloudwatch.ComparisonOperator;
}
