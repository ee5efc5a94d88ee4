import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetSubscriptionAttributesCommand, PublishCommand, SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailer } from "../mail/mailer";
import { type MailboxEntry, readMailbox, startSmtpSink } from "../mail/smtp-sink";
import { clientsBehindProxy, recordUnhandledRejections, testTopic, waitFor } from "../testing/aws";
import { CONFIRMATION_SUBJECT, type EmailSubscriptionFollower, followEmailSubscriptions } from "./email-subscriptions";
import { type SqsSnsEmulator, startSqsSns } from "./emulator";

/**
 * E-mail subscriptions made at run time, through fauxqs and a real SMTP sink: the confirmation
 * step shows in the mail log, and each address gets what its filter policy lets through, as SNS
 * would deliver it, and nothing after it unsubscribed.
 */
const REGION = "eu-west-1";
let emulator: SqsSnsEmulator;
let dir: string;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let mailer: ReturnType<typeof createMailer>;
let topicArn: string;
let follower: EmailSubscriptionFollower;
const subscriptionArns: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startSqsSns({ region: REGION });
  dir = await mkdtemp(path.join(tmpdir(), "email-subscriptions-"));
  sink = await startSmtpSink({ dir });
  mailer = createMailer({ smtpUrl: sink.url });
  topicArn = await testTopic(emulator.sns, "back-in-stock");
  follower = followEmailSubscriptions({
    sns: emulator.sns,
    sqs: emulator.sqs,
    topicArn,
    mailer,
    syncIntervalMs: 50,
    pollWaitSeconds: 1,
    retryAfterSeconds: 2,
  });
});
afterAll(async () => {
  await follower?.stop();
  mailer?.close();
  await sink?.close();
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mailsTo = async (email: string): Promise<MailboxEntry[]> => (await readMailbox(dir)).filter((mail) => mail.to.includes(email));
const subjectsTo = async (email: string) => (await mailsTo(email)).map((mail) => mail.subject);

async function subscribe(email: string, filterPolicy?: object): Promise<void> {
  const { SubscriptionArn } = await emulator.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "email",
      Endpoint: email,
      ...(filterPolicy ? { Attributes: { FilterPolicy: JSON.stringify(filterPolicy) } } : {}),
      ReturnSubscriptionArn: true,
    }),
  );
  subscriptionArns[email] = SubscriptionArn!;
}

const publish = (subject: string, attributes: Record<string, string> = {}) =>
  emulator.sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: subject,
      Message: `${subject}: the message`,
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
      ),
    }),
  );

