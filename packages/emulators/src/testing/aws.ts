/** Helpers for tests against the emulators (real emulator, real sockets: we wait, we don't mock). */
import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { CreateTopicCommand, type SNSClient } from "@aws-sdk/client-sns";
import { ensureQueue, queueArn } from "../aws/queues";
import { setTimeout as sleep } from "node:timers/promises";

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
export async function testQueue(sqs: SQSClient, prefix: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string; name: string }> {
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
