import { and, eq, inArray, lt, notExists, sql } from "drizzle-orm";
import * as Alert from "../alert";
import { query, transaction } from "../drizzle";
import { Events } from "../event";
import * as Outbox from "../outbox";
import { productTable } from "../product/product.sql";
import { ATTENTION_KINDS, type AttentionKind, restockAlertTable, restockRequestTable } from "./restock.sql";

/** One thing operations must act on, and the command that fixes it. */
export interface Attention {
  kind: AttentionKind;
  /** The restock request's id, or the product's SKU for out-without-restock. */
  subject: string;
  sku: string;
  restockId?: string;
  /** Units the restock request asks for (requests only). */
  quantity?: number;
  /** When the problem started: failed at, requested at, last touched, or the product's last change. */
  since: Date;
  /** One line for the e-mail. */
  summary: string;
  fix: string;
}

export interface AttentionThresholds {
  /** A request `requested` this long without a callback is overdue. */
  slaSeconds: number;
  /** A `pending` request nothing has touched (relay, delivery) this long is stuck. */
  pendingSeconds: number;
}

const reRequestCommand = (id: string) => Alert.opsCommand(`restock re-request ${id}`);
const openCommand = (sku: string) => Alert.opsCommand(`restock open ${sku}`);

/**
 * Everything about restocking that needs a human, read from the database (the truth, whatever
 * happened to the messages): failed requests, requests overdue at the factory, pending requests
 * that stopped moving, and products sold out with no request that would restock them.
 */
export async function findAttention({ slaSeconds, pendingSeconds }: AttentionThresholds): Promise<Attention[]> {
  const olderThan = (seconds: number) => sql`DATE_SUB(NOW(3), INTERVAL ${seconds} SECOND)`;
  const [failed, overdue, stuck, soldOut] = await Promise.all([
    query((db) => db.select().from(restockRequestTable).where(eq(restockRequestTable.status, "failed"))),
    query((db) =>
      db
        .select()
        .from(restockRequestTable)
        .where(and(eq(restockRequestTable.status, "requested"), lt(restockRequestTable.requestedAt, olderThan(slaSeconds)))),
    ),
    query((db) =>
      db
        .select()
        .from(restockRequestTable)
        .where(and(eq(restockRequestTable.status, "pending"), lt(restockRequestTable.updatedAt, olderThan(pendingSeconds)))),
    ),
    query((db) =>
      db
        .select({ sku: productTable.sku, updatedAt: productTable.updatedAt })
        .from(productTable)
        .where(
          and(
            eq(productTable.stock, 0),
            notExists(
              db
                .select({ id: restockRequestTable.id })
                .from(restockRequestTable)
                .where(eq(restockRequestTable.openProductId, productTable.id)),
            ),
          ),
        ),
    ),
  ]);
  return [
    ...failed.map((request) => ({
      kind: "failed" as const,
      subject: request.id,
      sku: request.sku,
      restockId: request.id,
      since: request.failedAt ?? request.updatedAt,
      summary: `${request.id}  ${request.sku}  x${request.quantity}  failed ${(request.failedAt ?? request.updatedAt).toISOString()}  after ${request.attempts} call(s): ${request.lastError ?? "no error recorded"}`,
      fix: reRequestCommand(request.id),
    })),
    ...overdue.map((request) => ({
      kind: "overdue" as const,
      subject: request.id,
      sku: request.sku,
      restockId: request.id,
      quantity: request.quantity,
      since: request.requestedAt ?? request.updatedAt,
      summary: `${request.id}  ${request.sku}  x${request.quantity}  factory ${request.factoryId}  requested ${request.requestedAt?.toISOString()}  attempts ${request.attempts}`,
      fix: reRequestCommand(request.id),
    })),
    ...stuck.map((request) => ({
      kind: "stuck-pending" as const,
      subject: request.id,
      sku: request.sku,
      restockId: request.id,
      since: request.updatedAt,
      summary: `${request.id}  ${request.sku}  x${request.quantity}  pending since ${request.createdAt.toISOString()}, unchanged since ${request.updatedAt.toISOString()}, ${request.attempts} call(s)${request.lastError ? `: ${request.lastError}` : ""}`,
      fix: reRequestCommand(request.id),
    })),
    ...soldOut.map((product) => ({
      kind: "out-without-restock" as const,
      subject: product.sku,
      sku: product.sku,
      since: product.updatedAt,
      summary: `${product.sku}  stock 0, no open restock request`,
      fix: openCommand(product.sku),
    })),
  ];
}

