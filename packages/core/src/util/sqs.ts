/**
 * SQS operations on our queues (depth, peek without consuming, redrive), shared by the ops CLI,
 * the dashboard and the chaos run.
 *
 * Works against AWS and against fauxqs (the offline stack's emulator), which has no
 * StartMessageMoveTask: `redrive` tries the AWS task first and falls back to moving messages
 * itself (receive -> SendMessage to the factory queue -> DeleteMessage), rate limited.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";

/** SQS batch operations take at most 10 entries. */
const SQS_BATCH = 10;

export interface QueueDepth {
  /** ApproximateNumberOfMessages: waiting to be received (the DLQ alarm's metric). */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, in flight. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed. */
  delayed: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  if (!Attributes?.QueueArn) throw new Error(`SQS returned no QueueArn for ${queueUrl}`);
  return Attributes.QueueArn;
}

/** A message as an operator wants to see it: which restock request, how often it was tried. */
export interface PeekedMessage {
  messageId: string;
  /** ApproximateReceiveCount: deliveries so far (the source queue's ones included; this peek counts too). */
  receiveCount: number;
  sentAt?: string;
  restockId?: string;
  sku?: string;
  quantity?: number;
  detailType?: string;
  /** The EventBridge event id (also the outbox row id downstream). */
  eventId?: string;
  /** AWS sets DeadLetterQueueSourceArn on messages moved by a redrive policy. */
  sourceArn?: string;
  /**
   * Set when EventBridge itself could not deliver the event to the factory queue (the rule's
   * target DLQ is this same DLQ): its ERROR_CODE message attribute. The request is still pending.
   */
  eventBridgeError?: string;
  body: string;
}

/** Read the EventBridge envelope (or a bare detail) in an SQS body; tolerant of anything else. */
export function describeBody(body: string): Pick<PeekedMessage, "restockId" | "sku" | "quantity" | "detailType" | "eventId"> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== "object") return {};
  const envelope = parsed as Record<string, unknown>;
  const detail = (envelope.detail && typeof envelope.detail === "object" ? envelope.detail : envelope) as Record<string, unknown>;
  const text = (field: unknown) => (typeof field === "string" ? field : undefined);
  return {
    restockId: text(detail.restockId),
    sku: text(detail.sku),
    quantity: typeof detail.quantity === "number" ? detail.quantity : undefined,
    detailType: text(envelope["detail-type"]),
    eventId: text(envelope.id),
  };
}

function toPeeked(message: Message): PeekedMessage {
  const attributes = message.Attributes ?? {};
  const sent = Number(attributes.SentTimestamp);
  return {
    messageId: message.MessageId ?? "",
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 0),
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined,
    sourceArn: attributes.DeadLetterQueueSourceArn,
    eventBridgeError: message.MessageAttributes?.ERROR_CODE?.StringValue,
    ...describeBody(message.Body ?? ""),
    body: message.Body ?? "",
  };
}

/** Receive up to `max` (at most 10) messages with their attributes, hidden for `holdSeconds`. */
export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  max: number,
  holdSeconds: number,
  waitSeconds: number,
): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(SQS_BATCH, max),
      VisibilityTimeout: holdSeconds,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  return Messages;
}

/** Make received messages visible again at once (ChangeMessageVisibility 0), in batches of 10. */
export async function releaseMessages(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += SQS_BATCH) {
    const chunk = messages.slice(start, start + SQS_BATCH);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
}

export interface PeekOptions {
  /** At most this many messages (default 10). */
  max?: number;
  /** Seconds the peeked messages stay hidden if this process dies before releasing them. */
  holdSeconds?: number;
  /** Long-poll wait of the first receive; 1 s makes AWS ask every server (short polls sample a few). */
  waitSeconds?: number;
}

/**
 * Look at up to `max` messages without consuming them: receive them (hidden for `holdSeconds`
 * so the same one is not counted twice), then make every one visible again immediately. Nothing
 * is deleted; the traces are ApproximateReceiveCount going up by one and the messages being
 * invisible for the few milliseconds between receive and release.
 */
export async function peekMessages(sqs: SQSClient, queueUrl: string, options: PeekOptions = {}): Promise<PeekedMessage[]> {
  const { max = 10, holdSeconds = 30, waitSeconds = 1 } = options;
  const held: Message[] = [];
  try {
    while (held.length < max) {
      // Long-poll only while nothing is held: every millisecond a message is hidden, the queue
      // looks emptier (the offline DLQ alarm samples every second and would flap to OK).
      const batch = await receiveMessages(sqs, queueUrl, max - held.length, holdSeconds, held.length ? 0 : waitSeconds);
      if (batch.length === 0) break;
      held.push(...batch);
    }
    return held.map(toPeeked);
  } finally {
    await releaseMessages(sqs, queueUrl, held);
  }
}

export interface RedriveOptions {
  /** Move at most this many messages (default: until the source queue is empty). */
  max?: number;
  /** Messages per second, at most (default 10). */
  ratePerSecond?: number;
  holdSeconds?: number;
  waitSeconds?: number;
  /** Called after each batch with the running totals. */
  onProgress?: (progress: { moved: number; failed: number }) => void;
}

export interface RedriveResult {
  mode: "loop" | "move-task";
  moved: number;
  failed: number;
  errors: string[];
  durationMs: number;
  /** Why the loop stopped early, if it did. */
  stoppedBecause?: string;
  /** The AWS message move task (mode "move-task"). */
  taskHandle?: string;
  approximateNumberOfMessagesToMove?: number;
}

