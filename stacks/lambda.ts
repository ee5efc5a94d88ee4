/**
 * Every function of the app is made here, so each one gets the same shape:
 * - an explicit name (`<stage>-donut-states-<id>`) and its log group `/aws/lambda/<name>`,
 *   created by CloudFormation with a retention (Lambda would create it without one);
 * - its own IAM role that starts empty: logs go only to its own log group, X-Ray comes with
 *   `tracing: "active"`, a VPC function gets AWS's managed ENI policy, and everything else is
 *   added explicitly by the caller (secrets it reads, the bus it publishes to, ...). CDK's
 *   default role would attach AWSLambdaBasicExecutionRole (logs:* on every log group).
 * - the database wiring of the stage (see Database.ts) when `database` is given.
 */
import type { Config, FunctionProps, Stack } from "sst/constructs";
import { Function as SstFunction } from "sst/constructs";
import { type Cdk, iam, logs } from "./cdk";
import type { DatabaseAccess } from "./Database";
import type { StageSettings } from "./settings";

export interface LambdaProps extends Omit<FunctionProps, "role" | "vpc" | "vpcSubnets" | "securityGroups" | "functionName" | "bind"> {
  handler: string;
  /** Connect to the stage's database (VPC + proxy + credentials, or the DATABASE_URL secret). */
  database?: DatabaseAccess;
  /** SST Secrets the function reads (bind: SST_Secret_value_<NAME> + ssm:GetParameters on its two paths). */
  secrets?: Config.Secret[];
  /** Exactly these extra permissions. */
  statements?: Cdk.aws_iam.PolicyStatement[];
}

export function lambda(stack: Stack, id: string, settings: StageSettings, props: LambdaProps): SstFunction {
  const { database, secrets = [], statements = [], environment, ...functionProps } = props;
  const functionName = `${stack.stage}-${settings.app}-${id}`;
  if (functionName.length > 64) throw new Error(`Function name ${functionName} is longer than 64 characters`);

  const logGroup = new logs.LogGroup(stack, `${id}Logs`, {
    logGroupName: `/aws/lambda/${functionName}`,
    retention: logs.RetentionDays[settings.logRetention.toUpperCase() as keyof typeof logs.RetentionDays],
  });

  const role = new iam.Role(stack, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    description: `${functionName}: ${props.handler}`,
    managedPolicies: database?.vpc
      ? // ec2:CreateNetworkInterface & co. must be on "*" (AWS gives no resource-level control at create time).
        [iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaVPCAccessExecutionRole")]
      : [],
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: "WriteOwnLogs",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [logGroup.logGroupArn],
    }),
  );

  const fn = new SstFunction(stack, id, {
    description: props.handler,
    ...functionProps,
    functionName,
    role,
    environment: {
      POWERTOOLS_LOG_LEVEL: settings.logLevel,
      ...database?.environment,
      ...environment,
    },
    bind: [...secrets, ...(database?.secrets ?? [])],
    ...(database?.vpc
      ? { vpc: database.vpc.vpc, vpcSubnets: database.vpc.subnets, securityGroups: database.vpc.securityGroups }
      : {}),
  });
  // The log group must exist before the function first runs, or Lambda creates it (without
  // retention) and the next deploy fails on "already exists".
  fn.node.addDependency(logGroup);
  database?.grantConnect(fn);
  for (const statement of statements) fn.addToRolePolicy(statement);
  return fn;
}
