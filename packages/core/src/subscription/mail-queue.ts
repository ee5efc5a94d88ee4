import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { awsClientConfig } from "../util/aws";
import { requiredEnv } from "../util/config";
import { DependencyUnavailableError } from "../util/error";
import * as z from "../util/zod";

/**
 * The messages of the customer mail queue: ids only, never an address (the mailer reads the
 * address from the subscription as it sends). One kind per mail we send a customer.
 */
export const MailMessage = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("confirmation"), subscriptionId: z.string() }),
  z.strictObject({ kind: z.literal("back-in-stock"), restockId: z.string(), subscriptionIds: z.array(z.string()) }),
]);
export type MailMessage = z.infer<typeof MailMessage>;

/** A request that enqueues a mail waits this long for SQS at most, then answers 503 (nothing saved). */
export const ENQUEUE_BUDGET_MS = 3_000;

let sqs: SQSClient | undefined;
// One retry within the budget: SendMessage is not idempotent, but a duplicate confirmation
// message only repeats a mail the mailer sends for a subscription that is still pending.
const client = () =>
  (sqs ??= new SQSClient({ ...awsClientConfig({ requestTimeoutMs: 1_000, maxAttempts: 2 }), useQueueUrlAsEndpoint: false }));

/** Put `message` on the mail queue, or throw a 503-able error within ENQUEUE_BUDGET_MS. */
export async function enqueueMail(message: MailMessage): Promise<void> {
  try {
    await client().send(new SendMessageCommand({ QueueUrl: requiredEnv("MAIL_QUEUE_URL"), MessageBody: JSON.stringify(message) }), {
      abortSignal: AbortSignal.timeout(ENQUEUE_BUDGET_MS),
    });
  } catch (error) {
    throw new DependencyUnavailableError("mail queue", error);
  }
}
