import { and, asc, eq, gt, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import { type Executor, query, type Transaction, transaction } from "../drizzle";
import * as Product from "../product";
import { productTable } from "../product/product.sql";
import { subscriptionPolicy } from "../topology";
import { intEnv } from "../util/config";
import { newId } from "../util/id";
import { logger } from "../util/log";
import * as z from "../util/zod";
import { Email, normalizeEmail } from "./email";
import { type CustomerMail, confirmationMail } from "./mail";
import { enqueueMail } from "./mail-queue";
import {
  type EndedStatus,
  OPEN_SUBSCRIPTION_STATUSES,
  type SubscriptionStatus,
  subscriptionAddressTable,
  subscriptionTable,
} from "./subscription.sql";
import { confirmLink, unsubscribeLink } from "./token";

export { Email, MAX_EMAIL_LENGTH, normalizeEmail } from "./email";
export { type ConfirmationFacts, type CustomerMail, confirmationMail, unsubscribeHeaders } from "./mail";
export { ENQUEUE_BUDGET_MS, MailMessage } from "./mail-queue";
export { announceBackInStock, backInStockMessage } from "./notice";
export {
  ENDED_SUBSCRIPTION_STATUSES,
  type EndedStatus,
  OPEN_SUBSCRIPTION_STATUSES,
  SUBSCRIPTION_STATUSES,
  type SubscriptionStatus,
  subscriptionAddressTable,
  subscriptionTable,
} from "./subscription.sql";
export { checkToken, confirmLink, type LinkPurpose, signToken, type TokenCheck, unsubscribeLink } from "./token";

/**
 * "Tell me when it's back": a customer asks for a product with an address, confirms through the
 * link in the mail that follows (double opt-in), and gets one mail when the product is back, which
 * ends the subscription. docs/design.md, "Back-in-stock notifications", has the states, the abuse
 * limits and what is stored for how long.
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
  /** Always this, whatever the address's state: the answer tells nobody what someone else asked for. */
  status: "pending-confirmation";
}

/** The abuse limits in force (the topology's defaults, or the settings that override them). */
export function limits() {
  return {
    cooldownSeconds: intEnv("SUBSCRIPTION_COOLDOWN_SECONDS", subscriptionPolicy.confirmationCooldownSeconds, { max: 7 * 24 * 60 * 60 }),
    maxOpen: intEnv("SUBSCRIPTION_MAX_OPEN", subscriptionPolicy.maxOpenPerAddress, { min: 1, max: 1000 }),
  };
}

/** What a request did, for the log and the tests; never part of the answer. */
export type RequestOutcome = "created" | "mailed-again" | "cooling-down" | "already-confirmed" | "over-limit";

/**
 * Ask to hear when `sku` is back. The answer is the same whatever the address's state; what
 * happens differs:
 * - no open subscription for this product: a pending one, unless the address already has
 *   `maxOpen` open ones (then nothing is stored);
 * - a pending one, or the new one: its confirmation mail is enqueued, unless the address was sent
 *   one within the cool-down (a mail again renews the pending subscription's 48 hours);
 * - a confirmed one: nothing.
 * The address's row in `subscription_address` is locked first, so racing requests for one address
 * take turns. The mail is enqueued last, inside the transaction: if SQS fails, nothing is saved
 * and the caller gets a 503.
 */
export async function request(sku: string, rawEmail: string): Promise<SubscriptionView & { outcome: RequestOutcome }> {
  const email = normalizeEmail(rawEmail);
  const product = await Product.refOf(sku);
  const { cooldownSeconds, maxOpen } = limits();
  const { id, outcome } = await transaction(async (tx) => {
    await tx
      .insert(subscriptionAddressTable)
      .values({ email })
      .onDuplicateKeyUpdate({ set: { email: sql`${subscriptionAddressTable.email}` } });
    const [state] = await tx
      .select({
        coolingDown: sql<number>`COALESCE(${subscriptionAddressTable.confirmationMailedAt} > NOW(3) - INTERVAL ${cooldownSeconds} SECOND, 0)`,
        open: sql<number>`(SELECT COUNT(*) FROM ${subscriptionTable} WHERE ${subscriptionTable.openEmail} = ${email})`,
        id: subscriptionTable.id,
        status: subscriptionTable.status,
      })
      .from(subscriptionAddressTable)
      .leftJoin(
        subscriptionTable,
        and(eq(subscriptionTable.openEmail, subscriptionAddressTable.email), eq(subscriptionTable.productId, product.id)),
      )
      .where(eq(subscriptionAddressTable.email, email));
    const coolingDown = Number(state.coolingDown) === 1;
    if (state.status === "confirmed") return { id: state.id, outcome: "already-confirmed" as const };
    if (state.id === null && Number(state.open) >= maxOpen) return { id: null, outcome: "over-limit" as const };
    if (state.id === null) {
      const created = newId();
      await tx.insert(subscriptionTable).values({ id: created, productId: product.id, email });
      if (!coolingDown) await mailConfirmation(tx, created, email);
      return { id: created, outcome: coolingDown ? ("cooling-down" as const) : ("created" as const) };
    }
    if (coolingDown) return { id: state.id, outcome: "cooling-down" as const };
    await tx.update(subscriptionTable).set({ requestedAt: sql`NOW(3)` }).where(eq(subscriptionTable.id, state.id));
    await mailConfirmation(tx, state.id, email);
    return { id: state.id, outcome: "mailed-again" as const };
  });
  logger.info("back-in-stock subscription requested", { sku: product.sku, subscriptionId: id ?? undefined, outcome });
  return { sku: product.sku, email, status: "pending-confirmation", outcome };
}

