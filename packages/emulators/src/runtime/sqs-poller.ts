import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { createRetry, pause } from "../retry";
import type { HandlerPool } from "./handlers";

export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  /** The consumer's execution environments: each batch in flight has an instance of its own. */
  handler: HandlerPool;
  batchSize: number;
  /** Lambda's function timeout: a handler still running after this is treated as failed. */
  timeoutMs: number;
  /** Batches in flight at once (the event source mapping's maximum concurrency). */
  concurrency: number;
  waitTimeSeconds?: number;
  log?: (line: string) => void;
}

export interface SqsPoller {
  /** Graceful: stop receiving, finish and acknowledge the batches in flight. */
  stop(): Promise<void>;
  /**
   * Crash: stop at once and acknowledge nothing still in flight, as when a Lambda dies
   * mid-batch. Those messages come back after the visibility timeout (duplicates included).
   */
  kill(): void;
  /** Batches handled so far (for tests and the dashboard). */
  readonly stats: { batches: number; succeeded: number; failed: number };
}

/** A received SQS message in the shape Lambda's event source mapping gives the function. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { stringValue: value.StringValue, dataType: value.DataType ?? "String", stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Lambda's SQS event source mapping, locally: long-poll, hand the function a batch, then
 * delete what succeeded. Records named in `batchItemFailures` (or the whole batch, if the
 * function throws or times out) are left alone, so they reappear after the visibility timeout
 * and the queue's redrive policy moves them to the DLQ after maxReceiveCount receives.
 */
export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const { sqs, queueUrl, handler, batchSize, log = () => {} } = options;
  const abort = new AbortController();
  // Aborted by kill(): the invocations in flight are abandoned and their instances discarded.
  const killSwitch = new AbortController();
  let killed = false;
  const stats = { batches: 0, succeeded: 0, failed: 0 };
  // One for all the poller's loops: an outage is one run of failures, logged once.
  const retry = createRetry(`poller on ${queueUrl}`, log);

  async function handleBatch(messages: Message[]) {
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, options.queueArn, options.region)) };
    let failedIds: Set<string>;
    try {
      const result = await handler.invoke<SQSBatchResponse | undefined>(event, { timeoutMs: options.timeoutMs, signal: killSwitch.signal });
      failedIds = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      log(`${handler.functionName} failed the whole batch of ${messages.length}: ${(error as Error).message}`);
      failedIds = new Set(messages.map((message) => message.MessageId!));
    }
    if (killed) return;
    const succeeded = messages.filter((message) => !failedIds.has(message.MessageId!));
    stats.batches++;
    stats.succeeded += succeeded.length;
    stats.failed += messages.length - succeeded.length;
    if (succeeded.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
  }

  async function loop() {
    while (!abort.signal.aborted) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: abort.signal },
        );
        if (Messages.length === 0) {
          retry.succeeded();
          continue;
        }
        if (abort.signal.aborted) {
          // Stopped while receiving: give the messages back now rather than after the visibility timeout.
          await sqs
            .send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: queueUrl,
                Entries: Messages.map((message, index) => ({
                  Id: String(index),
                  ReceiptHandle: message.ReceiptHandle!,
                  VisibilityTimeout: 0,
                })),
              }),
            )
            .catch(() => {});
          return;
        }
        await handleBatch(Messages);
        retry.succeeded();
      } catch (error) {
        // Only SQS calls get here (handleBatch catches the handler's errors): a batch whose
        // delete failed comes back after the visibility timeout, as with Lambda.
        if (abort.signal.aborted) return;
        await pause(retry.failed(error), abort.signal);
      }
    }
  }

  const loops = Array.from({ length: options.concurrency }, () => loop());
  return {
    stats,
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
    kill() {
      killed = true;
      killSwitch.abort();
      abort.abort();
    },
  };
}
