/**
 * Creates the offline equivalent of the AWS queue topology (DLQ, factory queue with redrive,
 * alerts topic, back-in-stock topic, each bus rule's failed-events queue, the customer mail queue
 * with its DLQ) from
 * the topology (packages/core/src/topology/), so the local stack cannot drift from what `stacks/` deploys.
 */

import { CreateTopicCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  alertsTopic,
  type BusRule,
  backInStockTopic,
  type FunctionDefinition,
  factoryDeadLetterQueue,
  factoryQueue,
  functions,
  mailDeadLetterQueue,
  mailQueue,
} from "@donut-states/core/topology";
import { ensureQueue, queueArn } from "@donut-states/emulators/aws";

/** Overrides exist for tests (short timeouts, unique names); production uses the defaults. */
export interface TopologySettings {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  factoryQueueName?: string;
  dlqName?: string;
  alertsTopicName?: string;
  backInStockTopicName?: string;
}

export interface ProvisionedTopology {
  factoryQueueUrl: string;
  factoryQueueArn: string;
  factoryQueueName: string;
  dlqUrl: string;
  dlqArn: string;
  dlqName: string;
  alertsTopicArn: string;
  backInStockTopicArn: string;
  /** Each bus rule's failed-events queue, by rule name (`BusRule.failedEvents`). */
  failedEventsQueueUrls: Record<string, string>;
  mailQueueUrl: string;
  mailDlqUrl: string;
}

/** The rules on our bus that run a function (`busRule` triggers of the functions table). */
export const busRules: readonly BusRule[] = (Object.values(functions) as FunctionDefinition[]).flatMap(({ trigger }) =>
  "busRule" in trigger ? [trigger.busRule] : [],
);

export async function provisionTopology(params: {
  sqs: SQSClient;
  sns: SNSClient;
  settings?: TopologySettings;
}): Promise<ProvisionedTopology> {
  const { sqs, sns, settings = {} } = params;
  const dlqName = settings.dlqName ?? factoryDeadLetterQueue.name;
  const factoryQueueName = settings.factoryQueueName ?? factoryQueue.name;

  // The DLQ first: the factory queue's RedrivePolicy needs its ARN.
  const dlqUrl = await ensureQueue(sqs, dlqName, {
    MessageRetentionPeriod: String(factoryDeadLetterQueue.retentionSeconds),
  });
  const dlqArn = await queueArn(sqs, dlqUrl);

  const factoryQueueUrl = await ensureQueue(sqs, factoryQueueName, {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds ?? factoryQueue.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(factoryQueue.retentionSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: settings.maxReceiveCount ?? factoryQueue.maxReceiveCount,
    }),
  });
  const factoryQueueArn = await queueArn(sqs, factoryQueueUrl);

  // CreateTopic without attributes is idempotent in AWS and fauxqs alike.
  const topic = await sns.send(new CreateTopicCommand({ Name: settings.alertsTopicName ?? alertsTopic.name }));
  if (!topic.TopicArn) throw new Error("CreateTopic returned no TopicArn");

  const backInStock = await sns.send(new CreateTopicCommand({ Name: settings.backInStockTopicName ?? backInStockTopic.name }));
  if (!backInStock.TopicArn) throw new Error("CreateTopic returned no TopicArn");

  const failedEventsQueueUrls: Record<string, string> = {};
  for (const rule of busRules) {
    failedEventsQueueUrls[rule.name] = await ensureQueue(sqs, rule.failedEvents.queueName, {
      MessageRetentionPeriod: String(rule.failedEvents.retentionSeconds),
    });
  }

  const mailDlqUrl = await ensureQueue(sqs, mailDeadLetterQueue.name, {
    MessageRetentionPeriod: String(mailDeadLetterQueue.retentionSeconds),
  });
  const mailQueueUrl = await ensureQueue(sqs, mailQueue.name, {
    MessageRetentionPeriod: String(mailQueue.retentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(sqs, mailDlqUrl), maxReceiveCount: mailQueue.maxReceiveCount }),
  });

  return {
    factoryQueueUrl,
    factoryQueueArn,
    factoryQueueName,
    dlqUrl,
    dlqArn,
    dlqName,
    alertsTopicArn: topic.TopicArn,
    backInStockTopicArn: backInStock.TopicArn,
    failedEventsQueueUrls,
    mailQueueUrl,
    mailDlqUrl,
  };
}
