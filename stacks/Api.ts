import {
  type AdminRouteKey,
  adminFunctions as adminDefinitions,
  type FunctionName,
  type RouteKey,
  routeFunctions,
  functions as topologyFunctions,
} from "@donut-states/core/topology";
import { Api as SstApi, type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { BackInStock } from "./BackInStock";
import { Config } from "./Config";
import { apigatewayv2, type Cdk, iam } from "./cdk";
import { Database } from "./Database";
import { Events } from "./Events";
import { fromTopology, lambda, type StageWiring } from "./lambda";

/**
 * What each route's function may do besides reading its settings (those, and the database and
 * secrets they imply, come from the topology's `functions` table). A route added to the topology
 * must be listed here (type error otherwise).
 */
interface RouteAccess {
  /** events:PutEvents on the bus (the sale publishes OutOfStock after commit, the callback RestockFulfilled). */
  publishEvents?: boolean;
  /** sqs:GetQueueAttributes on the factory DLQ (its depth). */
  dlqDepth?: boolean;
  /** sns:Subscribe of e-mail endpoints on the back-in-stock topic (a customer's subscription). */
  subscribeBackInStock?: boolean;
}

export const routeAccess = {
  "GET /products": {},
  "GET /products/{sku}": {},
  "POST /orders": { publishEvents: true },
  "POST /factory/callbacks/{restockId}": { publishEvents: true },
  "POST /products/{sku}/subscriptions": { subscribeBackInStock: true },
  $default: {},
} as const satisfies Record<RouteKey, RouteAccess>;

/** The route the legacy factory calls back on. */
export const CALLBACK_ROUTE = "POST /factory/callbacks/{restockId}" satisfies RouteKey;
/** The route customers subscribe to back-in-stock mails on. */
export const SUBSCRIPTION_ROUTE = "POST /products/{sku}/subscriptions" satisfies RouteKey;

/**
 * The admin routes: each its own function behind the AWS_IAM authorizer, with what it needs and
 * nothing else. Re-request and open write an OutOfStock event and publish it after commit.
 */
export const adminRouteAccess = {
  "GET /admin/products": {},
  "POST /admin/products": {},
  "PATCH /admin/products/{sku}": {},
  "PUT /admin/products/{sku}/stock": {},
  "GET /admin/products/{sku}/stock": {},
  "POST /admin/products/{sku}/restock": { publishEvents: true },
  "GET /admin/restocks": {},
  "POST /admin/restocks/{restockId}/re-request": { publishEvents: true },
  "GET /admin/outbox": {},
  "GET /admin/dlq": { dlqDepth: true },
} as const satisfies Record<AdminRouteKey, RouteAccess>;

/**
 * "POST /admin/restocks/{restockId}/re-request" -> "AdminPostRestocksReRequest": path parameters
 * left out, so the function name (<stage>-donut-states-<id>, at most 64 characters) leaves room
 * for the stage name.
 */
export function adminFunctionId(routeKey: AdminRouteKey): string {
  const [method, path] = routeKey.split(" ");
  const words = [method, ...path.split("/").filter((segment) => segment && segment !== "admin" && !segment.startsWith("{"))].flatMap(
    (segment) => segment.toLowerCase().match(/[a-z0-9]+/g) ?? [],
  );
  return `Admin${words.map((word) => word[0].toUpperCase() + word.slice(1)).join("")}`;
}

/** "POST /factory/callbacks/{restockId}" -> "RoutePostFactoryCallbacksRestockId", "$default" -> "RouteDefault". */
export function routeFunctionId(routeKey: string): string {
  const words = routeKey.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return `Route${words.map((word) => word[0].toUpperCase() + word.slice(1)).join("")}`;
}

/**
 * The Sales API: an HTTP API whose routes are exactly the routes of the topology's `functions` (the offline
 * gateway serves the same table), one function per route, throttled on the default stage,
 * access logs in CloudWatch Logs.
 */
export function Api({ stack }: StackContext) {
  const { settings, secrets } = use(Config);
  const { access } = use(Database);
  const { bus, deadLetterQueue } = use(Events);
  const { topic: backInStockTopic } = use(BackInStock);

  const putEvents = new iam.PolicyStatement({
    sid: "PublishToEventBus",
    actions: ["events:PutEvents"],
    resources: [bus.eventBusArn],
  });

  // E-mail subscriptions only: no http(s), sqs or lambda endpoint can be put on the topic.
  const subscribe = new iam.PolicyStatement({
    sid: "SubscribeEmailToBackInStock",
    actions: ["sns:Subscribe"],
    resources: [backInStockTopic.topicArn],
    conditions: { StringEquals: { "sns:Protocol": "email" } },
  });

  const functions: Partial<Record<RouteKey, SstFunction>> = {};
  const wiring: StageWiring = {
    database: access,
    secrets,
    values: {
      EVENT_BUS_NAME: bus.eventBusName,
      FACTORY_DLQ_URL: deadLetterQueue.queueUrl,
      BACK_IN_STOCK_TOPIC_ARN: backInStockTopic.topicArn,
    },
  };
  for (const [routeKey, name] of Object.entries(routeFunctions) as [RouteKey, FunctionName][]) {
    const needs: RouteAccess = routeAccess[routeKey];
    functions[routeKey] = lambda(stack, routeFunctionId(routeKey), settings, {
      ...fromTopology(topologyFunctions[name], wiring),
      statements: [...(needs.publishEvents ? [putEvents] : []), ...(needs.subscribeBackInStock ? [subscribe] : [])],
    });
  }
  const dlqDepth = new iam.PolicyStatement({
    sid: "ReadDlqDepth",
    actions: ["sqs:GetQueueAttributes"],
    resources: [deadLetterQueue.queueArn],
  });
  const adminFunctions: Partial<Record<AdminRouteKey, SstFunction>> = {};
  for (const [routeKey, definition] of Object.entries(adminDefinitions) as [AdminRouteKey, (typeof adminDefinitions)[AdminRouteKey]][]) {
    const needs: RouteAccess = adminRouteAccess[routeKey];
    adminFunctions[routeKey] = lambda(stack, adminFunctionId(routeKey), settings, {
      ...fromTopology(definition, wiring),
      statements: [...(needs.publishEvents ? [putEvents] : []), ...(needs.dlqDepth ? [dlqDepth] : [])],
    });
  }

  const api = new SstApi(stack, "Api", {
    // Server-to-server API (curl, k6, the factory's callbacks): no browser origins to allow.
    cors: false,
    accessLog: { retention: settings.logRetention },
    defaults: { throttle: settings.apiThrottle },
    routes: {
      // Public: anyone may call them (the callback checks its own token).
      ...Object.fromEntries(Object.entries(functions).map(([routeKey, fn]) => [routeKey, { function: fn, authorizer: "none" as const }])),
      // Admin: API Gateway refuses (403) any request not SigV4-signed by a principal whose IAM
      // policy allows execute-api:Invoke on the route (docs/runbook.md, "Access to the admin API").
      ...Object.fromEntries(
        Object.entries(adminFunctions).map(([routeKey, fn]) => [routeKey, { function: fn, authorizer: "iam" as const }]),
      ),
    },
  });

  // The factory's callbacks get their own, smaller throttle (settings.ts), so no flood on that
  // route takes the customers' share of the stage's limit. The subscription route gets a small
  // one too: each accepted request can make SNS send a confirmation mail to the address given.
  // Route settings name routes by key, so the stage must wait for them.
  const stage = api.cdk.httpApi.defaultStage?.node.defaultChild as Cdk.aws_apigatewayv2.CfnStage | undefined;
  if (!stage) throw new Error("the HTTP API has no default stage");
  stage.addPropertyOverride("RouteSettings", {
    [CALLBACK_ROUTE]: {
      ThrottlingBurstLimit: settings.callbackThrottle.burst,
      ThrottlingRateLimit: settings.callbackThrottle.rate,
    },
    [SUBSCRIPTION_ROUTE]: {
      ThrottlingBurstLimit: settings.subscriptionThrottle.burst,
      ThrottlingRateLimit: settings.subscriptionThrottle.rate,
    },
  });
  for (const child of stack.node.findAll()) {
    if (child instanceof apigatewayv2.CfnRoute) stage.node.addDependency(child);
  }

  stack.addOutputs({
    ApiUrl: api.url,
    // For the operators' IAM policy: execute-api:Invoke on arn:aws:execute-api:<region>:<account>:<ApiId>/$default/*/admin/*
    ApiId: api.cdk.httpApi.apiId,
  });
  return {
    api,
    functions: functions as Record<RouteKey, SstFunction>,
    adminFunctions: adminFunctions as Record<AdminRouteKey, SstFunction>,
  };
}
