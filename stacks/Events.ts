import {
  type BusRule,
  eventArchive,
  factoryCaller,
  factoryDeadLetterQueue,
  factoryQueue,
  outOfStockRule,
} from "@donut-states/core/topology";
import { EventBus, Queue, type Function as SstFunction, type Stack, type StackContext } from "sst/constructs";
import { type Cdk, Duration, events, eventsTargets, iam, sqs } from "./cdk";
import { PROD_STAGE } from "./settings";

/**
 * The event bus with its archive, the OutOfStock rule and the factory queue with its dead-letter queue.
 * Every value (pattern, names, timeouts, maxReceiveCount, retention) comes from
 * packages/core/src/topology.ts, which the offline stack reads too.
 *
 * Least privilege: nothing here binds the bus to a function (SST's bind would grant events:*).
 * Api and Restock grant events:PutEvents on this bus's ARN to the two publishers only; the
 * queue's consumer gets its receive/delete/visibility permissions from its event source.
 */
export function Events({ stack, app }: StackContext) {
  // AWS: the visibility timeout must cover a consumer run, with room for retries inside it.
  if (factoryQueue.visibilityTimeoutSeconds < 6 * factoryCaller.timeoutSeconds) {
    throw new Error(
      `topology: factoryQueue.visibilityTimeoutSeconds (${factoryQueue.visibilityTimeoutSeconds}) must be >= 6 x factoryCaller.timeoutSeconds (${factoryCaller.timeoutSeconds})`,
    );
  }

  // The DLQ lets only the factory queue use it as a dead-letter queue (and redrive back to it).
  // Named by ARN: a reference to the queue object would loop (the queue references the DLQ).
  const factoryQueueName = app.logicalPrefixedName(factoryQueue.name);
  const factoryQueueRef = sqs.Queue.fromQueueArn(
    stack,
    "FactoryQueueRef",
    `arn:${stack.partition}:sqs:${stack.region}:${stack.account}:${factoryQueueName}`,
  );
  const deadLetterQueue = new Queue(stack, "FactoryDeadLetterQueue", {
    cdk: {
      queue: {
        queueName: app.logicalPrefixedName(factoryDeadLetterQueue.name),
        redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.BY_QUEUE, sourceQueues: [factoryQueueRef] },
        retentionPeriod: Duration.seconds(factoryDeadLetterQueue.retentionSeconds),
        // SSE-SQS: EventBridge can deliver to it (SSE-KMS with aws/sqs cannot be used by EventBridge).
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      },
    },
  });

  const queue = new Queue(stack, "FactoryQueue", {
    cdk: {
      queue: {
        queueName: factoryQueueName,
        visibilityTimeout: Duration.seconds(factoryQueue.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(factoryQueue.retentionSeconds),
        deadLetterQueue: { queue: deadLetterQueue.cdk.queue, maxReceiveCount: factoryQueue.maxReceiveCount },
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      },
    },
  });

  const bus = new EventBus(stack, "Bus", {
    rules: {
      [outOfStockRule.name]: {
        cdk: { rule: { eventPattern: toCdkEventPattern(outOfStockRule.pattern), description: "OutOfStock events to the factory queue" } },
        targets: {
          factoryQueue: {
            type: "queue",
            queue,
            // An event EventBridge cannot deliver (after its retries) lands in the same DLQ as a
            // request the factory keeps refusing: one place to look, one alarm.
            // EventBridge retries a failed delivery for up to the event's maximum age (24 h by
            // default): an hour makes an outage of the queue reach the DLQ alarm in an hour.
            cdk: {
              target: {
                deadLetterQueue: deadLetterQueue.cdk.queue,
                maxEventAge: Duration.seconds(outOfStockRule.maxEventAgeSeconds),
                retryAttempts: outOfStockRule.retryAttempts,
              },
            },
          },
        },
      },
    },
  });

  // Every event of ours, kept so the events of an outage can be replayed (docs/runbook.md#replay).
  const archive = bus.cdk.eventBus.archive("Archive", {
    archiveName: app.logicalPrefixedName(eventArchive.name),
    description: `Every ${eventArchive.pattern.source[0]} event, for replays`,
    eventPattern: toCdkEventPattern(eventArchive.pattern),
    retention: Duration.days(app.stage === PROD_STAGE ? eventArchive.retentionDays.prod : eventArchive.retentionDays.other),
  });

  stack.addOutputs({
    EventBusName: bus.eventBusName,
    EventBusArn: bus.eventBusArn,
    EventArchiveArn: archive.archiveArn,
    FactoryQueueUrl: queue.queueUrl,
    FactoryDlqUrl: deadLetterQueue.queueUrl,
  });
  return { bus, queue, deadLetterQueue, archive };
}

