/** Helpers for tests against the emulators (real emulator, real sockets: we wait, we don't mock). */

import { setTimeout as sleep } from "node:timers/promises";
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createLocalClients } from "../aws/emulator";
import { ensureQueue, queueArn } from "../aws/queues";
import { type SwitchableProxy, startSwitchableProxy } from "./switchable-proxy";

export { type SwitchableProxy, startSwitchableProxy };

/** An alarm on a dead-letter queue's depth, as a stack defines one. */
export const TEST_DLQ_ALARM = {
  name: "factory-dlq-not-empty",
  metricName: "ApproximateNumberOfMessagesVisible",
  threshold: 1,
  comparison: "GreaterThanOrEqualToThreshold",
  periodSeconds: 60,
  evaluationPeriods: 1,
} as const;

/** Polls `probe` until it returns a truthy value; fails with `what` after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Receives (and leaves in flight) everything currently visible in a queue. */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

let counter = 0;
/** Queue/topic names unique per test, so tests sharing an emulator never see each other's messages. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** A queue of this test's own (a unique name), with the attributes given. */
export async function testQueue(
  sqs: SQSClient,
  prefix: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string; name: string }> {
  const name = uniqueName(prefix);
  const url = await ensureQueue(sqs, name, attributes);
  return { url, arn: await queueArn(sqs, url), name };
}

/** A topic of this test's own (a unique name); its ARN. */
export async function testTopic(sns: SNSClient, prefix: string): Promise<string> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName(prefix) }));
  if (!TopicArn) throw new Error("CreateTopic returned no TopicArn");
  return TopicArn;
}

/** One message a topic delivered, as an SQS subscriber gets it (the SNS envelope keeps the subject and attributes). */
export interface TopicDelivery {
  subject: string;
  message: string;
  attributes: Record<string, string>;
}

/**
 * What a topic publishes, read the way a subscriber gets it: an SQS queue of this test's own
 * subscribed to the topic (with a filter policy if given). `receive()` returns, and removes,
 * everything delivered so far.
 */
export async function topicInbox(
  clients: { sqs: SQSClient; sns: SNSClient },
  topicArn: string,
  filterPolicy?: Record<string, unknown>,
): Promise<{ receive(): Promise<TopicDelivery[]> }> {
  const queue = await testQueue(clients.sqs, "inbox");
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: queue.arn,
      Attributes: filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : undefined,
    }),
  );
  return {
    async receive() {
      const received: TopicDelivery[] = [];
      for (;;) {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return received;
        for (const message of Messages) {
          const envelope = JSON.parse(message.Body!) as {
            Subject?: string;
            Message: string;
            MessageAttributes?: Record<string, { Value: string }>;
          };
          received.push({
            subject: envelope.Subject ?? "",
            message: envelope.Message,
            attributes: Object.fromEntries(
              Object.entries(envelope.MessageAttributes ?? {}).map(([name, attribute]) => [name, attribute.Value]),
            ),
          });
        }
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
          }),
        );
      }
    },
  };
}

/**
 * SQS and SNS clients that reach an emulator through a switchable proxy, so a test can make it
 * refuse connections or stop answering while the code under test keeps its clients.
 */
export async function clientsBehindProxy(
  endpoint: string,
  region: string,
  options: Parameters<typeof createLocalClients>[2] = {},
): Promise<{ proxy: SwitchableProxy; sqs: SQSClient; sns: SNSClient; close(): Promise<void> }> {
  const proxy = await startSwitchableProxy(endpoint);
  const { sqs, sns } = createLocalClients(proxy.url, region, options);
  return {
    proxy,
    sqs,
    sns,
    async close() {
      sqs.destroy();
      sns.destroy();
      await proxy.close();
    },
  };
}

/** Records the process's unhandled rejections from now until `stop()`: a test of resilience expects none. */
export function recordUnhandledRejections(): { rejections: unknown[]; stop(): void } {
  const rejections: unknown[] = [];
  const record = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", record);
  return { rejections, stop: () => process.off("unhandledRejection", record) };
}
