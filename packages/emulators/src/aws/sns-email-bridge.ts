/**
 * Emulates SNS "email" subscriptions, which fauxqs accepts but never delivers
 * (it only fans out to `sqs` subscriptions).
 *
 * Each address gets its own internal SQS queue subscribed to the topic, just
 * as each AWS e-mail subscription is delivered and retried independently: a
 * failure for one address must not re-send the mail to the others. A
 * notification is deleted only after its mail was accepted by SMTP; on
 * failure it reappears after `retryAfterSeconds` (the queue's visibility
 * timeout) and is retried, like SNS delivery retries.
 */
import { createHash } from "node:crypto";
import { type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, GetQueueAttributesCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Mailer } from "../mail/mailer";
import { createRetry, pause } from "../retry";
import { alarmEmailText, asAlarmMessage } from "./alarm-email";
import { ensureQueue } from "./queues";

/** Subject AWS uses when Publish had none. */
export const DEFAULT_SUBJECT = "AWS Notification Message";

export interface EmailSubscriptionsOptions {
  sns: SNSClient;
  sqs: SQSClient;
  topicArn: string;
  emails: string[];
  mailer: Pick<Mailer, "send">;
  /** Long-poll wait, 1..20 s (default 20). stop() aborts it at once anyway. */
  pollWaitSeconds?: number;
  /** Delay before a notification whose mail failed is retried (default 10 s). */
  retryAfterSeconds?: number;
  log?: (line: string) => void;
}

/**
 * Note: after stop(), a notification arriving within pollWaitSeconds is
 * swallowed by fauxqs' still-pending server-side long poll and only shows
 * up again after retryAfterSeconds (docs/emulators.md#fauxqs-sqs-and-sns). Delayed, never lost.
 */
export interface EmailSubscriptions {
  /** Internal queue per address, for inspection. */
  queues: Array<{ email: string; queueUrl: string; subscriptionArn: string }>;
  stop(): Promise<void>;
}

interface SnsNotification {
  Type: string;
  MessageId?: string;
  TopicArn?: string;
  Subject?: string | null;
  Message: string;
  UnsubscribeURL?: string;
}

export async function startEmailSubscriptions(options: EmailSubscriptionsOptions): Promise<EmailSubscriptions> {
  const { sns, sqs, topicArn, mailer, pollWaitSeconds = 20, retryAfterSeconds = 10, log = () => {} } = options;
  const emails = [...new Set(options.emails.map((e) => e.trim()).filter(Boolean))];
  const abort = new AbortController();

  const queues = [];
  for (const email of emails) {
    queues.push(await subscribeEmail(sns, sqs, topicArn, email, retryAfterSeconds));
  }

  const loops = queues.map(({ email, queueUrl }) => pollLoop({ sqs, queueUrl, email, mailer, pollWaitSeconds, log, signal: abort.signal }));

  return {
    queues,
    async stop() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}

/**
 * The internal SQS queue and subscription standing for one address's e-mail subscription.
 * `attributes` are subscription attributes to give it too, e.g. the e-mail subscription's
 * FilterPolicy, which fauxqs then applies while publishing.
 */
export async function subscribeEmail(
  sns: SNSClient,
  sqs: SQSClient,
  topicArn: string,
  email: string,
  retryAfterSeconds: number,
  attributes: Record<string, string> = {},
): Promise<{ email: string; queueUrl: string; subscriptionArn: string }> {
  const QueueName = internalQueueName(topicArn, email);
  // Restarting the bridge reuses the queue and so keeps notifications that
  // arrived while it was down.
  const QueueUrl = await ensureQueue(sqs, QueueName, { VisibilityTimeout: String(retryAfterSeconds) });
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: Attributes?.QueueArn,
      // Keep the SNS envelope: it carries Subject, which raw delivery drops.
      Attributes: { ...attributes, RawMessageDelivery: "false" },
      ReturnSubscriptionArn: true,
    }),
  );
  return { email, queueUrl: QueueUrl, subscriptionArn: SubscriptionArn ?? "" };
}

