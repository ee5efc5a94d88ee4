/**
 * Offline stand-in for the CloudWatch alarm on DLQ depth. fauxqs has no
 * CloudWatch, so we poll the metric's SQS source and, on a state change,
 * publish to SNS the same JSON CloudWatch would - so everything downstream of
 * the topic (e-mail bridge, dashboard, tests) sees AWS-shaped alarms.
 *
 * Simplification: every poll is one datapoint (CloudWatch would aggregate
 * `Maximum` over `periodSeconds`); ALARM needs the last `evaluationPeriods`
 * datapoints to breach (DatapointsToAlarm = EvaluationPeriods).
 */

import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from "@aws-sdk/client-sqs";
import { createRetry } from "../retry";
import { regionName } from "./alarm-email";
import { FAUXQS_ACCOUNT_ID } from "./emulator";

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export type ComparisonOperator =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";

/** A CloudWatch alarm on one SQS metric of one queue, as a stack defines it. */
export interface AlarmDefinition {
  readonly name: string;
  readonly metricName: string;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
}

export interface DlqAlarmOptions {
  sqs: SQSClient;
  sns: SNSClient;
  queueUrl: string;
  queueName: string;
  topicArn: string;
  alarm: AlarmDefinition;
  /** Poll interval (default 1000 ms). Not periodSeconds: offline we want fast feedback. */
  intervalMs?: number;
  region: string;
  accountId?: string;
  /** Samples whose maximum makes one datapoint (default 3): the Maximum statistic over a period. */
  samplesPerDatapoint?: number;
  /** The alarm's description (AlarmDescription); defaults to a sentence naming the queue. */
  description?: string;
  /**
   * Every state change, as the event CloudWatch sends to the default event bus (detail-type
   * "CloudWatch Alarm State Change"), e.g. for the EventBridge emulator's putServiceEvent.
   */
  onStateChange?: (event: AlarmStateChangeEvent) => void;
  log?: (line: string) => void;
}

export interface DlqAlarm {
  readonly state: AlarmState;
  /** Runs one evaluation now (queued behind a running one, never concurrent). */
  evaluateNow(): Promise<"OK" | "ALARM">;
  /** Stops polling and waits for a running evaluation to finish. */
  stop(): Promise<void>;
}

interface AlarmStateRecord {
  value: AlarmState;
  reason: string;
  reasonData?: string;
  /** CloudWatch's format, e.g. "2026-11-27T05:30:00.123+0000". */
  timestamp: string;
}

/** What CloudWatch puts on the default bus when an alarm changes state (source aws.cloudwatch). */
export interface AlarmStateChangeEvent {
  source: "aws.cloudwatch";
  detailType: "CloudWatch Alarm State Change";
  resources: string[];
  time: Date;
  detail: {
    alarmName: string;
    state: AlarmStateRecord;
    previousState: AlarmStateRecord;
    configuration: {
      description: string;
      metrics: Array<{
        id: string;
        metricStat: { metric: { namespace: string; name: string; dimensions: Record<string, string> }; period: number; stat: string };
        returnData: boolean;
      }>;
    };
  };
}

interface Datapoint {
  value: number;
  at: Date;
}

const PHRASE: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: "greater than or equal to",
  GreaterThanThreshold: "greater than",
  LessThanThreshold: "less than",
  LessThanOrEqualToThreshold: "less than or equal to",
};

/**
 * SQS exposes the CloudWatch metric ApproximateNumberOfMessagesVisible as the
 * queue attribute ApproximateNumberOfMessages (same for NotVisible/Delayed).
 */
const METRIC_TO_ATTRIBUTE: Record<string, QueueAttributeName> = {
  ApproximateNumberOfMessagesVisible: "ApproximateNumberOfMessages",
  ApproximateNumberOfMessagesNotVisible: "ApproximateNumberOfMessagesNotVisible",
  ApproximateNumberOfMessagesDelayed: "ApproximateNumberOfMessagesDelayed",
};

