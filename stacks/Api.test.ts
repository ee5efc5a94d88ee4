/** The Api stack: one function per route of the topology, public routes open, admin routes behind AWS_IAM. */
import { adminRoutes, routes } from "@donut-states/core/topology";
import { describe, expect, it } from "vitest";
import { bothStages } from "./test/app";
import { functionFor } from "./test/functions";
import { resourcesOf, single } from "./test/templates";

const stages = bothStages();

describe.each(stages.each)("%s stage", (_name, get) => {
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
      if (synth.mode === "deploy") expect(api.Resources[functionId].Properties.Handler).toBe(handler);
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
});
