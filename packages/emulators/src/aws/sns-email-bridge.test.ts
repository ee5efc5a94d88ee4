import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PublishCommand } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMailer } from "../mail/mailer";
import { readMailbox, startSmtpSink } from "../mail/smtp-sink";
import { clientsBehindProxy, recordUnhandledRejections, TEST_DLQ_ALARM, testQueue, testTopic, waitFor } from "../testing/aws";
import { startDlqAlarm } from "./alarm";
import { regionName } from "./alarm-email";
import { createLocalClients, type SqsSnsEmulator, startSqsSns } from "./emulator";
import { DEFAULT_SUBJECT, startEmailSubscriptions } from "./sns-email-bridge";

const REGION = "eu-west-1";
const dlqAlarm = TEST_DLQ_ALARM;
const OPS = ["ops@donut.test", "night-shift@donut.test"];
let emu: SqsSnsEmulator;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  emu = await startSqsSns({ region: REGION });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await emu?.close();
});

async function mailbox(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "bridge-mail-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A mailbox, an SMTP sink storing into it and a mailer sending to the sink, all gone after the test. */
async function mailService(log?: (line: string) => void) {
  const dir = await mailbox();
  const sink = await startSmtpSink({ dir, log });
  cleanups.push(() => sink.close());
  const mailer = createMailer({ smtpUrl: sink.url });
  cleanups.push(() => mailer.close());
  return { dir, mailer };
}

/** The unhandled rejections while the test runs. */
function unhandledRejections(): unknown[] {
  const recorder = recordUnhandledRejections();
  cleanups.push(() => recorder.stop());
  return recorder.rejections;
}

/** A dead-letter queue to watch and the topic its alarm notifies. */
async function topology() {
  const dlq = await testQueue(emu.sqs, "dlq");
  return { dlqUrl: dlq.url, dlqName: dlq.name, alertsTopicArn: await testTopic(emu.sns, "alerts") };
}

async function depth(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await emu.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

describe("end to end: DLQ -> alarm -> SNS -> e-mail bridge -> SMTP sink", () => {
  it("e-mails each address exactly once, naming the DLQ", async () => {
    const t = await topology();
    const logLines: string[] = [];
    const { dir, mailer } = await mailService((l) => logLines.push(l));
    const bridge = await startEmailSubscriptions({ sns: emu.sns, sqs: emu.sqs, topicArn: t.alertsTopicArn, emails: OPS, mailer });
    const alarm = startDlqAlarm({
      sqs: emu.sqs,
      sns: emu.sns,
      queueUrl: t.dlqUrl,
      queueName: t.dlqName,
      topicArn: t.alertsTopicArn,
      alarm: dlqAlarm,
      intervalMs: 100,
      region: REGION,
    });
    cleanups.push(() => alarm.stop());

    await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: '{"sku":"boston-cream"}' }));
    await waitFor("two mails", async () => (await readMailbox(dir)).length >= 2);
    await sleep(600); // the alarm keeps evaluating (still ALARM): no further mail may appear

    const mails = await readMailbox(dir);
    expect(mails).toHaveLength(2);
    expect(mails.map((m) => m.to).sort()).toEqual(OPS.map((a) => [a]).sort());
    for (const mail of mails) {
      expect(mail.subject).toBe(`ALARM: "${dlqAlarm.name}" in ${regionName(REGION)}`);
      expect(mail.text).toContain(t.dlqName);
      // The readable text AWS e-mails for an alarm, not its JSON.
      expect(mail.text).toMatch(
        /^You are receiving this email because your Amazon CloudWatch Alarm "factory-dlq-not-empty" in the EU \(Ireland\) region has entered the ALARM state, because "Threshold Crossed: /,
      );
      expect(mail.text).toContain("- State Change:               INSUFFICIENT_DATA -> ALARM");
      expect(mail.text).not.toContain("NewStateValue");
      expect(mail.from).toContain("no-reply@sns.amazonaws.com");
    }
    expect(logLines).toHaveLength(2);

    // Delivered notifications are deleted from the internal queues.
    for (const q of bridge.queues) expect(await depth(q.queueUrl)).toBe(0);

    // stop() must cut the 20 s long poll short.
    const began = Date.now();
    await bridge.stop();
    expect(Date.now() - began).toBeLessThan(1_000);
  });
});

