/** Queues as a stack creates them: converging on the attributes asked for, whatever existed before. */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/**
 * CreateQueue is only idempotent with identical attributes (AWS and fauxqs
 * both throw QueueNameExists otherwise). Re-provisioning with changed
 * settings should converge rather than fail, so fall back to SetQueueAttributes.
 */
export async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!created.QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return created.QueueUrl;
  } catch (err) {
    // The SDK surfaces the query-compatible code, e.g. name
    // "AWS.SimpleQueueService.QueueNameExists", so match loosely.
    const e = err as { name?: string; Code?: string };
    if (!/QueueNameExists|QueueAlreadyExists/.test(`${e.name} ${e.Code}`)) throw err;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw err;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}

/** The ARN of a queue, from its URL (fauxqs and AWS alike answer GetQueueAttributes QueueArn). */
export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`No QueueArn for ${queueUrl}`);
  return arn;
}
