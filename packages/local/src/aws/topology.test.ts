import { setTimeout as sleep } from "node:timers/promises";
import { GetTopicAttributesCommand } from "@aws-sdk/client-sns";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { factoryDeadLetterQueue, factoryQueue } from "@donut-states/core/topology";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { uniqueName } from "@donut-states/emulators/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionTopology } from "./topology";

const REGION = "eu-west-1";
let emu: SqsSnsEmulator;

beforeAll(async () => {
  emu = await startSqsSns({ region: REGION });
});
afterAll(async () => {
  await emu?.close();
});

async function attrs(sqs: SQSClient, QueueUrl: string): Promise<Record<string, string>> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
  return res.Attributes ?? {};
}

async function receiveOne(sqs: SQSClient, QueueUrl: string) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"] }),
  );
  return Messages[0];
}

describe("startSqsSns", () => {
  it("rejects an account id fauxqs cannot honour", async () => {
    await expect(startSqsSns({ region: REGION, accountId: "123456789012" })).rejects.toThrow(/000000000000/);
  });

  it("serves queue URLs on sqs.<region>.localhost with the fixed account", async () => {
    const t = await provisionTopology({
      sqs: emu.sqs,
      sns: emu.sns,
      settings: { factoryQueueName: uniqueName("url"), dlqName: uniqueName("url-dlq") },
    });
    expect(t.factoryQueueUrl).toBe(`http://sqs.${REGION}.localhost:${emu.port}/000000000000/${t.factoryQueueName}`);
    expect(t.dlqArn).toBe(`arn:aws:sqs:${REGION}:000000000000:${t.dlqName}`);
  });
});

describe("provisionTopology", () => {
  it("applies the settings from the topology (packages/core/src/topology/) by default", async () => {
    const t = await provisionTopology({ sqs: emu.sqs, sns: emu.sns });
    const factory = await attrs(emu.sqs, t.factoryQueueUrl);
    expect(factory.VisibilityTimeout).toBe(String(factoryQueue.visibilityTimeoutSeconds));
    expect(factory.MessageRetentionPeriod).toBe(String(factoryQueue.retentionSeconds));
    expect(JSON.parse(factory.RedrivePolicy)).toEqual({ deadLetterTargetArn: t.dlqArn, maxReceiveCount: factoryQueue.maxReceiveCount });
    expect((await attrs(emu.sqs, t.dlqUrl)).MessageRetentionPeriod).toBe(String(factoryDeadLetterQueue.retentionSeconds));
    const topic = await emu.sns.send(new GetTopicAttributesCommand({ TopicArn: t.alertsTopicArn }));
    expect(topic.Attributes?.TopicArn).toBe(t.alertsTopicArn);
  });

  it("is idempotent and converges when overrides change", async () => {
    const names = { factoryQueueName: uniqueName("idem"), dlqName: uniqueName("idem-dlq"), alertsTopicName: uniqueName("idem-topic") };
    const first = await provisionTopology({ sqs: emu.sqs, sns: emu.sns, settings: names });
    const again = await provisionTopology({ sqs: emu.sqs, sns: emu.sns, settings: names });
    expect(again).toEqual(first);
    const changed = await provisionTopology({
      sqs: emu.sqs,
      sns: emu.sns,
      settings: { ...names, visibilityTimeoutSeconds: 7, maxReceiveCount: 9 },
    });
    expect(changed.factoryQueueUrl).toBe(first.factoryQueueUrl);
    const factory = await attrs(emu.sqs, first.factoryQueueUrl);
    expect(factory.VisibilityTimeout).toBe("7");
    expect(JSON.parse(factory.RedrivePolicy).maxReceiveCount).toBe(9);
  });
});

describe("redrive (real fauxqs)", () => {
  it("redelivers an undeleted message after the visibility timeout, then moves it to the DLQ after maxReceiveCount receives", async () => {
    const t = await provisionTopology({
      sqs: emu.sqs,
      sns: emu.sns,
      settings: {
        factoryQueueName: uniqueName("redrive"),
        dlqName: uniqueName("redrive-dlq"),
        visibilityTimeoutSeconds: 1,
        maxReceiveCount: 2,
      },
    });
    const { MessageId } = await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.factoryQueueUrl, MessageBody: '{"sku":"glazed"}' }));

    const first = await receiveOne(emu.sqs, t.factoryQueueUrl);
    expect(first?.MessageId).toBe(MessageId);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe("1");
    // Invisible while in flight.
    expect(await receiveOne(emu.sqs, t.factoryQueueUrl)).toBeUndefined();

    await sleep(1_100);
    const second = await receiveOne(emu.sqs, t.factoryQueueUrl);
    expect(second?.MessageId).toBe(MessageId);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe("2");
    expect((await attrs(emu.sqs, t.dlqUrl)).ApproximateNumberOfMessages).toBe("0");

    await sleep(1_100);
    // The third receive exceeds maxReceiveCount=2: the message moves instead of being delivered.
    expect(await receiveOne(emu.sqs, t.factoryQueueUrl)).toBeUndefined();
    expect((await attrs(emu.sqs, t.dlqUrl)).ApproximateNumberOfMessages).toBe("1");
    const factory = await attrs(emu.sqs, t.factoryQueueUrl);
    expect(factory.ApproximateNumberOfMessages).toBe("0");
    expect(factory.ApproximateNumberOfMessagesNotVisible).toBe("0");

    const dead = await receiveOne(emu.sqs, t.dlqUrl);
    expect(dead?.MessageId).toBe(MessageId);
    expect(dead?.Body).toBe('{"sku":"glazed"}');
    await emu.sqs.send(new DeleteMessageCommand({ QueueUrl: t.dlqUrl, ReceiptHandle: dead?.ReceiptHandle }));
  });
});