/** Record the address's confirmation mail (its cool-down starts) and enqueue it: the last step before COMMIT. */
async function mailConfirmation(tx: Transaction, id: string, email: string): Promise<void> {
  await tx.update(subscriptionAddressTable).set({ confirmationMailedAt: sql`NOW(3)` }).where(eq(subscriptionAddressTable.email, email));
  await enqueueMail({ kind: "confirmation", subscriptionId: id });
}

/** A subscription as the pages and the mailer see it. `email` is null once it ended. */
export interface SubscriptionDetails {
  id: string;
  sku: string;
  productName: string;
  email: string | null;
  status: SubscriptionStatus;
}

async function detailsOf(executor: Executor, id: string): Promise<SubscriptionDetails | undefined> {
  const [row] = await executor
    .select({
      id: subscriptionTable.id,
      sku: productTable.sku,
      productName: productTable.name,
      email: subscriptionTable.email,
      status: subscriptionTable.status,
    })
    .from(subscriptionTable)
    .innerJoin(productTable, eq(productTable.id, subscriptionTable.productId))
    .where(eq(subscriptionTable.id, id));
  return row;
}

/** The subscription `id`, or undefined (never existed, or ended and deleted since). */
export function byId(id: string): Promise<SubscriptionDetails | undefined> {
  return query((db) => detailsOf(db, id));
}

/**
 * The confirmation link was followed. A pending subscription still within its time becomes
 * confirmed; a confirmed one stays so (the link works twice). Anything else has ended.
 */
export async function confirm(id: string): Promise<{ outcome: "confirmed" | "ended"; subscription?: SubscriptionDetails }> {
  return transaction(async (tx) => {
    await tx
      .update(subscriptionTable)
      .set({ status: "confirmed", confirmedAt: sql`NOW(3)` })
      .where(
        and(
          eq(subscriptionTable.id, id),
          eq(subscriptionTable.status, "pending"),
          gt(subscriptionTable.requestedAt, sql`NOW(3) - INTERVAL ${subscriptionPolicy.pendingSeconds} SECOND`),
        ),
      );
    const subscription = await detailsOf(tx, id);
    const outcome = subscription?.status === "confirmed" ? "confirmed" : "ended";
    logger.info("back-in-stock subscription confirmation", { subscriptionId: id, outcome });
    return { outcome, subscription };
  });
}

/** The unsubscribe link was used: the subscription ends now if it is open (idempotent). */
export async function unsubscribe(id: string): Promise<{ ended: boolean; subscription?: SubscriptionDetails }> {
  return transaction(async (tx) => {
    const ended = (await end(tx, [id], "unsubscribed")) > 0;
    if (ended) logger.info("back-in-stock subscription unsubscribed", { subscriptionId: id });
    return { ended, subscription: await detailsOf(tx, id) };
  });
}

/** What else a caller may record in the statement that ends a subscription (the mailer's delivery columns). */
export type EndingColumns = Omit<Partial<typeof subscriptionTable.$inferInsert>, "id" | "productId" | "status" | "email" | "endedAt">;

/**
 * End the open subscriptions among `ids` with `status`, erasing their addresses in the same
 * statement (with `also`, whatever else the caller records of the ending); returns how many it
 * ended. The one way a subscription ends (the mailer's `notified` included), so no ended row
 * ever keeps an address.
 */
export async function end(executor: Executor, ids: string[], status: EndedStatus, also: EndingColumns = {}): Promise<number> {
  if (ids.length === 0) return 0;
  const [result] = await executor
    .update(subscriptionTable)
    .set({ ...also, status, endedAt: sql`NOW(3)`, email: null })
    .where(and(inArray(subscriptionTable.id, ids), inArray(subscriptionTable.status, OPEN_SUBSCRIPTION_STATUSES)));
  return result.affectedRows;
}