/**
 * The topology writes patterns as EventBridge JSON ("detail-type"); CDK's EventPattern spells
 * that key detailType and renders it back to "detail-type". Every other key passes through as
 * is, so the rendered pattern equals the topology's (asserted in Events.test.ts and BackInStock.test.ts).
 */
export function toCdkEventPattern(pattern: Readonly<Record<string, unknown>>): Cdk.aws_events.EventPattern {
  const { "detail-type": detailType, ...rest } = pattern;
  return { ...rest, ...(detailType === undefined ? {} : { detailType }) } as Cdk.aws_events.EventPattern;
}

/** Lambda's retries of an asynchronous invocation, and EventBridge's of its delivery. */
const BUS_RULE_RETRIES = { retryAttempts: 2, maxEventAge: Duration.hours(1) };

/**
 * A bus rule's failed-events queue (`BusRule.failedEvents`): its function's on-failure
 * destination and the rule target's dead-letter queue. Give the function
 * `busRuleInvokeConfig(queue)` and the rule `lambdaOnBusRule(…, failedEvents: queue)`.
 */
export function failedEventsQueue(stack: Stack, id: string, { rule, queueName }: { rule: BusRule; queueName: string }): Cdk.aws_sqs.Queue {
  return new sqs.Queue(stack, id, {
    queueName,
    retentionPeriod: Duration.seconds(rule.failedEvents.retentionSeconds),
    // SSE-SQS: both Lambda and EventBridge can send to it (a KMS key would need grants for both).
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
}

/**
 * A bus rule function's asynchronous invocations: Lambda retries a failed one twice within the
 * hour, then sends its invocation record (the event and the last error) to the failed-events
 * queue. (`sst dev`'s live stubs are not retried; the destination still applies.)
 *
 * The destination by ARN rather than CDK's SqsDestination, which would also grant
 * sqs:GetQueueAttributes and sqs:GetQueueUrl: lambdaOnBusRule grants sqs:SendMessage alone.
 */
export function busRuleInvokeConfig(
  failedEvents: Cdk.aws_sqs.IQueue,
): Pick<Cdk.aws_lambda.FunctionOptions, "retryAttempts" | "maxEventAge" | "onFailure"> {
  return { ...BUS_RULE_RETRIES, onFailure: { bind: () => ({ destination: failedEvents.queueArn }) } };
}

/**
 * A function of the topology's `functions` table triggered by a rule on our bus (`busRule`): the
 * rule with the topology's pattern, the function its one target. EventBridge invokes it
 * asynchronously and retries its delivery for up to an hour; an event it cannot deliver goes to
 * the rule's failed-events queue (whose policy then lets this rule send to it), as do the
 * function's own failures (busRuleInvokeConfig). The alarm on that queue is in Monitoring.
 */
export function lambdaOnBusRule(
  stack: Stack,
  id: string,
  {
    bus,
    rule,
    ruleName,
    description,
    fn,
    failedEvents,
  }: { bus: EventBus; rule: BusRule; ruleName: string; description: string; fn: SstFunction; failedEvents: Cdk.aws_sqs.IQueue },
): Cdk.aws_events.Rule {
  // What Lambda needs to deliver the function's invocation records there (busRuleInvokeConfig).
  fn.addToRolePolicy(
    new iam.PolicyStatement({ sid: "SendFailedEvents", actions: ["sqs:SendMessage"], resources: [failedEvents.queueArn] }),
  );
  return new events.Rule(stack, id, {
    ruleName,
    description,
    eventBus: bus.cdk.eventBus,
    eventPattern: toCdkEventPattern(rule.pattern),
    targets: [new eventsTargets.LambdaFunction(fn, { ...BUS_RULE_RETRIES, deadLetterQueue: failedEvents })],
  });
}
