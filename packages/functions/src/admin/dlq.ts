import { SQSClient } from "@aws-sdk/client-sqs";
import { dlqAlarm } from "@donut-states/core/topology";
import { awsClientConfig, SQS_TIMEOUTS } from "@donut-states/core/util/aws";
import { requiredEnv } from "@donut-states/core/util/config";
import { DependencyUnavailableError } from "@donut-states/core/util/error";
import { queueDepth } from "@donut-states/core/util/sqs";
import { json } from "../api/http";
import { adminHandler, caller } from "./http";

let sqs: SQSClient | undefined;

/** GET /admin/dlq: how many messages wait in the factory DLQ (the DLQ alarm's metric) and how many are in flight. */
export const depth = adminHandler(async (event) => {
  caller(event);
  // The endpoint from the SDK's configuration (AWS_ENDPOINT_URL_SQS offline), not the queue URL's host.
  sqs ??= new SQSClient({ ...awsClientConfig(SQS_TIMEOUTS), useQueueUrlAsEndpoint: false });
  const queueUrl = requiredEnv("FACTORY_DLQ_URL");
  try {
    const depth = await queueDepth(sqs, queueUrl);
    return json(200, { dlq: { queueUrl, ...depth, alarmThreshold: dlqAlarm.threshold, alarming: depth.visible >= dlqAlarm.threshold } });
  } catch (error) {
    throw new DependencyUnavailableError("queue service", error);
  }
});
