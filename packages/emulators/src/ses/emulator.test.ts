import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DeleteSuppressedDestinationCommand,
  GetAccountCommand,
  GetSuppressedDestinationCommand,
  PutSuppressedDestinationCommand,
  SESv2Client,
  SendEmailCommand,
  type SendEmailCommandInput,
} from "@aws-sdk/client-sesv2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../aws/emulator";
import { readMailbox, type SmtpSink, startSmtpSink } from "../mail/smtp-sink";
import { type SesEmulator, type StartSesOptions, startSes } from "./emulator";
import type { SesEvent } from "./events";

/**
 * The SES v2 stand-in through the real SESv2Client, delivering into a real SMTP sink: what the
 * mailer sends, what it is told, and what lands in the mailbox.
 */
const REGION = "ap-northeast-2";
const FROM = "Donut States <shop@donut.test>";
const cleanups: Array<() => Promise<unknown> | unknown> = [];
let dir: string;
/** Every mail's envelope recipients, as the sink logs them, in arrival order. */
let envelopes: string[][];
let sink: SmtpSink;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ses-"));
  envelopes = [];
  sink = await startSmtpSink({ dir, log: (line) => envelopes.push(/ to=(\S*)/.exec(line)![1].split(",")) });
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A stand-in of the test's own (its quota, faults and lists), delivering to the shared sink. */
async function stand(options: Partial<StartSesOptions> = {}): Promise<{ ses: SesEmulator; client: SESv2Client; events: SesEvent[] }> {
  const events: SesEvent[] = [];
  const ses = await startSes({ region: REGION, smtpUrl: sink.url, maxSendRate: 1_000, onEvent: (event) => events.push(event), ...options });
  // One attempt: the test sees each answer the stand-in gives.
  const client = new SESv2Client({ endpoint: ses.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  cleanups.push(
    () => ses.close(),
    () => client.destroy(),
  );
  return { ses, client, events };
}

const simple = (to: string[], subject: string, extra: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
  FromEmailAddress: FROM,
  Destination: { ToAddresses: to },
  Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: `${subject}: the text` } } } },
  ...extra,
});

const mailsWithSubject = async (subject: string) => (await readMailbox(dir)).filter((mail) => mail.subject === subject);

