import { EventEmitter } from "node:events";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { dlqAlarm, dlqAlarmFollowUp, type FunctionDefinition, factoryQueue, functions, outOfStockRule } from "@donut-states/core/topology";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import {
  type AsyncInvocationFailureRecord,
  type EventBridgeEmulator,
  type EventEnvelope,
  lambdaTarget,
  sqsTarget,
  startEventBridge,
} from "@donut-states/emulators/eventbridge";
import type { HandlerPool } from "@donut-states/emulators/runtime";
import { type ProvisionedTopology, provisionTopology } from "../aws/topology";
import type { OfflineConfig } from "../config";
import { listeningOn } from "../ports";
import { handlerPool } from "../runtime";
import { type Log, type Step, step } from "./step";

export interface Messaging {
  aws: SqsSnsEmulator;
  topology: ProvisionedTopology;
  eventBridge: EventBridgeEmulator;
  /** The DLQ follow-up's execution environments, the target of its rule (warmed with the other runtimes). */
  followUp: HandlerPool;
  /** The execution environments of the functions rules on our bus run (`busRule` triggers). */
  busRulePools: HandlerPool[];
  /** "delivered" once such a function is done with an event (Lambda's retries included). */
  busRuleDeliveries: EventEmitter<{ delivered: [rule: string, event: EventEnvelope] }>;
}

/**
 * SQS + SNS with the queues and topics of the shared topology; EventBridge with the OutOfStock
 * rule -> factory queue, on the default bus (where CloudWatch sends alarm state changes) the DLQ
 * alarm's rule -> its follow-up function, and the rule of every function the topology triggers
 * by a rule on our bus (as the stacks build them).
 */
export function startMessaging(config: OfflineConfig, log: Log): Promise<Step<Messaging>> {
  return step(log, async (onStop) => {
    const { HOST: host, AWS_REGION: region } = config;
    const aws = await listeningOn("SQS_PORT", { host, port: config.SQS_PORT }, () => startSqsSns({ port: config.SQS_PORT, host, region }));
    onStop(() => aws.close());
    const topology = await provisionTopology({
      sqs: aws.sqs,
      sns: aws.sns,
      settings: {
        visibilityTimeoutSeconds: config.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        maxReceiveCount: config.QUEUE_MAX_RECEIVE_COUNT,
      },
    });

    const followUp = handlerPool(functions.dlqFollowUp.handler);
    const followUpTarget = lambdaTarget(followUp, functions.dlqFollowUp.timeoutSeconds * 1000, {
      log: (line) => log(`[eventbridge] ${line}`),
    });
    const busRuleDeliveries = new EventEmitter<{ delivered: [rule: string, event: EventEnvelope] }>();
    const busRuleTargets = (Object.values(functions) as FunctionDefinition[]).flatMap(({ handler, timeoutSeconds, trigger }) => {
      if (!("busRule" in trigger)) return [];
      const pool = handlerPool(handler);
      // Lambda's on-failure destination: the rule's failed-events queue gets the invocation record.
      const onFailure = {
        functionArn: `arn:aws:lambda:${region}:${aws.accountId}:function:${pool.functionName}`,
        send: async (record: AsyncInvocationFailureRecord) => {
          await aws.sqs.send(
            new SendMessageCommand({ QueueUrl: topology.failedEventsQueueUrls[trigger.busRule.name], MessageBody: JSON.stringify(record) }),
          );
        },
      };
      return [
        {
          rule: trigger.busRule,
          pool,
          deliver: lambdaTarget(pool, timeoutSeconds * 1000, { log: (line) => log(`[eventbridge] ${line}`), onFailure }),
        },
      ];
    });
    const eventBridge = await listeningOn("EVENTBRIDGE_PORT", { host, port: config.EVENTBRIDGE_PORT }, () =>
      startEventBridge({
        port: config.EVENTBRIDGE_PORT,
        host,
        region,
        accountId: aws.accountId,
        rules: [
          {
            name: outOfStockRule.name,
            pattern: outOfStockRule.pattern,
            targets: [{ id: factoryQueue.name, deliver: sqsTarget(aws.sqs, topology.factoryQueueUrl) }],
          },
          {
            name: dlqAlarmFollowUp.name,
            pattern: dlqAlarmFollowUp.pattern(dlqAlarm.name),
            targets: [{ id: "dlq-follow-up", deliver: followUpTarget }],
          },
          ...busRuleTargets.map(({ rule, pool, deliver }) => ({
            name: rule.name,
            pattern: rule.pattern,
            targets: [
              {
                id: pool.functionName,
                // Its invocation (with Lambda's retries) is over: tests wait for this, not for time.
                deliver: async (event: EventEnvelope) => {
                  await deliver(event);
                  busRuleDeliveries.emit("delivered", rule.name, event);
                },
              },
            ],
          })),
        ],
        log: (message, error) => log(`[eventbridge] ${message}${error ? `: ${(error as Error).message}` : ""}`),
      }),
    );
    onStop(() => eventBridge.close());
    onStop(() => followUpTarget.stop());
    for (const { deliver } of busRuleTargets) onStop(() => deliver.stop());
    return { aws, topology, eventBridge, followUp, busRulePools: busRuleTargets.map(({ pool }) => pool), busRuleDeliveries };
  });
}
