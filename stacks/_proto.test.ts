import { test, expect } from "vitest";
import { Template } from "aws-cdk-lib/assertions";
import { initProject } from "sst/project.js";
import { App, getStack } from "sst/constructs";
import { defaultFunctionProps } from "../sst.config";
import { Proto } from "./_Proto";

test("proto", async () => {
  const t0 = Date.now();
  await initProject({ stage: "test" });
  const app = new App({ mode: "deploy", name: "donut-states", stage: "test", region: "ap-northeast-2", account: "123456789012" });
  app.setDefaultFunctionProps(defaultFunctionProps);
  app.stack(Proto);
  await app.finish();
  const t = Template.fromStack(getStack(Proto));
  console.log(Date.now() - t0, JSON.stringify(t.findResources("AWS::Lambda::Function"), null, 1).slice(0, 3000));
  console.log(JSON.stringify(t.findResources("AWS::IAM::Policy"), null, 1));
}, 120000);
