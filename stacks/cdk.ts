/**
 * The AWS CDK library, exactly the copy SST's constructs are built on.
 *
 * Two copies of aws-cdk-lib in one construct tree do not work (a `Duration` from one is
 * rejected by the other, SST's `instanceof` checks silently skip resources). The root
 * package.json therefore pins the aws-cdk-lib version sst depends on, so npm installs one copy;
 * resolving it from SST's package directory, as sst/constructs does, guarantees the stacks use
 * that same instance even if a future install nests a second copy under sst/.
 */
import { createRequire } from "node:module";
import type * as Cdk from "aws-cdk-lib";

// Resolve "aws-cdk-lib" the way sst/constructs does: from SST's own package directory.
// createRequire (rather than an import) keeps it out of the esbuild bundle SST makes of
// sst.config.ts, so `sst deploy` and the tests load the very same module instance as SST.
const requireFromSst = createRequire(createRequire(import.meta.url).resolve("sst/package.json"));
const cdk = requireFromSst("aws-cdk-lib") as typeof Cdk;

export type { Cdk };
export const {
  Aspects,
  Aws,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack: CdkStack,
  Token,
  assertions,
  aws_apigatewayv2: apigatewayv2,
  aws_cloudwatch: cloudwatch,
  aws_cloudwatch_actions: cloudwatchActions,
  aws_ec2: ec2,
  aws_events: events,
  aws_events_targets: eventsTargets,
  aws_iam: iam,
  aws_lambda: lambda,
  aws_lambda_event_sources: lambdaEventSources,
  aws_logs: logs,
  aws_rds: rds,
  aws_sns: sns,
  aws_sns_subscriptions: snsSubscriptions,
  aws_sqs: sqs,
} = cdk;
export default cdk;
