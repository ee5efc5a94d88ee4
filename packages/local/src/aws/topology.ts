/**
 * Creates the offline equivalent of the AWS queue topology (DLQ, factory
 * queue with redrive, alerts topic, back-in-stock topic) from packages/core/src/topology.ts, so
 * the local stack cannot drift from what `stacks/` deploys.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { CreateTopicCommand, type SNSClient } from "@aws-sdk/client-sns";
import { ensureQueue, queueArn } from "@donut-states/emulators/aws";
import { alertsTopic, backInStockTopic, factoryDeadLetterQueue, factoryQueue } from "@donut-states/core/topology";

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
}

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

  return {
    factoryQueueUrl,
    factoryQueueArn,
    factoryQueueName,
    dlqUrl,
    dlqArn,
    dlqName,
    alertsTopicArn: topic.TopicArn,
    backInStockTopicArn: backInStock.TopicArn,
  };
}
