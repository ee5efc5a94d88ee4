/**
 * What each function may do, as IAM statements: the one place a function's policy is written.
 * A function gets exactly the statements its topology entry implies (packages/core/src/topology/functions.ts):
 * - each of its `grants`, in the order it declares them;
 * - for each setting it reads whose value is a Secrets Manager secret's ARN, reading that secret;
 * - for a `busRule` trigger, sending its invocation records to the rule's failed-events queue.
 * What every function gets (its own logs, X-Ray, the VPC's network interfaces) is in app-function.ts;
 * SST Secrets it reads are bound there (ssm:GetParameters on exactly their parameters).
 */

import {
  EVENT_SOURCE,
  type FunctionDefinition,
  type FunctionEnvironment,
  type FunctionGrants,
  type FunctionSetting,
} from "@donut-states/core/topology";
import { type Cdk, iam } from "./cdk";

/** The ARNs of the stage's resources the statements name. A stack passes those its functions need. */
export interface GrantTargets {
  bus?: string;
  deadLetterQueue?: string;
  alertsTopic?: string;
  backInStockTopic?: string;
  /** The customer mail queue. */
  mailQueue?: string;
  /** The failed-events queue of a `busRule` function's rule. */
  failedEvents?: string;
}

type GrantName = keyof FunctionGrants;

function target(targets: GrantTargets, name: keyof GrantTargets, why: string): string {
  const arn = targets[name];
  if (!arn) throw new Error(`${why} needs the ${name} ARN, which this stack does not pass`);
  return arn;
}

/** Each grant's statements. */
const grantStatements: {
  [Name in GrantName]-?: (value: NonNullable<FunctionGrants[Name]>, targets: GrantTargets) => Cdk.aws_iam.PolicyStatement;
} = {
  // Our source and exactly the detail types the function writes. EventBridge authorizes each
  // entry of a PutEvents call on its own, with that entry's source and detail type as
  // single-valued keys: StringEquals with several values allows any one of them.
  putEvents: (detailTypes, targets) =>
    new iam.PolicyStatement({
      sid: "PublishToEventBus",
      actions: ["events:PutEvents"],
      resources: [target(targets, "bus", "putEvents")],
      conditions: { StringEquals: { "events:source": EVENT_SOURCE, "events:detail-type": [...detailTypes] } },
    }),
  publishAlerts: (_, targets) =>
    new iam.PolicyStatement({
      sid: "PublishAlerts",
      actions: ["sns:Publish"],
      resources: [target(targets, "alertsTopic", "publishAlerts")],
    }),
  // Peeked, never consumed: no sqs:DeleteMessage.
  peekDlq: (_, targets) =>
    new iam.PolicyStatement({
      sid: "PeekDeadLetterQueue",
      actions: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"],
      resources: [target(targets, "deadLetterQueue", "peekDlq")],
    }),
  dlqDepth: (_, targets) =>
    new iam.PolicyStatement({
      sid: "ReadDlqDepth",
      actions: ["sqs:GetQueueAttributes"],
      resources: [target(targets, "deadLetterQueue", "dlqDepth")],
    }),
  sendMail: (_, targets) =>
    new iam.PolicyStatement({
      sid: "EnqueueCustomerMail",
      actions: ["sqs:SendMessage"],
      resources: [target(targets, "mailQueue", "sendMail")],
    }),
  publishBackInStock: (_, targets) =>
    new iam.PolicyStatement({
      sid: "PublishBackInStock",
      actions: ["sns:Publish"],
      resources: [target(targets, "backInStockTopic", "publishBackInStock")],
    }),
};

/** Settings whose value is a secret's ARN, and the statement's Sid for reading it. */
const secretSettings = {
  DATABASE_SECRET_ARN: "ReadDatabaseCredentials",
  DATABASE_ADMIN_SECRET_ARN: "ReadDatabaseAdminCredentials",
} as const satisfies Partial<Record<FunctionSetting, string>>;

/**
 * The statements of one function of the topology, given the environment the stack sets for it
 * (a secret setting the stage leaves unset, as `sst dev` stages do, grants nothing).
 */
export function statementsFor(
  definition: FunctionDefinition,
  { environment, targets }: { environment: FunctionEnvironment; targets: GrantTargets },
): Cdk.aws_iam.PolicyStatement[] {
  const reads = new Set<FunctionSetting>(definition.reads);
  const secrets = Object.entries(secretSettings).flatMap(([setting, sid]) => {
    const arn = environment[setting as keyof typeof secretSettings];
    return reads.has(setting as FunctionSetting) && arn
      ? [new iam.PolicyStatement({ sid, actions: ["secretsmanager:GetSecretValue"], resources: [arn] })]
      : [];
  });
  const grants = (Object.entries(definition.grants) as [GrantName, never][]).map(([name, value]) => grantStatements[name](value, targets));
  // What Lambda needs to deliver the function's invocation records there (stacks/bus-rule.ts).
  const trigger =
    "busRule" in definition.trigger
      ? [
          new iam.PolicyStatement({
            sid: "SendFailedEvents",
            actions: ["sqs:SendMessage"],
            resources: [target(targets, "failedEvents", "a busRule trigger")],
          }),
        ]
      : [];
  return [...secrets, ...grants, ...trigger];
}
