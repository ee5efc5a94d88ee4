/**
 * What each function may do (stacks/grants.ts, from each function's `reads`, `grants` and trigger
 * in the topology), checked on the templates against the spec written out in
 * stacks/test/functions.ts.
 */
import { DetailType, type FunctionDefinition, functions } from "@donut-states/core/topology";
import { describe, expect, it } from "vitest";
import { statementsFor } from "./grants";
import { bothStages } from "./test/app";
import {
  allStatements,
  expectedFunctions,
  expectedStatements,
  MIGRATE,
  managedPoliciesOf,
  ourFunctions,
  statementsOf,
} from "./test/functions";
import { describeValue, type Json, resourcesOf } from "./test/templates";

const stages = bothStages();

describe.each(stages.each)("%s stage", (_name, get, databaseMode) => {
  it("gives each function exactly the permissions it needs", () => {
    const synth = get();
    const functions = ourFunctions(synth);
    const handlers = functions.map(([, , fn]) => fn.Properties.Description.replace(/ \(live\)$/, "")).sort();
    const expectedHandlers = Object.keys(expectedFunctions).filter((handler) => synth.mode === "deploy" || handler !== MIGRATE);
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
    // Only the notifier publishes to the back-in-stock topic; no function may subscribe anything to any topic.
    const snsUsers = (action: string) =>
      allStatements(synth)
        .filter(({ statement }) => [statement.Action].flat().includes(action))
        .map(
          ({ policy, statement }) =>
            `${policy.replace(/Role.*$/, "")} -> ${describeValue(synth, "BackInStock", statement.Resource).replace(/[0-9A-F]{8}$/, "")}`,
        )
        .filter((entry) => !entry.includes("Alerts."));
    expect(snsUsers("sns:Publish")).toEqual(["BackInStockNotifier -> BackInStock.Topic"]);
    // Customers' subscriptions are ours: no function may make an SNS subscription of any kind.
    const subscribers = allStatements(synth).filter(({ statement }) =>
      [statement.Action].flat().some((action: string) => ["sns:Subscribe", "sns:*", "*"].includes(action)),
    );
    expect(subscribers.map(({ policy }) => policy)).toEqual([]);
    // Only the DLQ-depth admin function reads a queue's attributes, the DLQ's alone.
    const queueReaders = allStatements(synth).filter(({ statement }) => [statement.Action].flat().includes("sqs:GetQueueAttributes"));
    expect(queueReaders.map(({ policy }) => policy.replace(/Role.*$/, "")).sort()).toEqual(["AdminGetDlq", "FactoryCaller"]);
  });
});

describe("grants in the topology", () => {
  it("let exactly the functions that are given a bus put events on it, and only events of ours", () => {
    for (const [name, fn] of Object.entries(functions) as [string, FunctionDefinition][]) {
      const publishes = fn.grants.putEvents ?? [];
      expect(fn.reads.includes("EVENT_BUS_NAME"), name).toBe(publishes.length > 0);
      for (const detailType of publishes) expect(Object.values(DetailType), name).toContain(detailType);
    }
  });

  it("refuse to build a function whose grant names a resource its stack did not pass", () => {
    const definition: FunctionDefinition = { ...functions.restockWatchdog, grants: { publishAlerts: true } };
    expect(() => statementsFor(definition, { environment: {}, targets: {} })).toThrow(/publishAlerts needs the alertsTopic ARN/);
    const notifier: FunctionDefinition = functions.backInStockNotifier;
    expect(() => statementsFor(notifier, { environment: {}, targets: { backInStockTopic: "arn" } })).toThrow(
      /busRule trigger needs the failedEvents ARN/,
    );
  });
});
