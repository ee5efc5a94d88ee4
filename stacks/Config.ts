import { Config as SstConfig, type StackContext } from "sst/constructs";
import { stageSettings } from "./settings";

/**
 * Stage settings and the SST Secrets (values live in SSM Parameter Store as SecureStrings under
 * /sst/donut-states/<stage>/Secret/<NAME>/value, set with `npx sst secrets set`). Secrets create
 * no CloudFormation resource; binding one to a function grants ssm:GetParameters on exactly its
 * two paths (the stage's and the app's .fallback) and sets SST_Secret_value_<NAME>.
 * They are encrypted with the AWS-managed key aws/ssm, whose key policy lets any principal of
 * the account decrypt through SSM: no kms:Decrypt statement is needed.
 */
export function Config({ stack, app }: StackContext) {
  const settings = stageSettings(app);
  const secrets = {
    /** HMAC key of the factory's callback URLs (factory caller signs, callback verifies). */
    FACTORY_CALLBACK_SECRET: new SstConfig.Secret(stack, "FACTORY_CALLBACK_SECRET"),
    /** Only during a rotation of the above (docs/runbook.md): still accepted by the callback route; unset otherwise. */
    FACTORY_CALLBACK_SECRET_PREVIOUS: new SstConfig.Secret(stack, "FACTORY_CALLBACK_SECRET_PREVIOUS"),
    /** HMAC key of the links in customer mails (confirm, unsubscribe); at least 32 bytes. */
    SUBSCRIPTION_TOKEN_SECRET: new SstConfig.Secret(stack, "SUBSCRIPTION_TOKEN_SECRET"),
    /** Only during a rotation of the above (docs/runbook.md): links signed with it still work; unset otherwise. */
    SUBSCRIPTION_TOKEN_SECRET_PREVIOUS: new SstConfig.Secret(stack, "SUBSCRIPTION_TOKEN_SECRET_PREVIOUS"),
    /** `sst dev` stages (settings.database === "url"): the developer's MySQL URL. */
    DATABASE_URL: settings.database === "url" ? new SstConfig.Secret(stack, "DATABASE_URL") : undefined,
  };
  return { settings, secrets };
}
