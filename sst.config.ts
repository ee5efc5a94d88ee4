import type { SSTConfig } from "sst";
import type { FunctionProps } from "sst/constructs";


export const defaultFunctionProps = {
  runtime: "nodejs22.x",
  architecture: "arm_64",
  nodejs: { format: "esm" },
} satisfies FunctionProps;

export default {
  config() {
    return { name: "donut-states", region: process.env.AWS_REGION ?? "ap-northeast-2" };
  },
  stacks(app) {
    app.setDefaultFunctionProps(defaultFunctionProps);
    
  },
} satisfies SSTConfig;
