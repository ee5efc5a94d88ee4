import { eventArchive, factoryCaller, factoryDeadLetterQueue, factoryQueue, outOfStockRule } from "@donut-states/core/topology";
import { EventBus, Queue, type StackContext } from "sst/constructs";
import { Duration, sqs } from "./cdk";
import { toCdkEventPattern } from "./event-pattern";
import { PROD_STAGE } from "./settings";

/**
 * The event bus with its archive, the OutOfStock rule and the factory queue with its dead-letter queue.
 * Every value (pattern, names, timeouts, maxReceiveCount, retention) comes from the topology
 * (packages/core/src/topology/), which the offline stack reads too.
 *
 * Least privilege: nothing here binds the bus to a function (SST's bind would grant events:*).
 * A function may put events on this bus only as its `putEvents` grant says (grants.ts: our
 * source, its detail types); the queue's consumer gets its receive/delete/visibility
 * permissions from its event source.
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