export function startDlqAlarm(options: DlqAlarmOptions): DlqAlarm {
  const { sqs, sns, queueUrl, queueName, topicArn, alarm, intervalMs = 1_000, region, log = () => {} } = options;
  const accountId = options.accountId ?? FAUXQS_ACCOUNT_ID;
  const attribute = METRIC_TO_ATTRIBUTE[alarm.metricName];
  if (!attribute) throw new Error(`Unsupported SQS metric ${alarm.metricName}`);
  const description = options.description ?? `Messages in dead-letter queue ${queueName}.`;
  const configuredAt = new Date();

  let state: AlarmState = "INSUFFICIENT_DATA";
  const alarmArn = `arn:aws:cloudwatch:${region}:${accountId}:alarm:${alarm.name}`;
  let stateRecord: AlarmStateRecord = {
    value: state,
    reason: "Unchecked: Initial alarm creation",
    timestamp: cloudWatchTime(configuredAt),
  };
  let datapoints: Datapoint[] = []; // newest first, as CloudWatch lists them
  // The alarm's statistic is Maximum over a period: one datapoint is the maximum of the last few
  // samples, so a message hidden for a moment (someone peeking at the DLQ) does not flap the alarm.
  const samplesPerDatapoint = options.samplesPerDatapoint ?? 3;
  let samples: number[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function evaluateOnce(): Promise<"OK" | "ALARM"> {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [attribute] }));
    const sample = Number(Attributes?.[attribute] ?? NaN);
    if (!Number.isFinite(sample)) throw new Error(`No ${attribute} for ${queueUrl}`);
    samples = [sample, ...samples].slice(0, samplesPerDatapoint);
    const value = Math.max(...samples);
    datapoints = [{ value, at: new Date() }, ...datapoints].slice(0, alarm.evaluationPeriods);
    const breaching = datapoints.every((d) => breaches(alarm, d.value));
    const next = breaching ? "ALARM" : "OK";
    if (next !== state) {
      const old = state;
      state = next;
      log(`alarm ${alarm.name}: ${old} -> ${next} (${alarm.metricName}=${value})`);
      announce(next);
      // CloudWatch only runs actions for the configured transitions: the first
      // evaluation INSUFFICIENT_DATA -> OK is silent, INSUFFICIENT_DATA -> ALARM is not.
      if (!(old === "INSUFFICIENT_DATA" && next === "OK")) {
        await notify(old, next).catch((err: Error) =>
          // Like a failed CloudWatch action: logged, state kept, not retried.
          log(`alarm ${alarm.name}: publish to ${topicArn} failed: ${err.message}`),
        );
      }
    }
    return next;
  }

  /** The state change event, for every transition (alarm actions run only for some, events go for all). */
  function announce(next: AlarmState): void {
    const previousState = stateRecord;
    const reason = stateReason(alarm, datapoints, next === "ALARM");
    stateRecord = {
      value: next,
      reason,
      reasonData: JSON.stringify({
        version: "1.0",
        queryDate: cloudWatchTime(new Date()),
        statistic: "Maximum",
        period: alarm.periodSeconds,
        recentDatapoints: datapoints.map((d) => d.value),
        threshold: alarm.threshold,
      }),
      timestamp: cloudWatchTime(new Date()),
    };
    if (!options.onStateChange) return;
    try {
      options.onStateChange({
        source: "aws.cloudwatch",
        detailType: "CloudWatch Alarm State Change",
        resources: [alarmArn],
        time: new Date(),
        detail: {
          alarmName: alarm.name,
          state: stateRecord,
          previousState,
          configuration: {
            description,
            metrics: [
              {
                id: "m1",
                metricStat: {
                  metric: { namespace: "AWS/SQS", name: alarm.metricName, dimensions: { QueueName: queueName } },
                  period: alarm.periodSeconds,
                  stat: "Maximum",
                },
                returnData: true,
              },
            ],
          },
        },
      });
    } catch (error) {
      log(`alarm ${alarm.name}: state change event not sent: ${(error as Error).message}`);
    }
  }

  async function notify(old: AlarmState, next: AlarmState): Promise<void> {
    const message = {
      AlarmName: alarm.name,
      AlarmDescription: description,
      AWSAccountId: accountId,
      AlarmConfigurationUpdatedTimestamp: cloudWatchTime(configuredAt),
      NewStateValue: next,
      NewStateReason: stateRecord.reason,
      StateChangeTime: stateRecord.timestamp,
      Region: region,
      AlarmArn: alarmArn,
      OldStateValue: old,
      OKActions: [topicArn],
      AlarmActions: [topicArn],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: alarm.metricName,
        Namespace: "AWS/SQS",
        StatisticType: "Statistic",
        Statistic: "Maximum",
        Unit: null,
        Dimensions: [{ name: "QueueName", value: queueName }],
        Period: alarm.periodSeconds,
        EvaluationPeriods: alarm.evaluationPeriods,
        ComparisonOperator: alarm.comparison,
        Threshold: alarm.threshold,
        TreatMissingData: "missing",
        EvaluateLowSampleCountPercentile: "",
      },
    };
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: `${next}: "${alarm.name}" in ${regionName(region)}`,
        Message: JSON.stringify(message),
      }),
    );
  }

  function evaluateNow(): Promise<"OK" | "ALARM"> {
    const run = queue.then(evaluateOnce);
    queue = run.catch(() => {});
    return run;
  }

  // setTimeout after each evaluation (not setInterval) so a slow evaluation
  // delays the next one instead of piling up behind it; failures in a row space them out.
  const retry = createRetry(`alarm ${alarm.name}: evaluation`, log);
  function schedule(delayMs = intervalMs): void {
    if (stopped) return;
    timer = setTimeout(() => {
      evaluateNow().then(
        () => {
          retry.succeeded();
          schedule();
        },
        (error: unknown) => schedule(Math.max(intervalMs, retry.failed(error))),
      );
    }, delayMs);
    timer.unref();
  }
  schedule();

  return {
    get state() {
      return state;
    },
    evaluateNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await queue;
    },
  };
}

