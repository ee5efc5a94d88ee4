import { alertsTopic } from "@donut-states/core/topology";
import { type StackContext, use } from "sst/constructs";
import { Config } from "./Config";
import { iam, sns, snsSubscriptions } from "./cdk";

/**
 * The operations alerts topic and its e-mail subscribers (ALERT_EMAILS, see settings.ts).
 * It comes early in the stack order because the restock watchdog publishes to it; the alarms
 * that publish to it are in Monitoring, the last stack.
 *
 * SNS sends each address a confirmation e-mail: nothing is delivered to an address until its
 * owner clicks "Confirm subscription" (docs/deploy.md).
 */
export function Alerts({ stack, app }: StackContext) {
  const { settings } = use(Config);
  const topic = new sns.Topic(stack, "Topic", {
    topicName: app.logicalPrefixedName(alertsTopic.name),
    displayName: `Donut-States ${app.stage} alerts`,
    // Deny publishing over plain HTTP.
    enforceSSL: true,
  });
  // enforceSSL writes a topic policy, and a topic policy replaces SNS's default one, which is
  // what let CloudWatch alarms publish. Allow them again: this account's alarms of this stage only.
  // (The watchdog publishes with its role's identity policy, which suffices in the same account.)
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchAlarmsOfThisStage",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { "aws:SourceAccount": stack.account },
        ArnLike: {
          "aws:SourceArn": `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${app.logicalPrefixedName("")}*`,
        },
      },
    }),
  );
  for (const email of settings.alertEmails) {
    topic.addSubscription(new snsSubscriptions.EmailSubscription(email));
  }
  stack.addOutputs({ AlertsTopicArn: topic.topicArn });
  return { topic };
}
