/**
 * What the stack tests expect of every function, written out by handler, and helpers that read
 * one synthesis's templates (stacks/test/app.ts).
 */
import { adminRoutes, routes } from "@donut-states/core/topology";
import { expect } from "vitest";
import { APP_NAME } from "../settings";
import { describeValue, type Json, resourcesOf, single, TEST_ACCOUNT } from "./templates";

/** What the helpers read of a synthesis (stacks/test/app.ts, or one of stacks/test/synth.ts). */
export interface SynthTemplates {
  stage: string;
  templates: Record<string, Json>;
}

/** What each function may do, by handler (file#export as SST names them). The spec, written out. */
export interface Expected {
  database: boolean;
  /** events:PutEvents on the bus, for events of our source with exactly these detail types. */
  putEvents?: string[];
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
  /** Reads the key of the links in customer mails, and the previous one (rotation). */
  subscriptionSecret?: boolean;
  /** sqs:SendMessage on the customer mail queue. */
  sendsMail?: boolean;
  /** sns:Publish on the back-in-stock topic. */
  publishesBackInStock?: boolean;
  /** sqs:SendMessage on its bus rule's failed-events queue (Lambda's on-failure destination). */
  sendsFailedEvents?: boolean;
}
export const MIGRATE = "packages/functions/src/database/migrate.handler";
export const CALLER = "packages/functions/src/factory/caller.handler";
export const RELAY = "packages/functions/src/outbox/relay.handler";
export const WATCHDOG = "packages/functions/src/restock/watchdog.handler";
export const FOLLOW_UP = "packages/functions/src/restock/dlq-follow-up.handler";
export const NOTIFIER = "packages/functions/src/subscription/back-in-stock.handler";
export const SUBSCRIBE = routes["POST /products/{sku}/subscriptions"];
export const HOUSEKEEPING = "packages/functions/src/housekeeping/purge.handler";
export const expectedFunctions: Record<string, Expected> = {
  [routes["GET /products"]]: { database: true },
  [routes["GET /products/{sku}"]]: { database: true },
  [routes["POST /orders"]]: { database: true, putEvents: ["OutOfStock"] },
  [routes["POST /factory/callbacks/{restockId}"]]: {
    database: true,
    callbackSecret: true,
    previousCallbackSecret: true,
    putEvents: ["RestockFulfilled"],
  },
  [SUBSCRIBE]: { database: true, sendsMail: true },
  [routes["GET /subscriptions/confirm"]]: { database: true, subscriptionSecret: true },
  [routes["GET /subscriptions/unsubscribe"]]: { database: true, subscriptionSecret: true },
  [routes["POST /subscriptions/unsubscribe"]]: { database: true, subscriptionSecret: true },
  [routes.$default]: { database: false },
  [adminRoutes["GET /admin/products"]]: { database: true },
  [adminRoutes["POST /admin/products"]]: { database: true },
  [adminRoutes["PATCH /admin/products/{sku}"]]: { database: true },
  [adminRoutes["PUT /admin/products/{sku}/stock"]]: { database: true },
  [adminRoutes["GET /admin/products/{sku}/stock"]]: { database: true },
  [adminRoutes["POST /admin/products/{sku}/restock"]]: { database: true, putEvents: ["OutOfStock"] },
  [adminRoutes["GET /admin/restocks"]]: { database: true },
  [adminRoutes["POST /admin/restocks/{restockId}/re-request"]]: { database: true, putEvents: ["OutOfStock"] },
  [adminRoutes["GET /admin/outbox"]]: { database: true },
  [adminRoutes["GET /admin/dlq"]]: { database: false, dlqDepth: true },
  [CALLER]: { database: true, callbackSecret: true, consumesQueue: true, putEvents: ["RestockRequested", "RestockFailed"] },
  // The relay republishes any outbox row: every detail type of ours.
  [RELAY]: { database: true, putEvents: ["OutOfStock", "RestockRequested", "RestockFulfilled", "RestockFailed", "RestockOverdue"] },
  [WATCHDOG]: { database: true, publishesAlerts: true, putEvents: ["RestockOverdue", "RestockFailed"], peeksDeadLetterQueue: true },
  [FOLLOW_UP]: { database: true, publishesAlerts: true, peeksDeadLetterQueue: true },
  [NOTIFIER]: { database: false, publishesBackInStock: true, sendsFailedEvents: true },
  [MIGRATE]: { database: true, readsAdminSecret: true },
  [HOUSEKEEPING]: { database: true },
};

/** Our functions (not SST's/CDK's helpers): [stackId, logicalId, resource]. */
export function ourFunctions(synth: SynthTemplates): [string, string, Json][] {
  const found: [string, string, Json][] = [];
  for (const [stackId, template] of Object.entries(synth.templates)) {
    for (const [logicalId, resource] of resourcesOf(template, "AWS::Lambda::Function")) {
      if (String(resource.Properties.Description ?? "").startsWith("packages/functions/src/")) found.push([stackId, logicalId, resource]);
    }
  }
  return found;
}

/** The function whose handler is `handler` (its Description is the handler, live stubs included). */
export function functionFor(synth: SynthTemplates, handler: string): [string, string, Json] {
  const found = ourFunctions(synth).filter(([, , resource]) => resource.Properties.Description.replace(/ \(live\)$/, "") === handler);
  if (found.length !== 1) throw new Error(`expected one function for ${handler}, found ${found.length}`);
  return found[0];
}

