/**
 * The text SNS e-mails to an "email" subscriber for a CloudWatch alarm notification. SQS and
 * Lambda subscribers get the alarm JSON; an e-mail endpoint gets this readable form instead,
 * laid out as AWS sends it ("You are receiving this email because your Amazon CloudWatch Alarm
 * …", then the alarm details, threshold, monitored metric and state change actions).
 */

/** The CloudWatch alarm JSON an alarm action publishes to SNS (the fields the e-mail shows). */
export interface CloudWatchAlarmMessage {
  AlarmName: string;
  AlarmDescription?: string | null;
  AWSAccountId: string;
  NewStateValue: string;
  NewStateReason: string;
  StateChangeTime: string;
  Region: string;
  AlarmArn?: string;
  OldStateValue: string;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  Trigger: {
    MetricName: string;
    Namespace: string;
    Statistic?: string | null;
    Unit?: string | null;
    Dimensions?: Array<{ name: string; value: string }>;
    Period: number;
    EvaluationPeriods: number;
    DatapointsToAlarm?: number;
    ComparisonOperator: string;
    Threshold: number;
    TreatMissingData?: string;
  };
}

/** A CloudWatch alarm notification, recognised by the fields every one of them carries. */
export function asAlarmMessage(json: unknown): CloudWatchAlarmMessage | undefined {
  if (!json || typeof json !== "object") return undefined;
  const message = json as Partial<CloudWatchAlarmMessage>;
  const trigger = message.Trigger;
  const isAlarm =
    typeof message.AlarmName === "string" &&
    typeof message.NewStateValue === "string" &&
    typeof message.OldStateValue === "string" &&
    typeof message.StateChangeTime === "string" &&
    typeof trigger === "object" &&
    trigger !== null &&
    typeof trigger.MetricName === "string";
  return isAlarm ? (message as CloudWatchAlarmMessage) : undefined;
}

/** The regions' names as AWS writes them in alarm e-mails; an unlisted region is shown by its code. */
const REGION_NAMES: Record<string, string> = {
  "ap-northeast-1": "Asia Pacific (Tokyo)",
  "ap-northeast-2": "Asia Pacific (Seoul)",
  "ap-northeast-3": "Asia Pacific (Osaka)",
  "ap-southeast-1": "Asia Pacific (Singapore)",
  "ap-southeast-2": "Asia Pacific (Sydney)",
  "eu-central-1": "EU (Frankfurt)",
  "eu-west-1": "EU (Ireland)",
  "us-east-1": "US East (N. Virginia)",
  "us-east-2": "US East (Ohio)",
  "us-west-2": "US West (Oregon)",
};

/** "Asia Pacific (Seoul)" for "ap-northeast-2", as alarm subjects and e-mails name a region. */
export function regionName(code: string): string {
  return REGION_NAMES[code] ?? code;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "Friday 27 November, 2026 05:30:00 UTC" from CloudWatch's "2026-11-27T05:30:00.123+0000". */
function emailTime(stateChangeTime: string): string {
  const date = new Date(stateChangeTime.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (Number.isNaN(date.getTime())) return stateChangeTime;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getUTCDay()]} ${p(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]}, ${date.getUTCFullYear()} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} UTC`;
}

/** CloudWatch prints doubles Java-style: 1 -> "1.0". */
function num(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** Label column as AWS aligns it: the value starts at a fixed column. */
const row = (label: string, value: string, width: number) => `- ${`${label}:`.padEnd(width)}${value}`.trimEnd();

function thresholdSentence(trigger: CloudWatchAlarmMessage["Trigger"]): string {
  const { ComparisonOperator, Threshold, Period, EvaluationPeriods } = trigger;
  const datapoints = trigger.DatapointsToAlarm ?? EvaluationPeriods;
  const when =
    EvaluationPeriods === 1
      ? `for ${Period} seconds`
      : `for at least ${datapoints} of the last ${EvaluationPeriods} period(s) of ${Period} seconds`;
  return `- The alarm is in the ALARM state when the metric is ${ComparisonOperator} ${num(Threshold)} ${when}.`;
}

export function alarmEmailText(alarm: CloudWatchAlarmMessage): string {
  const region = regionName(alarm.Region);
  const regionCode = alarm.AlarmArn?.split(":")[3] || alarm.Region;
  const at = emailTime(alarm.StateChangeTime);
  const trigger = alarm.Trigger;
  const dimensions = (trigger.Dimensions ?? []).map((dimension) => `${dimension.name} = ${dimension.value}`).join(", ");
  const actions = (list: string[] | undefined) => (list?.length ? `[${list.join(", ")}]` : "");
  return [
    `You are receiving this email because your Amazon CloudWatch Alarm "${alarm.AlarmName}" in the ${region} region has entered the ${alarm.NewStateValue} state, because "${alarm.NewStateReason}" at "${at}".`,
    "",
    "View this alarm in the AWS Management Console:",
    `https://${regionCode}.console.aws.amazon.com/cloudwatch/home?region=${regionCode}#s=Alarms&alarm=${encodeURIComponent(alarm.AlarmName)}`,
    "",
    "Alarm Details:",
    row("Name", alarm.AlarmName, 28),
    row("Description", alarm.AlarmDescription ?? "", 28),
    row("State Change", `${alarm.OldStateValue} -> ${alarm.NewStateValue}`, 28),
    row("Reason for State Change", alarm.NewStateReason, 28),
    row("Timestamp", at, 28),
    row("AWS Account", alarm.AWSAccountId, 28),
    ...(alarm.AlarmArn ? [row("Alarm Arn", alarm.AlarmArn, 28)] : []),
    "",
    "Threshold:",
    thresholdSentence(trigger),
    "",
    "Monitored Metric:",
    row("MetricNamespace", trigger.Namespace, 37),
    row("MetricName", trigger.MetricName, 37),
    row("Dimensions", `[${dimensions}]`, 37),
    row("Period", `${trigger.Period} seconds`, 37),
    row("Statistic", trigger.Statistic ?? "", 37),
    row("Unit", trigger.Unit ?? "not specified", 37),
    ...(trigger.TreatMissingData ? [row("TreatMissingData", trigger.TreatMissingData, 37)] : []),
    "",
    "",
    "State Change Actions:",
    `- OK: ${actions(alarm.OKActions)}`.trimEnd(),
    `- ALARM: ${actions(alarm.AlarmActions)}`.trimEnd(),
    `- INSUFFICIENT_DATA: ${actions(alarm.InsufficientDataActions)}`.trimEnd(),
  ].join("\n");
}
