import { SQSClient } from "@aws-sdk/client-sqs";
import { desc, inArray } from "drizzle-orm";
import * as Alert from "../alert";
import { query } from "../drizzle";
import { dlqAlarmFollowUp } from "../topology";
import { awsClientConfig, SQS_TIMEOUTS } from "../util/aws";
import { requiredEnv } from "../util/config";
import { NotFoundError } from "../util/error";
import { logger } from "../util/log";
import { type PeekedMessage, peekMessages } from "../util/sqs";
import { markFailed } from "./failed";
import { type RestockStatus, restockAttemptTable, restockRequestTable } from "./restock.sql";

/** One restock request found in the DLQ, as the follow-up mail names it. */
export interface DeadLetter {
  restockId: string;
  /** False: no such request in the database (removed since); its message is all there is. */
  known: boolean;
  sku?: string;
  quantity?: number;
  /** Factory calls made for it. */
  attempts: number;
  lastError?: string;
  status?: RestockStatus;
  /** True when this run marked it failed (its last failure had not been recorded). */
  markedNow: boolean;
  /** Its messages in the DLQ (duplicates of one event, or one per re-request). */
  messages: number;
  /** EventBridge could not deliver its event to the factory queue (the message's ERROR_CODE). */
  eventBridgeError?: string;
}

export interface DeadLetterReport {
  requests: DeadLetter[];
  /** DLQ messages that name no restock request (not an OutOfStock event). */
  unreadable: Array<{ messageId: string; body: string }>;
  /** True when the DLQ may hold more than was read (`maxMessages` reached). */
  truncated: boolean;
}

/**
 * Read the DLQ without consuming it and mark every restock request found there `failed`
 * (`markFailed`: idempotent, only `pending` changes). A request whose last delivery failed while
 * the database was down is still `pending` with its message here; nothing else would mark it.
 */
export async function followUpDeadLetters({
  sqs,
  dlqUrl,
  maxMessages,
  holdSeconds,
}: {
  sqs: SQSClient;
  dlqUrl: string;
  maxMessages: number;
  holdSeconds: number;
}): Promise<DeadLetterReport> {
  const messages = await peekMessages(sqs, dlqUrl, { max: maxMessages, holdSeconds });
  const byRequest = new Map<string, PeekedMessage[]>();
  const unreadable: DeadLetterReport["unreadable"] = [];
  for (const message of messages) {
    if (!message.restockId) unreadable.push({ messageId: message.messageId, body: message.body.slice(0, 200) });
    else byRequest.set(message.restockId, [...(byRequest.get(message.restockId) ?? []), message]);
  }

  const requests: DeadLetter[] = [];
  for (const [restockId, found] of byRequest) {
    const eventBridgeError = found.find((message) => message.eventBridgeError)?.eventBridgeError;
    const result = await markFailed(restockId, {
      // A delivery in progress (a re-request's fresh message) decides for itself.
      respectLease: true,
      lastError: eventBridgeError ? `EventBridge could not deliver the event to the factory queue: ${eventBridgeError}` : undefined,
    }).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    requests.push({
      restockId,
      known: result !== undefined,
      attempts: 0,
      markedNow: result?.marked ?? false,
      messages: found.length,
      eventBridgeError,
    });
  }
  await describe(requests);
  logger.warn("restock requests in the DLQ", {
    restockIds: requests.map((request) => request.restockId),
    markedFailed: requests.filter((request) => request.markedNow).map((request) => request.restockId),
    unreadable: unreadable.length,
  });
  return { requests, unreadable, truncated: messages.length >= maxMessages };
}

let sqs: SQSClient | undefined;

/**
 * `followUpDeadLetters` on this stage's factory DLQ (FACTORY_DLQ_URL), with the topology's limits:
 * what the DLQ alarm's follow-up and the watchdog run.
 */