describe("startEmailSubscriptions", () => {
  it("leaves the notification queued while SMTP is down and delivers it once SMTP is back", async () => {
    const t = await topology();
    const dir = await mailbox();
    // Reserve a port, then take the server down: connections are refused.
    const first = await startSmtpSink({ dir });
    const port = first.port;
    await first.close();

    const failures: string[] = [];
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}` });
    cleanups.push(() => mailer.close());
    const bridge = await startEmailSubscriptions({
      sns: emu.sns,
      sqs: emu.sqs,
      topicArn: t.alertsTopicArn,
      emails: ["ops@donut.test"],
      mailer,
      pollWaitSeconds: 1,
      retryAfterSeconds: 1,
      log: (l) => failures.push(l),
    });
    cleanups.push(() => bridge.stop());
    const [{ queueUrl }] = bridge.queues;

    await emu.sns.send(new PublishCommand({ TopicArn: t.alertsTopicArn, Message: "plain text body" }));
    await waitFor("a failed delivery", () => failures.some((l) => l.includes("failed, will retry")));
    expect(await depth(queueUrl)).toBe(1); // not deleted
    expect(await readMailbox(dir)).toHaveLength(0);

    const sink = await startSmtpSink({ dir, port });
    cleanups.push(() => sink.close());
    const [mail] = await waitFor("redelivered mail", async () => {
      const box = await readMailbox(dir);
      return box.length ? box : undefined;
    });
    expect(mail.subject).toBe(DEFAULT_SUBJECT);
    expect(mail.text).toContain("plain text body");
    await waitFor("queue drained", async () => (await depth(queueUrl)) === 0);
    expect(await readMailbox(dir)).toHaveLength(1);
  });
});

describe("failing SQS calls", () => {
  it("keeps the bridge running when the delete of a mailed notification fails, and mails on once SQS is back", async () => {
    const unhandled = unhandledRejections();
    const t = await topology();
    const { proxy, ...throughProxy } = await clientsBehindProxy(emu.endpoint, REGION);
    cleanups.push(() => throughProxy.close());
    // SQS goes away once the first mail is saved, before the bridge can delete its notification.
    let outageBegun = false;
    const { dir, mailer } = await mailService(() => {
      if (!outageBegun) proxy.setAvailable(false);
      outageBegun = true;
    });
    const lines: string[] = [];
    const bridge = await startEmailSubscriptions({
      ...throughProxy,
      topicArn: t.alertsTopicArn,
      emails: ["ops@donut.test"],
      mailer,
      pollWaitSeconds: 1,
      retryAfterSeconds: 1,
      log: (line) => lines.push(line),
    });
    cleanups.push(() => bridge.stop());

    await emu.sns.send(new PublishCommand({ TopicArn: t.alertsTopicArn, Subject: "before the outage", Message: "one" }));
    await waitFor("the failed delete, logged", () => lines.some((line) => line.includes("could not delete")), 10_000);
    await waitFor("a failed receive, logged", () => lines.some((line) => line.includes("receive for ops@donut.test failed")), 10_000);

    proxy.setAvailable(true);
    await emu.sns.send(new PublishCommand({ TopicArn: t.alertsTopicArn, Subject: "after the outage", Message: "two" }));
    await waitFor(
      "the mail sent after the outage",
      async () => (await readMailbox(dir)).some((mail) => mail.subject === "after the outage"),
      15_000,
    );
    // The notification whose delete failed is mailed again (SNS e-mail is at-least-once too).
    expect((await readMailbox(dir)).filter((mail) => mail.subject === "before the outage").length).toBeGreaterThanOrEqual(1);
    expect(unhandled).toEqual([]);
  });

  it("delivers to every address when the addresses outnumber the client's connections, which makes calls time out", {
    timeout: 120_000,
  }, async () => {
    const unhandled = unhandledRejections();
    // The SDK's HTTP handler opens at most 50 connections per client; a call that waits longer than
    // the 1 s connection timeout for one fails with a TimeoutError.
    const shared = createLocalClients(emu.endpoint, REGION);
    cleanups.push(
      () => shared.sqs.destroy(),
      () => shared.sns.destroy(),
    );
    const t = await topology();
    const { dir, mailer } = await mailService();
    const emails = Array.from({ length: 80 }, (_, index) => `customer-${index}@shop.test`);
    const lines: string[] = [];
    const bridge = await startEmailSubscriptions({
      ...shared,
      topicArn: t.alertsTopicArn,
      emails,
      mailer,
      pollWaitSeconds: 5,
      retryAfterSeconds: 5,
      log: (line) => lines.push(line),
    });
    cleanups.push(() => bridge.stop());
    // 50 long polls hold the connections for 5 s; the other 30 give up after 1 s.
    await waitFor(
      "receives timed out waiting for a connection",
      () => lines.some((line) => line.includes("did not establish a connection")),
      20_000,
    );
    await emu.sns.send(new PublishCommand({ TopicArn: t.alertsTopicArn, Subject: "crowded", Message: "for everyone" }));
    await waitFor(
      "a mail to every address",
      async () => new Set((await readMailbox(dir)).flatMap((mail) => mail.to)).size === emails.length,
      90_000,
    );
    expect(unhandled).toEqual([]);
  });
});
