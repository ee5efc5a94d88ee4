/**
 * An EventBridge -> SQS target for the local emulator.
 *
 * With no InputTransformer, an SQS target of a real rule receives the whole
 * event envelope as the message body, JSON-encoded. Consumers (Lambda SQS
 * triggers, pollers) therefore `JSON.parse(record.body)` and read `.detail`;
 * sending the same bytes here keeps that code identical offline.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Deliver, EventEnvelope } from "./emulator";

export function sqsTarget(sqs: SQSClient, queueUrl: string): Deliver {
  return async (event: EventEnvelope) => {
    // A rejection propagates to the emulator, which retries like AWS does
    // when SQS is unavailable.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
  };
}