/**
 * Of the current problems, those not reported yet. Forgets the reports of problems that are
 * gone, so the same request or product is reported again if it gets stuck again.
 */
export async function unreported(current: Attention[]): Promise<Attention[]> {
  const reported = await query((db) => db.select().from(restockAlertTable));
  const key = (kind: string, subject: string) => `${kind} ${subject}`;
  const currentKeys = new Set(current.map((item) => key(item.kind, item.subject)));
  for (const kind of ATTENTION_KINDS) {
    const gone = reported.filter((row) => row.kind === kind && !currentKeys.has(key(row.kind, row.subject))).map((row) => row.subject);
    if (gone.length)
      await query((db) =>
        db.delete(restockAlertTable).where(and(eq(restockAlertTable.kind, kind), inArray(restockAlertTable.subject, gone))),
      );
  }
  const reportedKeys = new Set(reported.map((row) => key(row.kind, row.subject)));
  return current.filter((item) => !reportedKeys.has(key(item.kind, item.subject)));
}

/**
 * Remember that these were reported. Call only after the alert was published: a failed publish
 * is retried next run. Recording a request as overdue is what makes it overdue for the rest of
 * the system: its RestockOverdue event is written in the same transaction, once per overdue
 * spell (a report already remembered, by this run or a concurrent one, writes none).
 */
export async function markReported(items: Attention[]): Promise<void> {
  if (items.length === 0) return;
  await transaction(async (tx) => {
    for (const item of items) {
      // INSERT IGNORE: affectedRows says whether this call is the one that recorded it.
      const [inserted] = await tx.insert(restockAlertTable).ignore().values({ kind: item.kind, subject: item.subject });
      if (inserted.affectedRows !== 1 || item.kind !== "overdue" || !item.restockId || item.quantity === undefined) continue;
      await Outbox.enqueue(tx, Events.RestockOverdue, {
        restockId: item.restockId,
        sku: item.sku,
        quantity: item.quantity,
        requestedAt: item.since.toISOString(),
        occurredAt: new Date().toISOString(),
      });
    }
  });
}

/** The e-mail for each kind of problem: subject, what it means, and where the runbook explains it. */
const ATTENTION_MAIL: Record<
  AttentionKind,
  { subject: (n: number) => string; intro: (t: AttentionThresholds) => string; runbook: string }
> = {
  failed: {
    subject: (n) => `Restock failed: ${n} request(s) not delivered to the factory`,
    intro: () => "These restock requests could not be handed to the legacy factory (every delivery failed); their products stay sold out:",
    runbook: "docs/runbook.md#restock-failed",
  },
  overdue: {
    subject: (n) => `Restock overdue: ${n} request(s) without factory callback`,
    intro: ({ slaSeconds }) => `The legacy factory accepted these restock requests but has not called back within ${slaSeconds} s:`,
    runbook: "docs/runbook.md#restock-overdue",
  },
  "stuck-pending": {
    subject: (n) => `Restock stuck: ${n} request(s) pending without progress`,
    intro: ({ pendingSeconds }) =>
      `These restock requests are pending and nothing (outbox relay, factory caller) has touched them for ${pendingSeconds} s: their event or message is probably lost:`,
    runbook: "docs/runbook.md#restock-failed",
  },
  "out-without-restock": {
    subject: (n) => `Sold out without restock: ${n} product(s)`,
    intro: () => "These products are at stock 0 and no restock request is open for them, so nothing will restock them:",
    runbook: "docs/runbook.md#restock-failed",
  },
};

/**
 * The watchdog's e-mail about the problems of one kind: each with its summary, then the commands
 * that fix them (naming the stage the function runs in, see Alert.opsCommand).
 */
export function attentionMail(kind: AttentionKind, items: Attention[], thresholds: AttentionThresholds): { subject: string; text: string } {
  const mail = ATTENTION_MAIL[kind];
  const text = [
    mail.intro(thresholds),
    "",
    ...items.map((item) => `- ${item.summary}`),
    "",
    "To fix:",
    ...items.map((item) => `  ${item.fix}`),
    "",
    "A late callback for an earlier attempt is still applied once; duplicates change nothing.",
    `Runbook: ${mail.runbook}`,
  ].join("\n");
  return { subject: mail.subject(items.length), text };
}