/** SQS names allow [A-Za-z0-9_-], max 80; the hash keeps distinct addresses distinct after sanitising. */
function internalQueueName(topicArn: string, email: string): string {
  const topicName = topicArn.split(":").pop() ?? "topic";
  const hash = createHash("sha256").update(`${topicArn}|${email.toLowerCase()}`).digest("hex").slice(0, 8);
  const readable = `${topicName}-email-${email}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 70);
  return `${readable}-${hash}`;
}

/** Mails each notification of an internal queue to `email` until `signal` aborts. */
export async function pollLoop(args: {
  sqs: SQSClient;
  queueUrl: string;
  email: string;
  mailer: Pick<Mailer, "send">;
  pollWaitSeconds: number;
  log: (line: string) => void;
  signal: AbortSignal;
  /** The unsubscribe link of the address's own subscription (default: the envelope's). */
  unsubscribeUrl?: string;
}): Promise<void> {
  const { sqs, queueUrl, email, mailer, pollWaitSeconds, log, signal, unsubscribeUrl } = args;
  const retry = createRetry(`sns-email-bridge: receive for ${email}`, log);
  while (!signal.aborted) {
    let messages: Message[];
    try {
      const res = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: pollWaitSeconds }),
        { abortSignal: signal },
      );
      messages = res.Messages ?? [];
      retry.succeeded();
    } catch (err) {
      if (signal.aborted) return;
      await pause(retry.failed(err), signal);
      continue;
    }
    for (const message of messages) {
      if (signal.aborted) return;
      await deliver({ sqs, queueUrl, email, mailer, log, unsubscribeUrl }, message);
    }
  }
}

async function deliver(
  ctx: {
    sqs: SQSClient;
    queueUrl: string;
    email: string;
    mailer: Pick<Mailer, "send">;
    log: (line: string) => void;
    unsubscribeUrl?: string;
  },
  message: Message,
): Promise<void> {
  const { sqs, queueUrl, email, mailer, log, unsubscribeUrl } = ctx;
  const notification = parseEnvelope(message.Body);
  if (notification) {
    try {
      await mailer.send({
        to: [email],
        subject: notification.Subject || DEFAULT_SUBJECT,
        text: emailBody({ ...notification, UnsubscribeURL: unsubscribeUrl ?? notification.UnsubscribeURL }),
      });
    } catch (err) {
      // Not deleting = SQS redelivers after the visibility timeout.
      log(`sns-email-bridge: mail to ${email} failed, will retry: ${(err as Error).message}`);
      return;
    }
  } else {
    // Retrying a non-notification (e.g. a SubscriptionConfirmation) can never succeed.
    log(`sns-email-bridge: dropping non-notification message ${message.MessageId}`);
  }
  try {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  } catch (err) {
    // The notification reappears after the visibility timeout and is mailed again: at least once, as SNS delivers.
    log(`sns-email-bridge: could not delete notification ${message.MessageId} for ${email}, it will come again: ${(err as Error).message}`);
  }
}

function parseEnvelope(body: string | undefined): SnsNotification | undefined {
  try {
    const parsed = JSON.parse(body ?? "") as SnsNotification;
    return parsed?.Type === "Notification" && typeof parsed.Message === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * AWS "email" sends the Message text plus an unsubscribe footer. A CloudWatch
 * alarm notification arrives as AWS e-mails it, in readable text (alarm-email.ts);
 * other JSON messages are pretty-printed so operators can read them.
 */
export function emailBody(n: Pick<SnsNotification, "Message" | "UnsubscribeURL">): string {
  let text = n.Message;
  try {
    const json: unknown = JSON.parse(n.Message);
    const alarm = asAlarmMessage(json);
    if (alarm) text = alarmEmailText(alarm);
    else if (json !== null && typeof json === "object") text = JSON.stringify(json, null, 2);
  } catch {
    // Plain text: send as is.
  }
  const footer = n.UnsubscribeURL
    ? `\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n${n.UnsubscribeURL}\n`
    : "\n";
  return `${text}${footer}`;
}
