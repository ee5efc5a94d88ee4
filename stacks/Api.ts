import { type AdminRouteKey, type RouteKey, routeFunctionEntries } from "@donut-states/core/topology";
import { Api as SstApi, type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { appFunction, fromTopology, type StageWiring } from "./app-function";
import { BackInStock } from "./BackInStock";
import { Config } from "./Config";
import { apigatewayv2, type Cdk } from "./cdk";
import { Database } from "./Database";
import { Events } from "./Events";

/** The route the legacy factory calls back on. */
export const CALLBACK_ROUTE = "POST /factory/callbacks/{restockId}" satisfies RouteKey;
/** The route customers ask for a back-in-stock mail on. */
export const SUBSCRIPTION_ROUTE = "POST /products/{sku}/subscriptions" satisfies RouteKey;

/**
 * "POST /admin/restocks/{restockId}/re-request" -> "AdminPostRestocksReRequest": path parameters
 * left out, so the function name (<stage>-donut-states-<id>, at most 64 characters) leaves room
 * for the stage name.
 */
export function adminFunctionId(routeKey: string): string {
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
  const { mailQueue } = use(BackInStock);

  // One function per route: what each reads and may do comes from its entry in the topology.
  const wiring: StageWiring = {
    database: access,
    secrets,
    values: {
      EVENT_BUS_NAME: bus.eventBusName,
      FACTORY_DLQ_URL: deadLetterQueue.queueUrl,
      MAIL_QUEUE_URL: mailQueue.queueUrl,
    },
    targets: { bus: bus.eventBusArn, deadLetterQueue: deadLetterQueue.queueArn, mailQueue: mailQueue.queueArn },
  };
  const functions: Partial<Record<RouteKey, SstFunction>> = {};
  const adminFunctions: Partial<Record<AdminRouteKey, SstFunction>> = {};
  for (const [, definition] of routeFunctionEntries()) {
    const { route, authorizer } = definition.trigger;
    if (authorizer === "iam") {
      adminFunctions[route as AdminRouteKey] = appFunction(stack, adminFunctionId(route), settings, fromTopology(definition, wiring));
    } else {
      functions[route as RouteKey] = appFunction(stack, routeFunctionId(route), settings, fromTopology(definition, wiring));
    }
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
  // one too: each accepted request may enqueue a confirmation mail to the address given.
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
