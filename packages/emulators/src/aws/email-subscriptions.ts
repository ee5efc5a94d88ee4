/**
 * SNS e-mail subscriptions made while the stack runs (fauxqs accepts them but never delivers):
 * each is confirmed at once, delivered through its own SQS subscription carrying its filter
 * policy, and stopped when unsubscribed. The details and the known differences from SNS:
 * docs/emulators.md#sns-e-mail-subscriptions.
 */
import {
  ConfirmSubscriptionCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  type SNSClient,
  UnsubscribeCommand,
} from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Mailer } from "../mail/mailer";
import { createRetry, pause } from "../retry";
import { pollLoop, subscribeEmail } from "./sns-email-bridge";

/** The subject of SNS's confirmation mail. */
export const CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation";

/** The subscription attributes that decide what SNS delivers to a subscription. */
const DELIVERY_ATTRIBUTES = ["FilterPolicy", "FilterPolicyScope"] as const;

export interface FollowedEmailSubscription {
  /** The e-mail subscription the application made. */
  subscriptionArn: string;
  email: string;
  /** Its filter policy as given to Subscribe, if any. */
  filterPolicy?: string;
  /** The internal queue its mails go through. */
  queueUrl: string;
}

export interface EmailSubscriptionFollower {
  /** The e-mail subscriptions followed now (confirmed, receiving). */
  subscriptions(): FollowedEmailSubscription[];
  stop(): Promise<void>;
}

export interface FollowEmailSubscriptionsOptions {
  sns: SNSClient;
  sqs: SQSClient;
  topicArn: string;
  mailer: Pick<Mailer, "send">;
  /** How often the topic's subscriptions are listed (default 250 ms). */
  syncIntervalMs?: number;
  /** Long-poll wait of each address's queue, 1..20 s (default 20; stop() ends it at once). */
  pollWaitSeconds?: number;
  /** Delay before a notification whose mail failed is retried (default 10 s). */
  retryAfterSeconds?: number;
  log?: (line: string) => void;
}

/** The text of SNS's confirmation mail, with the one offline difference: nothing to click. */
export function confirmationText(topicArn: string): string {
  return [
    "You have chosen to subscribe to the topic: ",
    topicArn,
    "",
    "To confirm this subscription, click or visit the link below (If this was in error no action is necessary): ",
    "Confirm subscription (offline: confirmed automatically, there is nothing to click)",
    "",
    "Please do not reply directly to this email. If you wish to remove yourself from receiving all future SNS subscription confirmation requests please send an email to sns-opt-out",
    "",
  ].join("\n");
}

/** The unsubscribe link SNS puts in every mail to an e-mail subscription. */
export function unsubscribeUrl(subscriptionArn: string, email: string): string {
  const region = subscriptionArn.split(":")[3] || "us-east-1";
  return `https://sns.${region}.amazonaws.com/unsubscribe.html?SubscriptionArn=${encodeURIComponent(subscriptionArn)}&Endpoint=${encodeURIComponent(email)}`;
}

export function followEmailSubscriptions(options: FollowEmailSubscriptionsOptions): EmailSubscriptionFollower {
  const { sns, sqs, topicArn, mailer, syncIntervalMs = 250, pollWaitSeconds = 20, retryAfterSeconds = 10, log = () => {} } = options;
  const stopping = new AbortController();
  const followed = new Map<
    string,
    { subscription: FollowedEmailSubscription; internalArn: string; stop: AbortController; loop: Promise<void> }
  >();

  async function follow(subscriptionArn: string, email: string): Promise<void> {
    const { Attributes = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
    const delivery = Object.fromEntries(DELIVERY_ATTRIBUTES.flatMap((name) => (Attributes[name] ? [[name, Attributes[name]]] : [])));
    // Live first (subscribing again is idempotent if anything below fails), then confirmed, then
    // the confirmation mail: once that mail is in the log, the address receives.
    const internal = await subscribeEmail(sns, sqs, topicArn, email, retryAfterSeconds, delivery);
    // fauxqs takes the subscription's ARN as its confirmation token.
    await sns.send(new ConfirmSubscriptionCommand({ TopicArn: topicArn, Token: subscriptionArn }));
    await mailer.send({ to: [email], subject: CONFIRMATION_SUBJECT, text: confirmationText(topicArn) });
    const stop = new AbortController();
    const loop = pollLoop({
      sqs,
      queueUrl: internal.queueUrl,
      email,
      mailer,
      pollWaitSeconds,
      log,
      signal: AbortSignal.any([stopping.signal, stop.signal]),
      unsubscribeUrl: unsubscribeUrl(subscriptionArn, email),
    });
    followed.set(subscriptionArn, {
      subscription: { subscriptionArn, email, filterPolicy: delivery.FilterPolicy, queueUrl: internal.queueUrl },
      internalArn: internal.subscriptionArn,
      stop,
      loop,
    });
    log(
      `sns-email-bridge: ${email} subscribed to ${topicArn}${delivery.FilterPolicy ? ` with filter policy ${delivery.FilterPolicy}` : ""}; confirmation mailed`,
    );
  }

  async function unfollow(subscriptionArn: string): Promise<void> {
    const entry = followed.get(subscriptionArn);
    if (!entry) return;
    followed.delete(subscriptionArn);
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: entry.internalArn })).catch(() => {});
    entry.stop.abort();
    await entry.loop;
    log(`sns-email-bridge: ${entry.subscription.email} unsubscribed from ${topicArn}`);
  }

  async function sync(): Promise<void> {
    const current = new Map<string, string>();
    let NextToken: string | undefined;
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }), { abortSignal: stopping.signal });
      for (const { Protocol, SubscriptionArn, Endpoint } of page.Subscriptions ?? []) {
        // SNS lists an unconfirmed subscription as "PendingConfirmation", without its ARN.
        if (Protocol === "email" && Endpoint && SubscriptionArn?.startsWith("arn:")) current.set(SubscriptionArn, Endpoint);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    for (const [subscriptionArn, email] of current) {
      if (followed.has(subscriptionArn) || stopping.signal.aborted) continue;
      // A failure (SMTP down for the confirmation mail) is tried again at the next sync.
      await follow(subscriptionArn, email).catch((error) =>
        log(`sns-email-bridge: following ${email} failed, will retry: ${(error as Error).message}`),
      );
    }
    for (const subscriptionArn of [...followed.keys()]) if (!current.has(subscriptionArn)) await unfollow(subscriptionArn);
  }

  const retry = createRetry(`sns-email-bridge: listing the subscriptions of ${topicArn}`, log);
  const syncing = (async () => {
    while (!stopping.signal.aborted) {
      let delay = syncIntervalMs;
      try {
        await sync();
        retry.succeeded();
      } catch (error) {
        if (stopping.signal.aborted) break;
        delay = Math.max(syncIntervalMs, retry.failed(error));
      }
      await pause(delay, stopping.signal);
    }
  })();

  return {
    subscriptions: () => [...followed.values()].map((entry) => entry.subscription),
    async stop() {
      stopping.abort();
      await syncing;
      await Promise.all([...followed.values()].map((entry) => entry.loop));
    },
  };
}
