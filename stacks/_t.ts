import type * as A from "../node_modules/sst/node_modules/aws-cdk-lib/index.js";
import type { FunctionProps } from "sst/constructs";
declare const vpc: A.aws_ec2.IVpc;
declare const d: A.Duration;
export const p: FunctionProps = { vpc, timeout: d };
