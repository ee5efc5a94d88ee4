import { Api as SstApi, type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { type FunctionName, type RouteKey, functions as topologyFunctions, routeFunctions } from "@donut-states/core/topology";
import { type Cdk, apigatewayv2, iam } from "./cdk";
import { Config } from "./Config";
import { Database } from "./Database";
import { Events } from "./Events";
import { type StageWiring, fromTopology, lambda } from "./lambda";

/**
 * What each route's function may do besides reading its settings (those, and the database and
 * secrets they imply, come from the topology's `functions` table). A route added to the topology
 * must be listed here (type error otherwise).
 */
interface RouteAccess {
  /** events:PutEvents on the bus (the sale publishes OutOfStock after commit). */
  publishEvents?: boolean;
}

export const routeAccess = {
  "GET /products": {},
  "GET /products/{sku}": {},
  "POST /orders": { publishEvents: true },
  "POST /factory/callbacks/{restockId}": {},
  $default: {},
} as const satisfies Record<RouteKey, RouteAccess>;

/** The route the legacy factory calls back on. */
export const CALLBACK_ROUTE = "POST /factory/callbacks/{restockId}" satisfies RouteKey;

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
  const { bus } = use(Events);

  const putEvents = new iam.PolicyStatement({
    sid: "PublishToEventBus",
    actions: ["events:PutEvents"],
    resources: [bus.eventBusArn],
  });

  const functions: Partial<Record<RouteKey, SstFunction>> = {};
  const wiring: StageWiring = { database: access, secrets, values: { EVENT_BUS_NAME: bus.eventBusName } };
  for (const [routeKey, name] of Object.entries(routeFunctions) as [RouteKey, FunctionName][]) {
    const needs: RouteAccess = routeAccess[routeKey];
    functions[routeKey] = lambda(stack, routeFunctionId(routeKey), settings, {
      ...fromTopology(topologyFunctions[name], wiring),
      statements: needs.publishEvents ? [putEvents] : [],
    });
  }

  const api = new SstApi(stack, "Api", {
    // Server-to-server API (curl, k6, the factory's callbacks): no browser origins to allow.
    cors: false,
    accessLog: { retention: settings.logRetention },
    defaults: { throttle: settings.apiThrottle },
    routes: Object.fromEntries(Object.entries(functions).map(([routeKey, fn]) => [routeKey, { function: fn }])),
  });

  // The factory's callbacks get their own, smaller throttle (settings.ts), so no flood on that
  // route takes the customers' share of the stage's limit. Route settings name routes by key,
  // so the stage must wait for them.
  const stage = api.cdk.httpApi.defaultStage?.node.defaultChild as Cdk.aws_apigatewayv2.CfnStage | undefined;
  if (!stage) throw new Error("the HTTP API has no default stage");
  stage.addPropertyOverride("RouteSettings", {
    [CALLBACK_ROUTE]: {
      ThrottlingBurstLimit: settings.callbackThrottle.burst,
      ThrottlingRateLimit: settings.callbackThrottle.rate,
    },
  });
  for (const child of stack.node.findAll()) {
    if (child instanceof apigatewayv2.CfnRoute) stage.node.addDependency(child);
  }

  stack.addOutputs({ ApiUrl: api.url });
  return { api, functions: functions as Record<RouteKey, SstFunction> };
}
