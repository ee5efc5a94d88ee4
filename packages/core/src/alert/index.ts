import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { BusEventDefinition } from "../event";
import { ALARM_STATE_CHANGE } from "../topology";
import { awsClientConfig } from "../util/aws";
import { requiredEnv } from "../util/config";
import * as z from "../util/zod";

let sns: SNSClient | undefined;

/**
 * Tell operations something needs a human: publish to the alerts topic, whose e-mail
 * subscriptions reach the on-call inbox (offline: the SMTP sink under MAIL_DIR).
 */
export async function notify(subject: string, message: string): Promise<void> {
  sns ??= new SNSClient(awsClientConfig());
  await sns.send(
    new PublishCommand({
      TopicArn: requiredEnv("ALERTS_TOPIC_ARN"),
      // SNS limits e-mail subjects to 100 printable ASCII characters.
      Subject: subject.replace(/[^\x20-\x7e]/g, "?").slice(0, 100),
      Message: message,
    }),
  );
}

/**
 * The ops CLI command an alert tells the operator to run. A deployed function knows its stage
 * (SST_STAGE), and the command names it, so it acts on the stage that alerted; offline there is
 * no stage and the CLI finds the offline stack by itself.
 */
export function opsCommand(args: string): string {
  const stage = process.env.SST_STAGE;
  return `npm run ops -- ${stage ? `--stage ${stage} ` : ""}${args}`;
}

const AlarmState = z.object({
  value: z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]),
  reason: z.optional(z.string()),
  timestamp: z.string(),
});

/**
 * The event CloudWatch sends to the default event bus when an alarm changes state, for
 * `parseBusEvent`: its detail, the fields we read.
 */
export const AlarmStateChange = {
  source: ALARM_STATE_CHANGE.source,
  type: ALARM_STATE_CHANGE.detailType,
  schema: z.looseObject({
    alarmName: z.string(),
    state: AlarmState,
    previousState: z.optional(AlarmState),
  }),
} satisfies BusEventDefinition;