/**
 * Move messages from `from` to `to` ourselves: receive a batch (hidden while we work), send
 * the same bodies and attributes to the target, and delete from the source only what the
 * target accepted; anything not sent is made visible again at once. Paced so that message n
 * (counting from 0) is sent no earlier than n / rate seconds after the start. If a message we already moved comes
 * back to the source during the run (the consumer is still failing: SQS keeps a message's id
 * when it moves it to the DLQ), the loop stops instead of chasing it. Sending first and deleting second means a crash in between leaves a duplicate,
 * never a loss; the factory-caller ignores duplicates.
 */
export async function redriveLoop(
  sqs: SQSClient,
  { from, to }: { from: string; to: string },
  options: RedriveOptions = {},
): Promise<RedriveResult> {
  const { max = Number.POSITIVE_INFINITY, ratePerSecond = 10, holdSeconds = 30, waitSeconds = 1, onProgress } = options;
  if (!(ratePerSecond > 0)) throw new Error("ratePerSecond must be positive");
  const started = Date.now();
  const result: RedriveResult = { mode: "loop", moved: 0, failed: 0, errors: [], durationMs: 0 };
  const seen = new Set<string>();
  const batchLimit = Math.max(1, Math.min(SQS_BATCH, Math.floor(ratePerSecond)));
  // Received messages must stay hidden for the pacing wait that follows, whatever the rate.
  const hold = Math.max(holdSeconds, Math.ceil(batchLimit / ratePerSecond) + 30);

  while (result.moved + result.failed < max) {
    const attempted = result.moved + result.failed;
    const messages = await receiveMessages(sqs, from, Math.min(batchLimit, max - attempted), hold, waitSeconds);
    if (messages.length === 0) break;
    // Pace: the last message of this batch may leave no earlier than (its index) / rate. The
    // wait is at most one batch's worth, shorter than the hold.
    const due = started + ((attempted + messages.length - 1) * 1000) / ratePerSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    // A message keeps its MessageId when SQS moves it to a DLQ: one we sent in this run is back.
    const returned = messages.filter((message) => seen.has(message.MessageId ?? ""));
    if (returned.length) {
      await releaseMessages(sqs, from, messages);
      result.stoppedBecause = `${returned.length} message(s) moved in this run came back to the source queue: the consumer is still failing`;
      break;
    }

    const sent = await sqs
      .send(
        new SendMessageBatchCommand({
          QueueUrl: to,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            MessageBody: message.Body ?? "",
            MessageAttributes:
              message.MessageAttributes && Object.keys(message.MessageAttributes).length ? message.MessageAttributes : undefined,
          })),
        }),
      )
      .catch((error: Error) => ({
        Successful: [],
        Failed: messages.map((_, index) => ({ Id: String(index), Code: error.name, Message: error.message, SenderFault: false })),
      }));
    const ok = new Set((sent.Successful ?? []).map((entry) => Number(entry.Id)));
    const moved = messages.filter((_, index) => ok.has(index));
    const notSent = messages.filter((_, index) => !ok.has(index));
    for (const failure of sent.Failed ?? [])
      result.errors.push(`send ${messages[Number(failure.Id)]?.MessageId}: ${failure.Code} ${failure.Message ?? ""}`.trim());

    if (moved.length) {
      const deleted = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: moved.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
      for (const failure of deleted.Failed ?? []) {
        result.errors.push(
          `delete ${moved[Number(failure.Id)]?.MessageId}: ${failure.Code} (it was copied; a duplicate stays in the source)`,
        );
      }
    }
    if (notSent.length) await releaseMessages(sqs, from, notSent).catch(() => {});
    for (const entry of sent.Successful ?? []) if (entry.MessageId) seen.add(entry.MessageId);
    result.moved += moved.length;
    result.failed += notSent.length;
    onProgress?.({ moved: result.moved, failed: result.failed });
    if (moved.length === 0) {
      result.stoppedBecause = "the target queue refused a whole batch";
      break;
    }
  }
  result.durationMs = Date.now() - started;
  return result;
}

/** True for "this SQS does not implement that action" (fauxqs says InvalidAction). */
export function isUnsupportedOperation(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const text = `${e?.name ?? ""} ${e?.Code ?? ""} ${e?.code ?? ""} ${e?.message ?? ""}`;
  return /InvalidAction|UnknownOperation|UnsupportedOperation|NotImplemented|Unknown action|not (?:supported|implemented)/i.test(text);
}

/**
 * AWS's own redrive: a message move task from the DLQ back to `destinationQueueUrl` (or, without
 * one, to each message's original source queue). It runs server-side; see `moveTaskStatus`.
 */
export async function startMoveTask(
  sqs: SQSClient,
  { dlqUrl, destinationQueueUrl, ratePerSecond }: { dlqUrl: string; destinationQueueUrl?: string; ratePerSecond?: number },
): Promise<{ taskHandle: string; sourceArn: string; destinationArn?: string }> {
  const sourceArn = await queueArn(sqs, dlqUrl);
  const destinationArn = destinationQueueUrl ? await queueArn(sqs, destinationQueueUrl) : undefined;
  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      DestinationArn: destinationArn,
      // AWS accepts 1..500; unset means "system optimized".
      MaxNumberOfMessagesPerSecond: ratePerSecond === undefined ? undefined : Math.max(1, Math.min(500, Math.floor(ratePerSecond))),
    }),
  );
  if (!TaskHandle) throw new Error("StartMessageMoveTask returned no TaskHandle");
  return { taskHandle: TaskHandle, sourceArn, destinationArn };
}

export async function moveTaskStatus(sqs: SQSClient, sourceArn: string) {
  const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
  const task = Results[0];
  return task
    ? {
        status: task.Status ?? "UNKNOWN",
        moved: task.ApproximateNumberOfMessagesMoved ?? 0,
        toMove: task.ApproximateNumberOfMessagesToMove,
        failureReason: task.FailureReason,
      }
    : undefined;
}