/** The error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await call;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error("the call succeeded");
}

describe("SendEmail", () => {
  it("delivers a Simple mail as one .eml before answering, with SES's Message-ID and each custom header as given", async () => {
    const { ses, client } = await stand();
    const unsubscribe = `<http://127.0.0.1:3000/subscriptions/unsubscribe?token=${"a".repeat(120)}.${"b".repeat(43)}>`;
    const { MessageId } = await client.send(
      new SendEmailCommand({
        FromEmailAddress: FROM,
        Destination: { ToAddresses: ["Kim <kim@shop.test>"] },
        ReplyToAddresses: ["help@donut.test"],
        Content: {
          Simple: {
            Subject: { Data: "보스턴 크림이 다시 들어왔어요" },
            Body: { Text: { Data: "Boston cream is back." }, Html: { Data: "<p>Boston cream is back.</p>" } },
            Headers: [
              { Name: "List-Unsubscribe", Value: unsubscribe },
              { Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click" },
            ],
          },
        },
      }),
    );
    // Answered only once the SMTP server stored the mail.
    const [mail] = await mailsWithSubject("보스턴 크림이 다시 들어왔어요");
    expect(mail).toMatchObject({ to: ["kim@shop.test"], from: '"Donut States" <shop@donut.test>', text: "Boston cream is back." });
    // The header block, each field unfolded onto one line.
    const raw = await readFile(mail.file, "utf8");
    const fields = raw
      .slice(0, raw.indexOf("\r\n\r\n"))
      .replace(/\r\n[ \t]+/g, " ")
      .split("\r\n");
    expect(fields).toContain(`List-Unsubscribe: ${unsubscribe}`);
    expect(fields).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    expect(fields).toContain(`Message-ID: <${MessageId}@${REGION}.amazonses.com>`);
    expect(fields).toContain("Reply-To: help@donut.test");
    // Written as given: the long link is not folded.
    expect(raw).toContain(`List-Unsubscribe: ${unsubscribe}\r\n`);
    expect(raw).toContain("<p>Boston cream is back.</p>");
    expect(ses.stats).toMatchObject({ calls: { SendEmail: 1 }, accepted: 1, delivered: 1 });
  });

  it("mails every recipient once and names no Bcc recipient in the headers", async () => {
    const { ses, client } = await stand();
    await client.send(
      new SendEmailCommand(
        simple(["a@shop.test"], "copies", {
          Destination: { ToAddresses: ["a@shop.test"], CcAddresses: ["b@shop.test"], BccAddresses: ["c@shop.test", "A@shop.test"] },
        }),
      ),
    );
    const [mail] = await mailsWithSubject("copies");
    expect(envelopes.at(-1)!.sort()).toEqual(["a@shop.test", "b@shop.test", "c@shop.test"]);
    const raw = await readFile(mail.file, "utf8");
    expect(raw).toContain("\r\nCc: b@shop.test\r\n");
    expect(raw).not.toContain("c@shop.test");
    expect(ses.stats.delivered).toBe(3);
  });

  it("relays Raw content as sent, headers included, to the recipients the message names", async () => {
    const { client } = await stand();
    const message = [
      "From: Donut States <shop@donut.test>",
      "To: lee@shop.test",
      "Subject: raw notice",
      "List-Unsubscribe: <http://127.0.0.1:3000/subscriptions/unsubscribe?token=t>",
      "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Back in stock.",
      "",
    ].join("\r\n");
    await client.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(message) } } }));
    const [mail] = await mailsWithSubject("raw notice");
    expect(await readFile(mail.file, "utf8")).toBe(message);
    expect(envelopes.at(-1)).toEqual(["lee@shop.test"]);
  });

  it("is reached through AWS_ENDPOINT_URL_SESV2 by a client given no endpoint", async () => {
    const { ses } = await stand({ maxSendRate: 7, max24HourSend: 500 });
    const before = process.env.AWS_ENDPOINT_URL_SESV2;
    process.env.AWS_ENDPOINT_URL_SESV2 = ses.endpoint;
    try {
      const client = new SESv2Client({ region: REGION, credentials: LOCAL_CREDENTIALS });
      cleanups.push(() => client.destroy());
      const account = await client.send(new GetAccountCommand({}));
      expect(account.SendQuota).toEqual({ MaxSendRate: 7, Max24HourSend: 500, SentLast24Hours: 0 });
      expect(account.SuppressionAttributes?.SuppressedReasons).toEqual(["BOUNCE", "COMPLAINT"]);
      expect(ses.stats.calls).toEqual({ GetAccount: 1 });
    } finally {
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_SESV2;
      else process.env.AWS_ENDPOINT_URL_SESV2 = before;
    }
  });

  it("refuses a malformed request with BadRequestException and sends nothing", async () => {
    const { ses, client } = await stand();
    const many = Array.from({ length: 51 }, (_, index) => `r${index}@shop.test`);
    const bad: Array<[SendEmailCommandInput, RegExp]> = [
      [{ ...simple(["a@shop.test"], "no from"), FromEmailAddress: undefined }, /FromEmailAddress is required/],
      [simple(["not an address"], "bad to"), /Illegal address in ToAddresses/],
      [simple(many, "too many"), /Recipient count exceeds 50/],
      [simple([], "nobody"), /no recipients/],
      [
        simple(["a@shop.test"], "bad header", {
          Content: {
            Simple: {
              Subject: { Data: "x" },
              Body: { Text: { Data: "y" } },
              Headers: [{ Name: "X-Bad", Value: "line\r\nBcc: x@evil.test" }],
            },
          },
        }),
        /Invalid value for header X-Bad/,
      ],
      [
        { FromEmailAddress: FROM, Destination: { ToAddresses: ["a@shop.test"] }, Content: { Template: { TemplateName: "t" } } },
        /not supported/,
      ],
    ];
    for (const [input, message] of bad) {
      const error = await failure(client.send(new SendEmailCommand(input)));
      expect(error.name).toBe("BadRequestException");
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toMatch(message);
    }
    expect(ses.stats).toMatchObject({ calls: { SendEmail: bad.length }, accepted: 0, delivered: 0 });
  });
});

describe("the account-level suppression list", () => {
  it("accepts a send to a suppressed address, mails only the others, and reports a Bounce OnAccountSuppressionList", async () => {
    const { ses, client, events } = await stand();
    await client.send(new PutSuppressedDestinationCommand({ EmailAddress: "Gone@Shop.test", Reason: "BOUNCE" }));
    const { SuppressedDestination } = await client.send(new GetSuppressedDestinationCommand({ EmailAddress: "gone@shop.test" }));
    expect(SuppressedDestination).toMatchObject({ EmailAddress: "Gone@Shop.test", Reason: "BOUNCE" });
    expect(SuppressedDestination?.LastUpdateTime).toBeInstanceOf(Date);

    const { MessageId } = await client.send(
      new SendEmailCommand(simple(["gone@shop.test", "here@shop.test"], "suppressed one", { ConfigurationSetName: "customers" })),
    );
    expect(MessageId).toBeTruthy();
    expect(await mailsWithSubject("suppressed one")).toHaveLength(1);
    expect(envelopes.at(-1)).toEqual(["here@shop.test"]);
    expect(events.map((event) => event.eventType)).toEqual(["Send", "Delivery", "Bounce"]);
    const bounce = events[2];
    expect(bounce.mail).toMatchObject({ messageId: MessageId, destination: ["gone@shop.test", "here@shop.test"] });
    expect(bounce.mail.tags["ses:configuration-set"]).toEqual(["customers"]);
    expect(bounce.bounce).toMatchObject({
      bounceType: "Permanent",
      bounceSubType: "OnAccountSuppressionList",
      bouncedRecipients: [{ emailAddress: "gone@shop.test", action: "failed", status: "5.1.1" }],
    });
    expect(events[1].delivery?.recipients).toEqual(["here@shop.test"]);

    // Only suppressed recipients: accepted all the same, nothing mailed.
    await client.send(new SendEmailCommand(simple(["gone@shop.test"], "nobody mailed")));
    expect(await mailsWithSubject("nobody mailed")).toHaveLength(0);
    expect(ses.stats).toMatchObject({ accepted: 2, delivered: 1, suppressed: 2 });

    await client.send(new DeleteSuppressedDestinationCommand({ EmailAddress: "gone@shop.test" }));
    const missing = await failure(client.send(new GetSuppressedDestinationCommand({ EmailAddress: "gone@shop.test" })));
    expect(missing.name).toBe("NotFoundException");
    await client.send(new SendEmailCommand(simple(["gone@shop.test"], "mailed again")));
    expect(await mailsWithSubject("mailed again")).toHaveLength(1);
  });

  it("is kept by suppress() and unsuppress() too", async () => {
    const { ses, client } = await stand();
    ses.suppress("quiet@shop.test", "COMPLAINT");
    const { SuppressedDestination } = await client.send(new GetSuppressedDestinationCommand({ EmailAddress: "quiet@shop.test" }));
    expect(SuppressedDestination?.Reason).toBe("COMPLAINT");
    ses.unsuppress("quiet@shop.test");
    expect((await failure(client.send(new GetSuppressedDestinationCommand({ EmailAddress: "quiet@shop.test" })))).name).toBe(
      "NotFoundException",
    );
  });
});

describe("refusals", () => {
  it("answers MessageRejected for a rejected address and for a From outside the verified identities", async () => {
    const { ses, client, events } = await stand({ identities: ["donut.test", "ops@elsewhere.test"] });
    ses.rejectAddress("bad@shop.test", "Address blacklisted.");
    const rejected = await failure(client.send(new SendEmailCommand(simple(["ok@shop.test", "bad@shop.test"], "rejected"))));
    expect(rejected.name).toBe("MessageRejected");
    expect(rejected.$metadata.httpStatusCode).toBe(400);
    expect(rejected.message).toBe("Address blacklisted.");

    const unverified = await failure(
      client.send(new SendEmailCommand({ ...simple(["ok@shop.test"], "unverified"), FromEmailAddress: "x@elsewhere.test" })),
    );
    expect(unverified.name).toBe("MessageRejected");
    expect(unverified.message).toMatch(/^Email address is not verified\. .*: x@elsewhere\.test$/);
    await client.send(new SendEmailCommand({ ...simple(["ok@shop.test"], "verified address"), FromEmailAddress: "ops@elsewhere.test" }));

    ses.acceptAddress("bad@shop.test");
    await client.send(new SendEmailCommand(simple(["bad@shop.test"], "accepted again")));
    expect((await readMailbox(dir)).filter((mail) => ["rejected", "unverified"].includes(mail.subject))).toEqual([]);
    expect(await mailsWithSubject("accepted again")).toHaveLength(1);
    expect(ses.stats).toMatchObject({ calls: { SendEmail: 4 }, rejected: 2, accepted: 2 });
    expect(events.filter((event) => event.eventType === "Send")).toHaveLength(2);
  });

  it("throttles recipients beyond MaxSendRate with TooManyRequestsException, a message to many taking its recipients' worth", async () => {
    // One recipient every ten seconds: nothing refills while the test runs.
    const { ses, client } = await stand({ maxSendRate: 0.1 });
    await client.send(new SendEmailCommand(simple(["one@shop.test", "two@shop.test", "three@shop.test"], "rate: first")));
    const throttled = await failure(client.send(new SendEmailCommand(simple(["four@shop.test"], "rate: second"))));
    expect(throttled.name).toBe("TooManyRequestsException");
    expect(throttled.$metadata.httpStatusCode).toBe(429);
    expect(throttled.message).toBe("Maximum sending rate exceeded.");
    ses.setMaxSendRate(1_000_000);
    await client.send(new SendEmailCommand(simple(["four@shop.test"], "rate: third")));
    expect(ses.stats).toMatchObject({ calls: { SendEmail: 3 }, accepted: 2, throttled: 1 });
    expect(await mailsWithSubject("rate: second")).toHaveLength(0);
  });

  it("throttles beyond Max24HourSend", async () => {
    const { client } = await stand({ max24HourSend: 2 });
    await client.send(new SendEmailCommand(simple(["a@shop.test", "b@shop.test"], "quota: full")));
    const throttled = await failure(client.send(new SendEmailCommand(simple(["c@shop.test"], "quota: over"))));
    expect(throttled.name).toBe("TooManyRequestsException");
    expect(throttled.message).toBe("Daily message quota exceeded.");
    expect((await client.send(new GetAccountCommand({}))).SendQuota?.SentLast24Hours).toBe(2);
  });
});

describe("fault injection", () => {
  it("gives the next calls the fault asked for, counting every call the SDK makes", async () => {
    const { ses, client } = await stand();
    ses.failNext(2, "InternalFailure");
    for (const _ of [1, 2]) {
      const error = await failure(client.send(new SendEmailCommand(simple(["a@shop.test"], "fault: failed"))));
      expect(error.name).toBe("InternalFailure");
      expect(error.$metadata.httpStatusCode).toBe(500);
    }
    await client.send(new SendEmailCommand(simple(["a@shop.test"], "fault: over")));

    ses.failNext(1, "MessageRejected");
    expect((await failure(client.send(new SendEmailCommand(simple(["a@shop.test"], "fault: rejected"))))).name).toBe("MessageRejected");

    // A transient fault the SDK's own retry gets past: two calls for one send.
    const retrying = new SESv2Client({ endpoint: ses.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
    cleanups.push(() => retrying.destroy());
    ses.resetStats();
    ses.failNext(1, "ServiceUnavailable");
    await retrying.send(new SendEmailCommand(simple(["a@shop.test"], "fault: retried")));
    expect(ses.stats).toMatchObject({ calls: { SendEmail: 2 }, faulted: 1, accepted: 1 });

    // Silent: no answer; the client's timeout ends the call, and clearFaults ends the outage.
    const impatient = new SESv2Client({
      endpoint: ses.endpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    cleanups.push(() => impatient.destroy());
    ses.failNext(Number.POSITIVE_INFINITY, "silent");
    expect((await failure(impatient.send(new SendEmailCommand(simple(["a@shop.test"], "fault: silent"))))).name).toBe("TimeoutError");
    expect((await failure(impatient.send(new SendEmailCommand(simple(["a@shop.test"], "fault: silent"))))).name).toBe("TimeoutError");
    ses.clearFaults();
    await impatient.send(new SendEmailCommand(simple(["a@shop.test"], "fault: answered")));
    expect(await mailsWithSubject("fault: silent")).toHaveLength(0);
    expect(await mailsWithSubject("fault: failed")).toHaveLength(0);
    expect(await mailsWithSubject("fault: answered")).toHaveLength(1);
  });

  it("answers InternalFailure, and counts nothing sent, when the SMTP server refuses the mail", async () => {
    const gone = await startSmtpSink({ dir });
    await gone.close();
    const lines: string[] = [];
    const { ses, client } = await stand({ smtpUrl: gone.url, log: (line) => lines.push(line) });
    const error = await failure(client.send(new SendEmailCommand(simple(["a@shop.test"], "smtp down"))));
    expect(error.name).toBe("InternalFailure");
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(ses.stats.accepted).toBe(0);
    expect(lines.some((line) => line.includes("SMTP refused"))).toBe(true);
  });
});
