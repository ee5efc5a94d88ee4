/**
 * cdk-nag (AwsSolutions pack) over the app, with the suppressions we accept and why.
 * Run on the prod app by the stack tests (stacks/test/app.ts, checked by stacks/app.test.ts); not part of `sst deploy`.
 *
 * cdk-nag decides what a resource is with `instanceof` (CfnBucket, CfnFunction, ...), so it
 * must load the same aws-cdk-lib as SST's constructs; the root package.json pins SST's version
 * so there is one copy (see cdk.ts).
 */
import * as cdkNag from "cdk-nag";
import type { App } from "sst/constructs";
import { Aspects, CdkStack } from "../cdk";

export interface NagFinding {
  ruleId: string;
  level: string;
  path: string;
  /** What exactly matched, e.g. "Resource::*" or the managed policy (the key `appliesTo` matches). */
  findingId?: string;
  info: string;
  suppressed: boolean;
  reason?: string;
}

interface NagLoggerData {
  ruleId: string;
  ruleLevel: string;
  ruleInfo: string;
  findingId?: string;
  suppressionReason?: string;
  errorMessage?: string;
  resource: { node: { path: string } };
}

interface Suppression {
  id: string;
  reason: string;
  appliesTo?: (string | { regex: string })[];
}

/**
 * Suppressions that hold for every stack: each one is a decision, not an oversight.
 * `appliesTo` narrows IAM findings to the exact wildcard we accept; stacks/permissions.test.ts checks
 * independently that "*" appears only with the X-Ray actions.
 */
const everyStack: Suppression[] = [
  {
    id: "AwsSolutions-IAM4",
    reason:
      "No managed policy on our functions' roles (stacks/app-function.ts); AWSLambdaBasicExecutionRole remains only on SST's own helper functions (custom resource handler, Script handler), which SST creates. Our functions' logs go to their own log group only.",
    appliesTo: ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
  },
  {
    id: "AwsSolutions-IAM5",
    reason:
      "xray:PutTraceSegments, xray:PutTelemetryRecords, ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource-level permissions (Resource must be *); the other network-interface actions of VPC functions are limited to this account and region (Lambda fails to detach with a narrower ARN); `<Migrate.Arn>:*` lets SST's Script handler invoke versions of the migrate function.",
    appliesTo: [
      "Resource::*",
      { regex: "/^Resource::<Migrate[0-9A-F]+\\.Arn>:\\*$/" },
      { regex: "/^Resource::arn:<AWS::Partition>:ec2:[a-z0-9-]+:[0-9]{12}:\\*\\/\\*$/" },
    ],
  },
  {
    id: "AwsSolutions-L1",
    reason: "nodejs22.x is the runtime this project targets and tests; SST's own helper functions pin theirs (nodejs22.x as well).",
  },
];

/** Suppressions for one stack (by its id in sst.config.ts). */
const perStack: Record<string, Suppression[]> = {
  Api: [
    {
      id: "AwsSolutions-APIG4",
      reason:
        "The Sales API is public by design (customers order anonymously, like the shop's website); the factory callback route is authenticated by the per-request HMAC token in its URL, checked in the handler before anything is read. The admin routes use the AWS_IAM authorizer (stacks/Api.test.ts checks each one).",
    },
  ],
  BackInStock: [
    {
      id: "AwsSolutions-SQS3",
      reason:
        "The failed-events queue IS the dead-letter queue of the notifier's rule target and the notifier's on-failure destination (cdk-nag recognises only SQS redrive DLQs); nothing consumes it but operators replaying it, so it needs no DLQ of its own. stacks/BackInStock.test.ts checks both uses.",
    },
  ],
  Database: [
    {
      id: "AwsSolutions-RDS11",
      reason: "The default port adds no exposure: the instance is in isolated subnets and its security group admits the RDS Proxy only.",
    },
  ],
};

/** Add the AwsSolutions checks and the justified suppressions to every stack of `app`. */
export function applyNagChecks(app: App, findings: NagFinding[], { suppress = true } = {}): void {
  const nag = cdkNag;
  const record =
    (kind: "error" | "nonCompliance" | "suppressed") =>
    (data: NagLoggerData): void => {
      findings.push({
        ruleId: data.ruleId,
        level: kind === "error" ? "RuleError" : data.ruleLevel,
        path: data.resource.node.path,
        findingId: data.findingId,
        info: data.errorMessage ?? data.ruleInfo,
        suppressed: kind === "suppressed",
        reason: data.suppressionReason,
      });
    };
  const logger = {
    onCompliance() {},
    onNotApplicable() {},
    onNonCompliance: record("nonCompliance"),
    onSuppressed: record("suppressed"),
    onError: record("error"),
    onSuppressedError() {},
  };
  Aspects.of(app).add(new nag.AwsSolutionsChecks({ verbose: true, reports: false, additionalLoggers: [logger] }));
  if (!suppress) return;
  for (const child of app.node.children) {
    if (!CdkStack.isStack(child)) continue;
    const id = child.stackName.slice(`${app.stage}-${app.name}-`.length);
    nag.NagSuppressions.addStackSuppressions(child, [...everyStack, ...(perStack[id] ?? [])]);
  }
}
