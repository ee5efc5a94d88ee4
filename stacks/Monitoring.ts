import { type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { dlqAlarm, factoryCaller, factoryQueue, schedules } from "@donut-states/core/topology";
import { METRICS_NAMESPACE, MetricName } from "@donut-states/core/util/metrics";
import { type Cdk, Duration, cloudwatch, cloudwatchActions } from "./cdk";
import { Alerts } from "./Alerts";
import { Api } from "./Api";
import { Events } from "./Events";
import { Restock } from "./Restock";
import { SERVICE_NAME } from "./settings";

/**
 * Alarms that e-mail operations (through the Alerts topic, on ALARM and again on OK) and one
 * dashboard. It is the last stack: it reads metrics of everything before it and nothing reads it.
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
} as const;

export function Monitoring({ stack, app }: StackContext) {
  const { topic } = use(Alerts);
  const { queue, deadLetterQueue } = use(Events);
  const { api, functions: routeFunctions } = use(Api);
  const { caller, relay, watchdog } = use(Restock);

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
    alarmName: "factory-queue-oldest-message-age",
    alarmDescription: `The oldest factory request has waited ${thresholds.queueAgeSeconds} s or more, longer than its retries take: the factory caller is not consuming ${queue.queueName}. Runbook: docs/runbook.md#factory-queue-age`,
    metric: queue.cdk.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: thresholds.queueAgeSeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const consumerErrors = alarm("FactoryCallerErrors", {
    alarmName: "factory-caller-errors",
    alarmDescription: `The factory caller crashed or timed out (limit ${factoryCaller.timeoutSeconds} s); its batch is retried, then goes to the DLQ. Runbook: docs/runbook.md#function-errors`,
    metric: caller.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: thresholds.consumerErrorsPer5Minutes,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

  const relayErrors = alarm("OutboxRelayErrors", {
    alarmName: "outbox-relay-errors",
    alarmDescription: `The outbox relay (${schedules.outboxRelay.aws}) keeps failing: OutOfStock events stay unpublished (EventBridge or the database is down). Check \`npm run ops -- --stage ${app.stage} outbox pending\`. Runbook: docs/runbook.md#function-errors`,
    metric: relay.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 5,
    datapointsToAlarm: thresholds.relayFailedRunsOutOf5,
  });

  const watchdogErrors = alarm("RestockWatchdogErrors", {
    alarmName: "restock-watchdog-errors",
    alarmDescription: `The restock watchdog (${schedules.restockWatchdog.aws}) failed twice in a row: overdue factory callbacks are not being reported. Runbook: docs/runbook.md#function-errors`,
    metric: watchdog.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  });

  const apiErrors = alarm("ApiServerErrors", {
    alarmName: "api-5xx",
    alarmDescription: "The Sales API answers 5xx (503: the database is unreachable). Customers cannot order. Runbook: docs/runbook.md#function-errors",
    metric: api.cdk.httpApi.metricServerError({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: thresholds.apiServerErrorsPer5Minutes,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });

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
    alarmName: "restock-needs-attention",
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
          alarms: [dlqDepth, queueAge, consumerErrors, relayErrors, watchdogErrors, apiErrors, restockAttention],
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

  return { alarms: { dlqDepth, queueAge, consumerErrors, relayErrors, watchdogErrors, apiErrors } };
}

function comparisonOperator(value: string): Cdk.aws_cloudwatch.ComparisonOperator {
  const known = Object.values(cloudwatch.ComparisonOperator) as string[];
  if (!known.includes(value)) throw new Error(`topology: unknown alarm comparison "${value}"`);
  return value as Cdk.aws_cloudwatch.ComparisonOperator;
}
