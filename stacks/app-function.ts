/**
 * Every function of the app is made here (`appFunction`), so each one gets the same shape:
 * - an explicit name (`<stage>-donut-states-<id>`) and its log group `/aws/lambda/<name>`,
 *   created by CloudFormation with a retention (Lambda would create it without one);
 * - its own IAM role that starts empty and gets no managed policy: logs go only to its own log
 *   group, X-Ray comes with `tracing: "active"`, a VPC function gets the network-interface
 *   actions Lambda needs (see `vpcNetworkInterfaceStatements`), and everything else comes from
 *   its entry in the topology (`fromTopology`, through grants.ts). CDK's default
 *   role would attach AWSLambdaBasicExecutionRole (logs writes on every log group), and
 *   AWSLambdaVPCAccessExecutionRole adds logs:CreateLogGroup/PutLogEvents on "*" too.
 * - the database wiring of the stage (`DatabaseAccess`, built by Database.ts) when `database` is given.
 */

import type { FunctionDefinition, FunctionEnvironment, FunctionSetting } from "@donut-states/core/topology";
import type { Config, FunctionProps, Stack } from "sst/constructs";
import { Function as SstFunction } from "sst/constructs";
import { type Cdk, iam, logs } from "./cdk";
import { type GrantTargets, statementsFor } from "./grants";
import type { DatabaseMode, StageSettings } from "./settings";

/** What a function needs to reach the stage's database (built by Database.ts, used by `appFunction({ database })`). */
export interface DatabaseAccess {
  mode: DatabaseMode;
  /** DATABASE_* variables the core reads (packages/core/src/drizzle/index.ts); the secret's ARN among them grants reading it (grants.ts). */
  environment: FunctionEnvironment;
  /** SST Secrets to bind (the DATABASE_URL secret in "url" mode). */
  secrets: Config.Secret[];
  /** VPC placement ("rds" mode): private subnets with NAT egress, a security group the proxy admits. */
  vpc?: {
    vpc: Cdk.aws_ec2.IVpc;
    subnets: Cdk.aws_ec2.SubnetSelection;
    securityGroups: Cdk.aws_ec2.ISecurityGroup[];
  };
}

export interface AppFunctionProps
  extends Omit<FunctionProps, "role" | "vpc" | "vpcSubnets" | "securityGroups" | "functionName" | "bind" | "environment"> {
  handler: string;
  /** Settings the function reads (names from the topology's `functionSettings`). */
  environment?: FunctionEnvironment;
  /** Connect to the stage's database (VPC + proxy + credentials, or the DATABASE_URL secret). */
  database?: DatabaseAccess;
  /** SST Secrets the function reads (bind: SST_Secret_value_<NAME> + ssm:GetParameters on its two paths). */
  secrets?: Config.Secret[];
  /** Exactly these extra permissions (from the topology, through `fromTopology` and grants.ts). */
  statements?: Cdk.aws_iam.PolicyStatement[];
}

export function appFunction(stack: Stack, id: string, settings: StageSettings, props: AppFunctionProps): SstFunction {
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
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: "WriteOwnLogs",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [logGroup.logGroupArn],
    }),
  );
  if (database?.vpc) for (const statement of vpcNetworkInterfaceStatements(stack)) role.addToPrincipalPolicy(statement);

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
    ...(database?.vpc ? { vpc: database.vpc.vpc, vpcSubnets: database.vpc.subnets, securityGroups: database.vpc.securityGroups } : {}),
  });
  // The log group must exist before the function first runs, or Lambda creates it (without
  // retention) and the next deploy fails on "already exists".
  fn.node.addDependency(logGroup);
  for (const statement of statements) fn.addToRolePolicy(statement);
  return fn;
}

/** What a stage offers its functions: the database, the SST Secrets, setting values and the resources grants name. */
export interface StageWiring {
  database?: DatabaseAccess;
  secrets: Partial<Record<FunctionSetting, Config.Secret>>;
  values: FunctionEnvironment;
  targets?: GrantTargets;
}

/**
 * The props of a function of the topology's `functions` table: its handler and timeout, the
 * database if it reads the database's settings, of the stage's secrets and values exactly those
 * it reads, and the statements its reads, grants and trigger imply (grants.ts). Its trigger is
 * wired by the stack that owns it.
 */
export function fromTopology(
  definition: FunctionDefinition,
  wiring: StageWiring,
): Pick<AppFunctionProps, "handler" | "timeout" | "database" | "secrets" | "environment" | "statements"> {
  const reads = new Set<FunctionSetting>(definition.reads);
  const database = reads.has("DATABASE_URL") ? wiring.database : undefined;
  const environment: FunctionEnvironment = Object.fromEntries(
    Object.entries(wiring.values).filter(([name]) => reads.has(name as FunctionSetting)),
  );
  return {
    handler: definition.handler,
    timeout: definition.timeoutSeconds,
    database,
    secrets: definition.reads.flatMap((name) => (name !== "DATABASE_URL" && wiring.secrets[name] ? [wiring.secrets[name]] : [])),
    environment,
    statements: statementsFor(definition, { environment: { ...database?.environment, ...environment }, targets: wiring.targets ?? {} }),
  };
}

/** A function's construct id, from its name in the topology: "restockWatchdog" -> "RestockWatchdog". */
export function functionId(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}

/**
 * What Lambda needs, with the function's role, to attach a VPC function to its subnets: the
 * network-interface part of AWSLambdaVPCAccessExecutionRole without its logs:* on "*".
 * The two Describe actions have no resource-level permissions (Resource must be "*"); the
 * others are limited to this account and region (Lambda's guide suggests this form for
 * DeleteNetworkInterface, which fails on a narrower ARN).
 */
export function vpcNetworkInterfaceStatements(stack: Stack): Cdk.aws_iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: "DescribeVpcNetwork",
      actions: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "ManageVpcNetworkInterfaces",
      actions: [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:UnassignPrivateIpAddresses",
      ],
      resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
    }),
  ];
}
