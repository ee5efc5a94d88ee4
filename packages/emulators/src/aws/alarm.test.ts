import { setTimeout as sleep } from "node:timers/promises";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EventEnvelope, startEventBridge } from "../eventbridge/emulator";
import {
  clientsBehindProxy,
  drain,
  recordUnhandledRejections,
  TEST_DLQ_ALARM,
  testQueue,
  testTopic,
  uniqueName,
  waitFor,
} from "../testing/aws";
import { type DlqAlarm, startDlqAlarm } from "./alarm";
import { regionName } from "./alarm-email";
import { createLocalClients, type SqsSnsEmulator, startSqsSns } from "./emulator";
import { ensureQueue } from "./queues";

const REGION = "eu-west-1";
const dlqAlarm = TEST_DLQ_ALARM;
/** A rule following the alarm up: CloudWatch's state change event, ALARM only. */
const dlqAlarmFollowUp = {
  name: "dlq-alarm-follow-up",
  pattern: (alarmName: string) => ({
    source: ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    detail: { alarmName: [alarmName], state: { value: ["ALARM"] } },
  }),
};
let emu: SqsSnsEmulator;
const alarms: DlqAlarm[] = [];

beforeAll(async () => {
  emu = await startSqsSns({ region: REGION });
});
afterEach(async () => {
  await Promise.all(alarms.splice(0).map((a) => a.stop()));
});
afterAll(async () => {
  await emu?.close();
});

/** A fresh topology plus an SQS queue on the alerts topic that records every notification. */
interface Watched {
  dlqUrl: string;
  dlqName: string;
  alertsTopicArn: string;
}

async function setup(): Promise<{ t: Watched; watchUrl: string }> {
  const dlq = await testQueue(emu.sqs, "dlq");
  const t = { dlqUrl: dlq.url, dlqName: dlq.name, alertsTopicArn: await testTopic(emu.sns, "alerts") };
  const watchUrl = await ensureQueue(emu.sqs, uniqueName("watch"), {});
  const { Attributes } = await emu.sqs.send(new GetQueueAttributesCommand({ QueueUrl: watchUrl, AttributeNames: ["QueueArn"] }));
  await emu.sns.send(new SubscribeCommand({ TopicArn: t.alertsTopicArn, Protocol: "sqs", Endpoint: Attributes?.QueueArn }));
  return { t, watchUrl };
}

function start(
  t: Watched,
  extra: Partial<Pick<Parameters<typeof startDlqAlarm>[0], "intervalMs" | "onStateChange" | "sqs" | "sns" | "log">> = {},
): DlqAlarm {
  const alarm = startDlqAlarm({
    sqs: emu.sqs,
    sns: emu.sns,
    queueUrl: t.dlqUrl,
    queueName: t.dlqName,
    topicArn: t.alertsTopicArn,
    alarm: dlqAlarm,
    intervalMs: 100,
    region: REGION,
    ...extra,
  });
  alarms.push(alarm);
  return alarm;
}

function envelope(m: Message): { Subject: string; Message: string } {
  return JSON.parse(m.Body ?? "");
}

