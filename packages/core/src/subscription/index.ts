import { SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import * as Product from "../product";
import { backInStockFilterPolicy } from "../topology";
import { awsClientConfig } from "../util/aws";
import { requiredEnv } from "../util/config";
import { AppError, DependencyUnavailableError, ValidationError } from "../util/error";
import { logger } from "../util/log";
import * as z from "../util/zod";
import { Email, normalizeEmail } from "./email";

export { Email, MAX_EMAIL_LENGTH, normalizeEmail } from "./email";
export { announceBackInStock, backInStockMessage } from "./notice";

/**
 * "Tell me when it's back": a customer's subscription is an SNS e-mail subscription on the
 * back-in-stock topic whose filter policy names the SKU. Nothing about it is written to our
 * database: SNS keeps the address, sends its confirmation mail (the double opt-in: nothing is
 * delivered before the owner clicks "Confirm subscription"), and puts an unsubscribe link in
 * every mail. docs/design.md, "Back-in-stock notifications", says what is stored where.
 */

export const SubscriptionRequest = z.strictObject(
  { email: Email },
  {
    error: (issue: { code?: string; keys?: string[] }) =>
      issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys?.join(", ")}` : undefined,
  },
);
export type SubscriptionRequest = z.infer<typeof SubscriptionRequest>;

export interface SubscriptionView {
  sku: string;
  email: string;
  /** Always this: SNS tells us nothing else without a read that would reveal other subscribers. */
  status: "pending-confirmation";
}

let sns: SNSClient | undefined;
const client = () => (sns ??= new SNSClient(awsClientConfig()));

/** SNS's answer to a second subscription of the same address on the topic with another filter policy. */
const OTHER_ATTRIBUTES = /already exists with different attributes/i;

/**
 * Ask SNS to e-mail `email` when `sku` is back. Idempotent: SNS answers a Subscribe with the same
 * topic, address and attributes with the subscription it already has (a pending one gets its
 * confirmation mail again). The answer is the same whether the address was new, pending or
 * confirmed, so it tells a caller nothing about someone else's subscription.
 */
export async function subscribe(sku: string, rawEmail: string): Promise<SubscriptionView> {
  const email = normalizeEmail(rawEmail);
  await Product.fromSku(sku); // 404 PRODUCT_NOT_FOUND before anything reaches SNS
  try {
    await client().send(
      new SubscribeCommand({
        TopicArn: requiredEnv("BACK_IN_STOCK_TOPIC_ARN"),
        Protocol: "email",
        Endpoint: email,
        Attributes: { FilterPolicy: JSON.stringify(backInStockFilterPolicy(sku)) },
      }),
    );
  } catch (error) {
    throw subscribeError(error, sku);
  }
  return { sku, email, status: "pending-confirmation" };
}

function subscribeError(error: unknown, sku: string): AppError {
  const { name = "", message = "" } = error as { name?: string; message?: string };
  if (/InvalidParameter/.test(name) && OTHER_ATTRIBUTES.test(message)) {
    // One SNS subscription per address and topic: its filter policy names one product.
    return new AppError(
      409,
      "SUBSCRIBED_TO_ANOTHER_PRODUCT",
      `This address already waits for another product. One product per address: unsubscribe with the link in our mails, then ask for ${sku}.`,
      { sku },
    );
  }
  if (/InvalidParameter/.test(name)) return new ValidationError(`email: SNS refused the address (${message.slice(0, 200)})`);
  logger.warn("sns subscribe failed", { sku, error });
  return new DependencyUnavailableError("notification service", error);
}
