import { Function, type StackContext } from "sst/constructs";
import { aws_ec2 as ec2, aws_iam as iam, Duration } from "aws-cdk-lib";

export function Proto({ stack }: StackContext) {
  const vpc = new ec2.Vpc(stack, "Vpc", { maxAzs: 2, natGateways: 1 });
  const sg = new ec2.SecurityGroup(stack, "Sg", { vpc });
  const fn = new Function(stack, "Fn", {
    handler: "packages/functions/src/api/products.list",
    vpc,
    securityGroups: [sg],
    timeout: Duration.seconds(10),
  });
  fn.attachPermissions([new iam.PolicyStatement({ actions: ["events:PutEvents"], resources: ["arn:aws:events:x:y:event-bus/z"] })]);
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: ["arn:aws:sns:x:y:t"] }));
  return { fn };
}