/** Messages in an address's internal queue, visible or in flight: 0 means nothing more is coming. */
async function pending(email: string): Promise<number> {
  const followed = follower.subscriptions().find((subscription) => subscription.email === email);
  if (!followed) throw new Error(`${email} is not followed`);
  const { Attributes = {} } = await emulator.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: followed.queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

describe("e-mail subscriptions made at run time", { timeout: 60_000 }, () => {
  it("confirms each one and mails SNS's confirmation, then delivers what its filter policy lets through", async () => {
    await subscribe("alice@shop.test", { sku: ["CP-1"] });
    await subscribe("bob@shop.test", { sku: ["CP-2"] });
    await subscribe("carol@shop.test"); // no filter policy: everything
    for (const email of ["alice@shop.test", "bob@shop.test", "carol@shop.test"]) {
      const [confirmation] = await waitFor(
        `the confirmation mail to ${email}`,
        () => mailsTo(email).then((mails) => (mails.length > 0 ? mails : undefined)),
        20_000,
      );
      expect(confirmation.subject).toBe(CONFIRMATION_SUBJECT);
      expect(confirmation.text).toContain(`You have chosen to subscribe to the topic: \n${topicArn}`);
      const { Attributes } = await emulator.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArns[email] }));
      expect(Attributes?.PendingConfirmation).toBe("false");
    }
    expect(follower.subscriptions().find((subscription) => subscription.email === "alice@shop.test")?.filterPolicy).toBe(
      '{"sku":["CP-1"]}',
    );

    await publish("exact CP-1", { sku: "CP-1" });
    await publish("exact CP-2", { sku: "CP-2" });
    await publish("other case", { sku: "cp-1" }); // exact match is case-sensitive
    await publish("prefix only", { sku: "CP-10" });
    await publish("no attribute");
    await publish("another attribute", { kind: "CP-1" });
    // carol (no policy) gets all six; once alice's and bob's queues are empty too, nothing more can come.
    await waitFor("carol's six mails", async () => (await subjectsTo("carol@shop.test")).length === 7, 20_000);
    await waitFor(
      "alice's and bob's queues delivered",
      async () => (await pending("alice@shop.test")) + (await pending("bob@shop.test")) === 0,
      20_000,
    );

    expect((await subjectsTo("alice@shop.test")).sort()).toEqual([CONFIRMATION_SUBJECT, "exact CP-1"]);
    expect((await subjectsTo("bob@shop.test")).sort()).toEqual([CONFIRMATION_SUBJECT, "exact CP-2"]);
    const [notice] = (await mailsTo("alice@shop.test")).filter((mail) => mail.subject === "exact CP-1");
    expect(notice.text).toContain("exact CP-1: the message");
    // The unsubscribe link names alice's own e-mail subscription, as SNS's does.
    expect(notice.text).toContain(encodeURIComponent(subscriptionArns["alice@shop.test"]));
  });

  it("stops mailing an address that unsubscribed", async () => {
    await emulator.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArns["alice@shop.test"] }));
    await waitFor(
      "alice no longer followed",
      () => !follower.subscriptions().some((subscription) => subscription.email === "alice@shop.test"),
      20_000,
    );
    const before = (await subjectsTo("alice@shop.test")).length;
    await publish("after unsubscribing", { sku: "CP-1" });
    await waitFor("carol's copy", async () => (await subjectsTo("carol@shop.test")).includes("after unsubscribing"), 20_000);
    // alice's internal subscription was gone before the publish: fauxqs queued nothing for her.
    expect((await subjectsTo("alice@shop.test")).length).toBe(before);
  });
});

describe("an SNS and SQS outage", { timeout: 60_000 }, () => {
  it("keeps following the topic, and confirms and mails a subscription made once the emulator is back", async () => {
    const unhandled = recordUnhandledRejections();
    const { proxy, close, ...throughProxy } = await clientsBehindProxy(emulator.endpoint, REGION);
    const outageTopicArn = await testTopic(emulator.sns, "outage");
    const lines: string[] = [];
    const outageFollower = followEmailSubscriptions({
      ...throughProxy,
      topicArn: outageTopicArn,
      mailer,
      syncIntervalMs: 50,
      pollWaitSeconds: 1,
      retryAfterSeconds: 2,
      log: (line) => lines.push(line),
    });
    try {
      proxy.setAvailable(false);
      await waitFor(
        "a failed listing, logged",
        () => lines.some((line) => /listing the subscriptions of .* failed, retrying/.test(line)),
        10_000,
      );
      proxy.setAvailable(true);
      await emulator.sns.send(new SubscribeCommand({ TopicArn: outageTopicArn, Protocol: "email", Endpoint: "dave@shop.test" }));
      await waitFor("dave's confirmation", async () => (await subjectsTo("dave@shop.test")).includes(CONFIRMATION_SUBJECT), 20_000);
      await emulator.sns.send(new PublishCommand({ TopicArn: outageTopicArn, Subject: "after the outage", Message: "back" }));
      await waitFor("dave's notice", async () => (await subjectsTo("dave@shop.test")).includes("after the outage"), 20_000);
      expect(lines.some((line) => line.includes("works again"))).toBe(true);
      expect(unhandled.rejections).toEqual([]);
    } finally {
      await outageFollower.stop();
      await close();
      unhandled.stop();
    }
  });
});