describe("startDlqAlarm", () => {
  it("does not flap to OK while someone peeks at the DLQ (Maximum over a few samples)", async () => {
    const { t, watchUrl } = await setup();
    await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: "dead" }));
    const alarm = start(t);
    await waitFor("ALARM", () => alarm.state === "ALARM");
    // A peek: the message is invisible for a moment (longer than one evaluation), then back.
    const { Messages = [] } = await emu.sqs.send(new ReceiveMessageCommand({ QueueUrl: t.dlqUrl, VisibilityTimeout: 30 }));
    expect(Messages).toHaveLength(1);
    await sleep(150);
    await emu.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: t.dlqUrl, ReceiptHandle: Messages[0].ReceiptHandle!, VisibilityTimeout: 0 }),
    );
    await sleep(500);
    expect(alarm.state).toBe("ALARM");
    const notifications = (await drain(emu.sqs, watchUrl)).map((m) => envelope(m).Subject);
    expect(notifications).toEqual([`ALARM: "${dlqAlarm.name}" in ${regionName(REGION)}`]);
  });

  it("goes OK -> ALARM once when the DLQ gets a message, and ALARM -> OK when it is purged", async () => {
    const { t, watchUrl } = await setup();
    const alarm = start(t);
    expect(alarm.state).toBe("INSUFFICIENT_DATA");
    await waitFor("initial OK", () => alarm.state === "OK");
    await sleep(300); // several intervals
    expect(await drain(emu.sqs, watchUrl)).toHaveLength(0); // INSUFFICIENT_DATA -> OK is silent

    await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: "dead" }));
    await waitFor("ALARM", () => alarm.state === "ALARM");
    await sleep(500); // ~5 more evaluations still in ALARM
    const alarmed = await drain(emu.sqs, watchUrl);
    expect(alarmed).toHaveLength(1);
    const n = envelope(alarmed[0]);
    expect(n.Subject).toBe(`ALARM: "${dlqAlarm.name}" in ${regionName(REGION)}`);
    const body = JSON.parse(n.Message);
    expect(body).toMatchObject({
      AlarmName: dlqAlarm.name,
      AWSAccountId: "000000000000",
      NewStateValue: "ALARM",
      OldStateValue: "OK",
      Region: REGION,
      Trigger: {
        MetricName: "ApproximateNumberOfMessagesVisible",
        Namespace: "AWS/SQS",
        Statistic: "Maximum",
        Dimensions: [{ name: "QueueName", value: t.dlqName }],
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Period: 60,
        EvaluationPeriods: 1,
      },
    });
    expect(body.AlarmDescription).toContain(t.dlqName);
    expect(body.NewStateReason).toMatch(
      /^Threshold Crossed: 1 datapoint \[1\.0 \(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d\)\] was greater than or equal to the threshold \(1\.0\)\.$/,
    );
    expect(body.StateChangeTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    await emu.sqs.send(new PurgeQueueCommand({ QueueUrl: t.dlqUrl }));
    await waitFor("OK again", () => alarm.state === "OK");
    await sleep(500);
    const cleared = await drain(emu.sqs, watchUrl);
    expect(cleared).toHaveLength(1);
    expect(envelope(cleared[0]).Subject).toBe(`OK: "${dlqAlarm.name}" in ${regionName(REGION)}`);
    const ok = JSON.parse(envelope(cleared[0]).Message);
    expect(ok).toMatchObject({ NewStateValue: "OK", OldStateValue: "ALARM" });
    expect(ok.NewStateReason).toMatch(/\[0\.0 .*\] was not greater than or equal to the threshold \(1\.0\)\.$/);
  });

  it("sends every state change to the default bus as CloudWatch's event; the follow-up rule takes only the ALARM one", async () => {
    const { t } = await setup();
    const followedUp: EventEnvelope[] = [];
    const bus = await startEventBridge({
      region: REGION,
      accountId: "000000000000",
      rules: [
        {
          name: dlqAlarmFollowUp.name,
          pattern: dlqAlarmFollowUp.pattern(dlqAlarm.name),
          targets: [{ id: "follow-up", deliver: async (event) => void followedUp.push(event) }],
        },
      ],
    });
    try {
      const alarm = start(t, { intervalMs: 60_000, onStateChange: (event) => bus.putServiceEvent(event) });
      expect(await alarm.evaluateNow()).toBe("OK");
      await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: "dead" }));
      expect(await alarm.evaluateNow()).toBe("ALARM");
      await bus.idle();
      expect(
        bus.published.map(
          (event) =>
            `${event.detail.previousState && (event.detail.previousState as { value: string }).value} -> ${(event.detail.state as { value: string }).value}`,
        ),
      ).toEqual(["INSUFFICIENT_DATA -> OK", "OK -> ALARM"]);
      expect(followedUp).toHaveLength(1);
      expect(followedUp[0]).toMatchObject({
        version: "0",
        source: "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        account: "000000000000",
        region: REGION,
        resources: [`arn:aws:cloudwatch:${REGION}:000000000000:alarm:${dlqAlarm.name}`],
        detail: {
          alarmName: dlqAlarm.name,
          state: {
            value: "ALARM",
            reason: expect.stringMatching(/^Threshold Crossed: 1 datapoint \[1\.0 /),
            timestamp: expect.stringMatching(/\+0000$/),
          },
          previousState: { value: "OK" },
          configuration: {
            metrics: [
              {
                metricStat: {
                  metric: { namespace: "AWS/SQS", name: dlqAlarm.metricName, dimensions: { QueueName: t.dlqName } },
                  stat: "Maximum",
                },
              },
            ],
          },
        },
      });
    } finally {
      await bus.close();
    }
  });

  it("notifies INSUFFICIENT_DATA -> ALARM when the DLQ is already non-empty at start", async () => {
    const { t, watchUrl } = await setup();
    await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: "dead" }));
    const alarm = start(t, { intervalMs: 60_000 });
    expect(await alarm.evaluateNow()).toBe("ALARM");
    expect(await alarm.evaluateNow()).toBe("ALARM");
    const msgs = await waitFor("notification", async () => {
      const m = await drain(emu.sqs, watchUrl);
      return m.length ? m : undefined;
    });
    expect(msgs).toHaveLength(1);
    expect(JSON.parse(envelope(msgs[0]).Message)).toMatchObject({ OldStateValue: "INSUFFICIENT_DATA", NewStateValue: "ALARM" });
  });

  it("never runs two evaluations at once", async () => {
    const { t } = await setup();
    let inFlight = 0;
    let maxInFlight = 0;
    // A separate real client, so the probe middleware does not leak into other tests.
    const probe = createLocalClients(emu.endpoint, REGION);
    const alarm = startDlqAlarm({
      sqs: probe.sqs,
      sns: emu.sns,
      queueUrl: t.dlqUrl,
      queueName: t.dlqName,
      topicArn: t.alertsTopicArn,
      alarm: dlqAlarm,
      intervalMs: 5,
      region: REGION,
    });
    alarms.push(alarm);
    probe.sqs.middlewareStack.add(
      (next) => async (args) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await sleep(20); // widen the window in which an overlap would show
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: "finalizeRequest", name: "overlapProbe" },
    );
    const results = await Promise.all(Array.from({ length: 8 }, () => alarm.evaluateNow()));
    await sleep(100); // timer-driven evaluations interleave with the explicit ones
    expect(results.every((r) => r === "OK")).toBe(true);
    expect(maxInFlight).toBe(1);
    probe.sqs.destroy();
    probe.sns.destroy();
  });

  it("keeps evaluating through an SQS outage, and alarms once it can read the DLQ again", async () => {
    const unhandled = recordUnhandledRejections();
    const { t, watchUrl } = await setup();
    const { proxy, sqs, sns, close } = await clientsBehindProxy(emu.endpoint, REGION);
    const lines: string[] = [];
    const alarm = start(t, { sqs, sns, log: (line) => lines.push(line) });
    try {
      await waitFor("initial OK", () => alarm.state === "OK");
      proxy.setAvailable(false);
      await emu.sqs.send(new SendMessageCommand({ QueueUrl: t.dlqUrl, MessageBody: "dead" }));
      await waitFor("a failed evaluation, logged", () => lines.some((line) => /evaluation failed, retrying/.test(line)), 10_000);
      expect(alarm.state).toBe("OK");
      proxy.setAvailable(true);
      await waitFor("ALARM", () => alarm.state === "ALARM", 15_000);
      const [notification] = await waitFor("the ALARM notification", async () => {
        const received = await drain(emu.sqs, watchUrl);
        return received.length ? received : undefined;
      });
      expect(envelope(notification).Subject).toBe(`ALARM: "${dlqAlarm.name}" in ${regionName(REGION)}`);
      expect(unhandled.rejections).toEqual([]);
    } finally {
      await alarm.stop();
      await close();
      unhandled.stop();
    }
  });
});