export async function followUpFactoryDeadLetterQueue(): Promise<DeadLetterReport> {
  // The endpoint is the region's (or AWS_ENDPOINT_URL_SQS offline), not the queue URL's host:
  // the same in AWS, and the offline emulator's queue URLs name a host that may not resolve.
  sqs ??= new SQSClient({ ...awsClientConfig(SQS_TIMEOUTS), useQueueUrlAsEndpoint: false });
  return followUpDeadLetters({
    sqs,
    dlqUrl: requiredEnv("FACTORY_DLQ_URL"),
    maxMessages: dlqAlarmFollowUp.maxMessages,
    holdSeconds: dlqAlarmFollowUp.peekHoldSeconds,
  });
}

/** Fill in SKU, quantity, status, calls made and the last error, from the database. */
async function describe(requests: DeadLetter[]): Promise<void> {
  const ids = requests.filter((request) => request.known).map((request) => request.restockId);
  if (ids.length === 0) return;
  const rows = await query((db) => db.select().from(restockRequestTable).where(inArray(restockRequestTable.id, ids)));
  const attempts = await query((db) =>
    db.select().from(restockAttemptTable).where(inArray(restockAttemptTable.restockId, ids)).orderBy(desc(restockAttemptTable.attempt)),
  );
  for (const request of requests) {
    const row = rows.find((candidate) => candidate.id === request.restockId);
    if (!row) continue;
    // The newest recorded error: the request's own, else its latest factory call's.
    const latestCallError = attempts.find((attempt) => attempt.restockId === row.id && attempt.error)?.error ?? undefined;
    Object.assign(request, {
      sku: row.sku,
      quantity: row.quantity,
      attempts: row.attempts,
      status: row.status,
      lastError: row.lastError ?? latestCallError,
    });
  }
}

/**
 * The follow-up e-mail: each request with what is known about it, then exactly what to run (the
 * commands name the stage the function runs in, see Alert.opsCommand).
 */
export function deadLetterMail(
  report: DeadLetterReport,
  { alarmName, at }: { alarmName: string; at: string },
): { subject: string; text: string } {
  const { requests, unreadable, truncated } = report;
  const ops = (command: string) => `  ${Alert.opsCommand(command)}`;
  const lines = [
    `The alarm "${alarmName}" went to ALARM at ${at}. The factory dead-letter queue holds these restock requests: the legacy factory has not got them, and their products stay sold out until you act. Those still pending are marked failed now.`,
    "",
  ];
  requests.forEach((request, index) => {
    lines.push(`${index + 1}. Restock request ${request.restockId}`);
    if (!request.known) {
      lines.push("   Not in the database (removed since): a redrive drops its message.", "");
      return;
    }
    lines.push(
      `   SKU:         ${request.sku}`,
      `   Quantity:    ${request.quantity}`,
      `   Attempts:    ${request.attempts} factory call(s)${request.messages > 1 ? `, ${request.messages} messages in the DLQ` : ""}`,
      `   Last error:  ${request.lastError ?? "none recorded"}`,
      `   Status:      ${request.status}${request.markedNow ? " (marked failed now: its last failure could not be recorded when it happened)" : ""}`,
    );
    if (request.eventBridgeError)
      lines.push("   EventBridge never delivered it to the factory queue: the factory has not been asked at all.");
    lines.push("");
  });
  for (const message of unreadable) lines.push(`- DLQ message ${message.messageId} names no restock request: ${message.body}`, "");
  if (truncated)
    lines.push(`Only the first ${requests.length + unreadable.length} message(s) were read; \`dlq peek --max\` shows more.`, "");
  lines.push(
    "Inspect:",
    ops("dlq peek"),
    ops("restock list --status failed"),
    "",
    "Fix the cause first (the factory, its URL, the timeout), then redrive, one message first as a canary:",
    ops("dlq redrive --max 1"),
    ops("dlq redrive --rate 2/s"),
    "",
    `A request whose message is no longer in the DLQ: ${Alert.opsCommand("restock re-request <restockId>")}`,
    "Runbook: docs/runbook.md#dlq-alarm",
  );
  const named =
    requests.length === 1 ? `${requests[0].restockId} (${requests[0].sku ?? "unknown"})` : `${requests.length} restock requests`;
  return { subject: `Restock DLQ: ${named} not delivered to the factory`, text: lines.join("\n") };
}