function breaches(alarm: AlarmDefinition, value: number): boolean {
  switch (alarm.comparison) {
    case "GreaterThanOrEqualToThreshold":
      return value >= alarm.threshold;
    case "GreaterThanThreshold":
      return value > alarm.threshold;
    case "LessThanThreshold":
      return value < alarm.threshold;
    case "LessThanOrEqualToThreshold":
      return value <= alarm.threshold;
  }
}

/** CloudWatch prints doubles Java-style: 3 -> "3.0". */
function num(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** "27/11/26 05:30:00" (dd/MM/yy HH:mm:ss, UTC), as in CloudWatch state reasons. */
function reasonTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** "2026-11-27T05:30:00.123+0000", CloudWatch's StateChangeTime format. */
function cloudWatchTime(d: Date): string {
  return d.toISOString().replace("Z", "+0000");
}

/** e.g. "Threshold Crossed: 1 datapoint [3.0 (27/11/26 05:30:00)] was greater than or equal to the threshold (1.0)." */
export function stateReason(alarm: AlarmDefinition, points: Array<{ value: number; at: Date }>, breaching: boolean): string {
  const n = points.length;
  const list = points.map((d) => `${num(d.value)} (${reasonTime(d.at)})`).join(", ");
  const verb = n === 1 ? "was" : "were";
  const not = breaching ? "" : "not ";
  return `Threshold Crossed: ${n} datapoint${n === 1 ? "" : "s"} [${list}] ${verb} ${not}${PHRASE[alarm.comparison]} the threshold (${num(alarm.threshold)}).`;
}