/** Every statement attached to the function's role, as "actions -> resources". */
export function statementsOf(synth: SynthTemplates, stackId: string, fn: Json): string[] {
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
      statements.push(`${actions} -> ${resources}${statement.Condition ? ` if ${canonical(statement.Condition)}` : ""}`);
    }
  }
  return statements.sort();
}

/** JSON with every object's keys sorted: a condition block as one comparable string. */
export function canonical(value: Json): string {
  const sorted = (item: Json): Json =>
    Array.isArray(item)
      ? item.map(sorted)
      : item && typeof item === "object"
        ? Object.fromEntries(
            Object.keys(item)
              .sort()
              .map((key) => [key, sorted(item[key])]),
          )
        : item;
  return JSON.stringify(sorted(value));
}

export function managedPoliciesOf(synth: SynthTemplates, stackId: string, fn: Json): string[] {
  const roleId = fn.Properties.Role["Fn::GetAtt"][0];
  const role = synth.templates[stackId].Resources[roleId];
  return (role.Properties.ManagedPolicyArns ?? []).map((arn: Json) => describeValue(synth, stackId, arn).replace(/^.*:policy\//, ""));
}

export function logicalIdOf(synth: SynthTemplates, stackId: string, type: string): string {
  return single(synth.templates[stackId], type)[0];
}

/**
 * The database secrets as the functions see them (their attachment to the instance, which adds
 * host, port and engine): the application user's, or the admin (master) user's.
 */
export function databaseSecretOf(synth: SynthTemplates, user: "application" | "admin"): string {
  const attachments = resourcesOf(synth.templates.Database, "AWS::SecretsManager::SecretTargetAttachment");
  expect(attachments).toHaveLength(2);
  const found = attachments.find(
    ([, attachment]) => String(attachment.Properties.SecretId.Ref).startsWith("ApplicationUserSecret") === (user === "application"),
  );
  if (!found) throw new Error(`no ${user} secret attachment`);
  return `Database.${found[0]}`;
}

export function ssmSecretPaths(synth: SynthTemplates, name: string): string {
  const arn = (stage: string) =>
    `arn:\${AWS::Partition}:ssm:ap-northeast-2:${TEST_ACCOUNT}:parameter/sst/${APP_NAME}/${stage}/Secret/${name}/value`;
  return [arn(synth.stage), arn(".fallback")].sort().join(" + ");
}

/** The statements a function must have, and no others. */
export function expectedStatements(
  synth: SynthTemplates,
  stackId: string,
  fn: Json,
  expected: Expected,
  databaseMode: "rds" | "url",
): string[] {
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
  if (expected.putEvents) {
    // Our source and exactly the detail types the function writes (one value each per entry).
    const condition = { StringEquals: { "events:source": "donut-states.sales", "events:detail-type": expected.putEvents } };
    statements.push(`events:PutEvents -> Events.${logicalIdOf(synth, "Events", "AWS::Events::EventBus")}.Arn if ${canonical(condition)}`);
  }
  if (expected.publishesAlerts) statements.push(`sns:Publish -> Alerts.${logicalIdOf(synth, "Alerts", "AWS::SNS::Topic")}`);
  if (expected.subscriptionSecret) {
    statements.push(`ssm:GetParameters -> ${ssmSecretPaths(synth, "SUBSCRIPTION_TOKEN_SECRET")}`);
    statements.push(`ssm:GetParameters -> ${ssmSecretPaths(synth, "SUBSCRIPTION_TOKEN_SECRET_PREVIOUS")}`);
  }
  if (expected.sendsMail) statements.push(`sqs:SendMessage -> BackInStock.${mailQueueId(synth)}.Arn`);
  if (expected.publishesBackInStock) statements.push(`sns:Publish -> BackInStock.${logicalIdOf(synth, "BackInStock", "AWS::SNS::Topic")}`);
  if (expected.sendsFailedEvents) statements.push(`sqs:SendMessage -> BackInStock.${failedEventsQueueId(synth)}.Arn`);
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

/** A queue of the BackInStock stack, by the start of its logical id. */
function backInStockQueueId(synth: SynthTemplates, prefix: string): string {
  const found = resourcesOf(synth.templates.BackInStock, "AWS::SQS::Queue").filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${prefix} queue in BackInStock, found ${found.length}`);
  return found[0][0];
}
export const mailQueueId = (synth: SynthTemplates) => backInStockQueueId(synth, "MailQueue");
export const failedEventsQueueId = (synth: SynthTemplates) => backInStockQueueId(synth, "BackInStockFailedEvents");

export function factoryQueueId(synth: SynthTemplates): string {
  const found = resourcesOf(synth.templates.Events, "AWS::SQS::Queue").find(([, queue]) => queue.Properties.RedrivePolicy);
  if (!found) throw new Error("no factory queue (the queue with a redrive policy)");
  return found[0];
}

export function deadLetterQueueId(synth: SynthTemplates): string {
  const found = resourcesOf(synth.templates.Events, "AWS::SQS::Queue").find(([, queue]) => !queue.Properties.RedrivePolicy);
  if (!found) throw new Error("no dead-letter queue");
  return found[0];
}

export function allStatements(synth: SynthTemplates): { stackId: string; policy: string; statement: Json }[] {
  const found = [];
  for (const [stackId, template] of Object.entries(synth.templates)) {
    for (const [policy, resource] of resourcesOf(template, "AWS::IAM::Policy")) {
      for (const statement of resource.Properties.PolicyDocument.Statement) found.push({ stackId, policy, statement });
    }
  }
  return found;
}
