/**
 * `ops back-in-stock peek [--max n]` and `ops back-in-stock replay [--max n] [--yes]`: the RestockFulfilled
 * events the back-in-stock notifier could not handle, kept in its failed-events queue (Lambda's
 * invocation records after its retries, or events EventBridge could not deliver). Replay puts
 * each event back on the bus, where the rule runs the notifier again, and deletes it from the
 * queue only once EventBridge has accepted it.
 */

import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { DeleteMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { backInStockRule } from "@donut-states/core/topology";
import { peekMessages, queueDepth, receiveMessages, releaseMessages } from "@donut-states/core/util/sqs";
import type { Command } from "commander";
import type { CommandRunner } from "./command-runner";
import { parseMax } from "./dlq";
import { age, confirmPlan, EXIT, emit, table } from "./output";

/** An event of the queue: what was to be handled, and why it was not. */
export interface FailedEvent {
  messageId: string;
  sentAt?: string;
  /** The event as the rule matched it (an EventBridge envelope), when the body holds one. */
  event?: { id?: string; source?: string; "detail-type"?: string; detail?: Record<string, unknown> };
  /** "notifier": Lambda gave up after its retries; "eventbridge": EventBridge could not invoke it. */
  failedIn: "notifier" | "eventbridge" | "unknown";
  error?: string;
  invocations?: number;
}

/** Read a message of the failed-events queue: a Lambda invocation record, or the bare event EventBridge dead-lettered. */
export function readFailedEvent(message: { messageId: string; body: string; sentAt?: string; eventBridgeError?: string }): FailedEvent {
  // biome-ignore lint/suspicious/noExplicitAny: untrusted JSON, checked field by field below.
  let parsed: Record<string, any> | undefined;
  try {
    const value = JSON.parse(message.body);
    if (value && typeof value === "object" && !Array.isArray(value)) parsed = value;
  } catch {
    // Not JSON: shown as unknown, never replayed.
  }
  const base = { messageId: message.messageId, sentAt: message.sentAt };
  if (parsed?.requestContext?.condition && parsed.requestPayload) {
    return {
      ...base,
      event: parsed.requestPayload,
      failedIn: "notifier",
      error:
        [parsed.responsePayload?.errorType, parsed.responsePayload?.errorMessage].filter(Boolean).join(": ") ||
        parsed.requestContext.condition,
      invocations: parsed.requestContext.approximateInvokeCount,
    };
  }
  if (parsed?.["detail-type"]) return { ...base, event: parsed, failedIn: "eventbridge", error: message.eventBridgeError };
  return { ...base, failedIn: "unknown", error: "not an event this queue holds" };
}

/** Only what the rule itself would have matched goes back on the bus. */
type ReplayableEvent = NonNullable<FailedEvent["event"]> &
  Required<Pick<NonNullable<FailedEvent["event"]>, "source" | "detail-type" | "detail">>;
function replayable(event: FailedEvent["event"]): event is ReplayableEvent {
  const pattern = backInStockRule.pattern;
  return Boolean(
    event?.source &&
      pattern.source.includes(event.source as never) &&
      event["detail-type"] &&
      pattern["detail-type"].includes(event["detail-type"] as never) &&
      event.detail &&
      typeof event.detail === "object",
  );
}

export interface ReplayResult {
  replayed: number;
  /** Messages left in the queue because they are not a RestockFulfilled event. */
  skipped: string[];
  /** Why the replay stopped before the queue was empty (EventBridge refused an event). */
  stoppedBecause?: string;
}

/**
 * Put each event back on the bus, then delete its message; stop at the first event EventBridge
 * refuses. Messages are held (invisible) while this runs and released at the end when not replayed.
 */
export async function replayFailedEvents(
  sqs: SQSClient,
  eventBridge: EventBridgeClient,
  { queueUrl, eventBusName, max = Number.POSITIVE_INFINITY }: { queueUrl: string; eventBusName: string; max?: number },
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: 0, skipped: [] };
  const unreplayed: Message[] = [];
  try {
    while (result.replayed + result.skipped.length < max && !result.stoppedBecause) {
      const messages = await receiveMessages(sqs, queueUrl, max - result.replayed - result.skipped.length, 60, 0);
      if (messages.length === 0) break;
      for (const message of messages) {
        const failed = readFailedEvent({
          messageId: message.MessageId ?? "",
          body: message.Body ?? "",
          eventBridgeError: message.MessageAttributes?.ERROR_CODE?.StringValue,
        });
        if (result.stoppedBecause || !replayable(failed.event)) {
          if (!result.stoppedBecause) result.skipped.push(failed.messageId);
          unreplayed.push(message);
          continue;
        }
        const entry = {
          Source: failed.event.source,
          DetailType: failed.event["detail-type"],
          Detail: JSON.stringify(failed.event.detail),
          EventBusName: eventBusName,
        };
        const refused = await eventBridge.send(new PutEventsCommand({ Entries: [entry] })).then(
          (answer) => (answer.FailedEntryCount ? `${answer.Entries?.[0]?.ErrorCode}: ${answer.Entries?.[0]?.ErrorMessage}` : undefined),
          (error: Error) => `${error.name}: ${error.message}`,
        );
        if (refused) {
          result.stoppedBecause = `EventBridge refused event ${failed.event.id ?? failed.messageId} (${refused})`;
          unreplayed.push(message);
          continue;
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        result.replayed++;
      }
    }
  } finally {
    // Visible again at once: the alarm keeps seeing them, and the next replay finds them.
    await releaseMessages(sqs, queueUrl, unreplayed);
  }
  return result;
}

export function registerBackInStock(program: Command, runner: CommandRunner): void {
  const group = program
    .command("back-in-stock")
    .description("RestockFulfilled events the back-in-stock notifier could not handle (its failed-events queue)");

  group
    .command("peek", { isDefault: true })
    .description("show the failed events without consuming them: SKU, restock, why they failed")
    .option("-m, --max <n>", "at most n messages (default 10)")
    .action(
      runner.action(async (ctx, io, options: { max?: string }) => {
        const max = parseMax(options.max, { upTo: 1000 }) ?? 10;
        const sqs = ctx.sqs();
        const queueUrl = ctx.backInStockFailedEventsUrl();
        const events = (await peekMessages(sqs, queueUrl, { max })).map(readFailedEvent);
        const depth = await queueDepth(sqs, queueUrl);
        emit(io, ctx.json, { queueUrl, depth, events }, () =>
          events.length === 0
            ? `No failed back-in-stock events (${depth.inFlight} in flight).`
            : [
                table(events, [
                  { header: "SKU", value: (row) => String(row.event?.detail?.sku ?? "") },
                  { header: "RESTOCK", value: (row) => String(row.event?.detail?.restockId ?? "") },
                  { header: "FAILED IN", value: (row) => (row.invocations ? `${row.failedIn} (${row.invocations}x)` : row.failedIn) },
                  { header: "SENT", value: (row) => (row.sentAt ? `${age(new Date(row.sentAt))} ago` : ""), align: "right" },
                  { header: "ERROR", value: (row) => (row.error ?? "").slice(0, 80) },
                ]),
                "",
                `${events.length} shown; the queue holds about ${depth.visible} (+${depth.inFlight} in flight). Nothing was consumed.`,
                "Fix the cause (docs/runbook.md#back-in-stock-failed-events), then: npm run ops -- back-in-stock replay",
              ].join("\n"),
        );
      }),
    );

  group
    .command("replay")
    .description("put each failed RestockFulfilled back on the bus (the notifier runs again), deleting it once EventBridge accepts it")
    .option("-m, --max <n>", "replay at most n events")
    .option("-y, --yes", "go ahead without asking (needed where there is no terminal to ask: scripts)")
    .action(
      runner.action(async (ctx, io, options: { max?: string; yes?: boolean }) => {
        const max = parseMax(options.max);
        const sqs = ctx.sqs();
        const queueUrl = ctx.backInStockFailedEventsUrl();
        const eventBusName = ctx.eventBusName();
        const what =
          max === undefined
            ? `the RestockFulfilled events of the failed-events queue ${queueUrl} (about ${(await queueDepth(sqs, queueUrl)).visible} message(s))`
            : `at most ${max} RestockFulfilled event(s) of the failed-events queue ${queueUrl}`;
        await confirmPlan(io, `About to put ${what} back on bus ${eventBusName}: the notifier mails their subscribers.`, options.yes);
        const result = await replayFailedEvents(sqs, ctx.eventBridge(), { queueUrl, eventBusName, max });
        emit(io, ctx.json, result, () =>
          [
            `Replayed ${result.replayed} event(s) to the bus${result.replayed ? ": the notifier mails their subscribers now" : ""}.`,
            ...(result.skipped.length
              ? [`Left ${result.skipped.length} message(s) that are not RestockFulfilled events in the queue: ${result.skipped.join(", ")}`]
              : []),
            ...(result.stoppedBecause ? [`Stopped: ${result.stoppedBecause}. The rest stay in the queue.`] : []),
          ].join("\n"),
        );
        return result.stoppedBecause ? EXIT.failed : EXIT.ok;
      }),
    );
}
