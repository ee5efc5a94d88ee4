import { type BusRule, type FunctionDefinition, type FunctionName, functions } from "@donut-states/core/topology";
import type { App, EventBus, Function as SstFunction, Stack } from "sst/constructs";
import { appFunction, fromTopology, functionId, type StageWiring } from "./app-function";
import { type Cdk, Duration, events, eventsTargets, sqs } from "./cdk";
import { toCdkEventPattern } from "./event-pattern";
import type { StageSettings } from "./settings";

/** A function a rule on our bus runs, with its rule and the rule's failed-events queue. */
export interface BusRuleFunction {
  fn: SstFunction;
  rule: Cdk.aws_events.Rule;
  failedEvents: Cdk.aws_sqs.Queue;
}

/** Lambda's retries of an asynchronous invocation, and EventBridge's of its delivery. */
const BUS_RULE_RETRIES = { retryAttempts: 2, maxEventAge: Duration.hours(1) };

/** "back-in-stock-failed-events" -> "BackInStockFailedEvents". */
const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase());

/**
 * Every function of the topology's `functions` table triggered by a rule on our bus (`busRule`),
 * each built by `busRuleFunction` with the stage's wiring (what its reads and grants name).
 */
export function busRuleFunctions(
  { stack, app }: { stack: Stack; app: App },
  settings: StageSettings,
  { bus, wiring }: { bus: EventBus; wiring: StageWiring },
): Partial<Record<FunctionName, BusRuleFunction>> {
  return Object.fromEntries(
    (Object.entries(functions) as [FunctionName, FunctionDefinition][]).flatMap(([name, definition]) =>
      "busRule" in definition.trigger
        ? [[name, busRuleFunction({ stack, app }, settings, { name, definition, rule: definition.trigger.busRule, bus, wiring })]]
        : [],
    ),
  );
}

/**
 * One `busRule` function: the rule on our bus with the topology's pattern, the function its one
 * target. EventBridge invokes it asynchronously and retries its delivery for up to an hour; an
 * event it cannot deliver goes to the rule's failed-events queue (whose policy then lets this
 * rule send to it). Lambda retries a failed invocation twice within the hour, then sends its
 * invocation record (the event and the last error) to the same queue: the function's on-failure
 * destination, by ARN rather than CDK's SqsDestination, which would also grant
 * sqs:GetQueueAttributes and sqs:GetQueueUrl (grants.ts grants sqs:SendMessage alone).
 * (`sst dev`'s live stubs are not retried; the destination still applies.) The alarm on the
 * queue's depth is in Monitoring.
 */
function busRuleFunction(
  { stack, app }: { stack: Stack; app: App },
  settings: StageSettings,
  {
    name,
    definition,
    rule,
    bus,
    wiring,
  }: { name: FunctionName; definition: FunctionDefinition; rule: BusRule; bus: EventBus; wiring: StageWiring },
): BusRuleFunction {
  const failedEvents = new sqs.Queue(stack, pascal(rule.failedEvents.queueName), {
    queueName: app.logicalPrefixedName(rule.failedEvents.queueName),
    retentionPeriod: Duration.seconds(rule.failedEvents.retentionSeconds),
    // SSE-SQS: both Lambda and EventBridge can send to it (a KMS key would need grants for both).
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  const fn = appFunction(stack, functionId(name), settings, {
    ...fromTopology(definition, { ...wiring, targets: { ...wiring.targets, failedEvents: failedEvents.queueArn } }),
    ...BUS_RULE_RETRIES,
    onFailure: { bind: () => ({ destination: failedEvents.queueArn }) },
  });
  const cdkRule = new events.Rule(stack, pascal(rule.name), {
    ruleName: app.logicalPrefixedName(rule.name),
    description: rule.description,
    eventBus: bus.cdk.eventBus,
    eventPattern: toCdkEventPattern(rule.pattern),
    targets: [new eventsTargets.LambdaFunction(fn, { ...BUS_RULE_RETRIES, deadLetterQueue: failedEvents })],
  });
  return { fn, rule: cdkRule, failedEvents };
}