/** The confirmed subscriptions of a product in id order, a page at a time (the back-in-stock fan-out). */
export async function confirmedFor(
  productId: number,
  { afterId, limit }: { afterId?: string; limit: number },
): Promise<Array<{ id: string; email: string }>> {
  const rows = await query((db) =>
    db
      .select({ id: subscriptionTable.id, email: subscriptionTable.email })
      .from(subscriptionTable)
      .where(
        and(
          eq(subscriptionTable.productId, productId),
          eq(subscriptionTable.status, "confirmed"),
          afterId === undefined ? undefined : gt(subscriptionTable.id, afterId),
        ),
      )
      .orderBy(asc(subscriptionTable.id))
      .limit(limit),
  );
  // A confirmed subscription always has its address (the table's CHECK).
  return rows.map((row) => ({ id: row.id, email: row.email as string }));
}

/**
 * The confirmation mail of subscription `id`, with its address, or undefined when there is
 * nothing to confirm any more (it was confirmed, ended or deleted since the mail was enqueued).
 */
export async function confirmationMailFor(id: string): Promise<(CustomerMail & { to: string }) | undefined> {
  const subscription = await byId(id);
  if (subscription?.status !== "pending" || subscription.email === null) return undefined;
  const [confirm, unsubscribe] = await Promise.all([confirmLink(id), unsubscribeLink(id)]);
  return {
    to: subscription.email,
    ...confirmationMail({
      sku: subscription.sku,
      productName: subscription.productName,
      confirmLink: confirm,
      unsubscribeLink: unsubscribe,
    }),
  };
}

/** What one housekeeping run did. */
export interface Housekeeping {
  /** Pending past their time, or confirmed and waiting for more than a year: ended as `expired`. */
  expired: number;
  /** Ended longer ago than the retention: deleted. */
  deleted: number;
  /** Abuse-limit records whose cool-down is over: deleted. */
  addressesForgotten: number;
}

/**
 * The periodic clean-up (the housekeeping function): expire what waited too long, delete what
 * ended more than `endedRetentionDays` ago, forget the addresses whose cool-down is over.
 */
export async function housekeeping(): Promise<Housekeeping> {
  const { cooldownSeconds } = limits();
  return query(async (db) => {
    const expiredIds = (
      await db
        .select({ id: subscriptionTable.id })
        .from(subscriptionTable)
        .where(
          or(
            and(
              eq(subscriptionTable.status, "pending"),
              lt(subscriptionTable.requestedAt, sql`NOW(3) - INTERVAL ${subscriptionPolicy.pendingSeconds} SECOND`),
            ),
            and(
              eq(subscriptionTable.status, "confirmed"),
              lt(subscriptionTable.requestedAt, sql`NOW(3) - INTERVAL ${subscriptionPolicy.maxWaitDays} DAY`),
            ),
          ),
        )
    ).map((row) => row.id);
    // `end` re-checks each one is still open: a confirmation that raced this keeps its own outcome.
    const expired = await endInChunks(db, expiredIds);
    const [deleted] = await db
      .delete(subscriptionTable)
      .where(
        and(
          isNotNull(subscriptionTable.endedAt),
          lt(subscriptionTable.endedAt, sql`NOW(3) - INTERVAL ${subscriptionPolicy.endedRetentionDays} DAY`),
        ),
      );
    const [forgotten] = await db
      .delete(subscriptionAddressTable)
      .where(
        or(
          sql`${subscriptionAddressTable.confirmationMailedAt} IS NULL`,
          lt(subscriptionAddressTable.confirmationMailedAt, sql`NOW(3) - INTERVAL ${cooldownSeconds} SECOND`),
        ),
      );
    const report = { expired, deleted: deleted.affectedRows, addressesForgotten: forgotten.affectedRows };
    logger.info("subscription housekeeping", { ...report });
    return report;
  });
}

async function endInChunks(db: Executor, ids: string[]): Promise<number> {
  let ended = 0;
  for (let at = 0; at < ids.length; at += 1000) {
    ended += await end(db, ids.slice(at, at + 1000), "expired");
  }
  return ended;
}

/** Delete every subscription of these products (the demo reset); returns how many. */
export async function removeForProducts(tx: Transaction, productIds: number[]): Promise<number> {
  if (productIds.length === 0) return 0;
  const [result] = await tx.delete(subscriptionTable).where(inArray(subscriptionTable.productId, productIds));
  return result.affectedRows;
}
