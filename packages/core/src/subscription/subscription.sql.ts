import { sql } from "drizzle-orm";
import { bigint, check, index, mysqlEnum, mysqlTable, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { productTable } from "../product/product.sql";
import { nullableTime, ulidColumn } from "../util/sql";
import { MAX_EMAIL_LENGTH } from "./email";

/**
 * pending      -> asked for; its confirmation mail is on its way (or was, within the cool-down)
 * confirmed    -> the address's owner clicked the link in that mail; waits for the restock
 * notified     -> its one back-in-stock mail went out (one-shot: that ends it)
 * unsubscribed -> ended by its unsubscribe link
 * expired      -> never confirmed within its time, or confirmed and still waiting after a year
 */
export const SUBSCRIPTION_STATUSES = ["pending", "confirmed", "notified", "unsubscribed", "expired"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
export const OPEN_SUBSCRIPTION_STATUSES = ["pending", "confirmed"] as const satisfies readonly SubscriptionStatus[];
export const ENDED_SUBSCRIPTION_STATUSES = ["notified", "unsubscribed", "expired"] as const satisfies readonly SubscriptionStatus[];
export type EndedStatus = (typeof ENDED_SUBSCRIPTION_STATUSES)[number];

const quoted = (statuses: readonly string[]) => statuses.map((status) => `'${status}'`).join(", ");

/**
 * "Tell me when it's back": one row per address and product asked for. The address is kept only
 * while the subscription is open; the statement that ends it erases the address, and the
 * housekeeping function deletes the row a few days later (docs/design.md#back-in-stock).
 */
export const subscriptionTable = mysqlTable(
  "subscription",
  {
    id: ulidColumn("id").primaryKey(),
    productId: bigint("product_id", { mode: "number", unsigned: true })
      .notNull()
      .references(() => productTable.id),
    /** Normalised (`Email`): trimmed, lower case. NULL once the subscription ended. */
    email: varchar("email", { length: MAX_EMAIL_LENGTH }),
    status: mysqlEnum("status", SUBSCRIPTION_STATUSES).notNull().default("pending"),
    /** When it was asked for, renewed by each confirmation mail: a pending one expires from here. */
    requestedAt: nullableTime("requested_at").notNull().default(sql`CURRENT_TIMESTAMP(3)`),
    confirmedAt: nullableTime("confirmed_at"),
    endedAt: nullableTime("ended_at"),
    /**
     * The address while the subscription is open, NULL once it ended: with the UNIQUE index on
     * (open_email, product_id), one open subscription per address and product, however many
     * requests race (NULLs never collide). The address's open subscriptions are counted on it too.
     */
    openEmail: varchar("open_email", { length: MAX_EMAIL_LENGTH }).generatedAlwaysAs(
      sql.raw(`(CASE WHEN \`status\` IN (${quoted(OPEN_SUBSCRIPTION_STATUSES)}) THEN \`email\` ELSE NULL END)`),
      { mode: "stored" },
    ),
  },
  (table) => [
    uniqueIndex("subscription_one_open_per_address_and_product").on(table.openEmail, table.productId),
    // A product's confirmed subscribers, paged by id (the back-in-stock fan-out).
    index("subscription_product_status_id_idx").on(table.productId, table.status, table.id),
    // What expires (by status and age) and what is deleted (ended long enough ago).
    index("subscription_status_requested_idx").on(table.status, table.requestedAt),
    index("subscription_ended_idx").on(table.endedAt),
    // An open subscription has an address and no end; an ended one has an end and no address.
    check(
      "subscription_address_only_while_open",
      sql.raw(
        `(\`status\` IN (${quoted(OPEN_SUBSCRIPTION_STATUSES)}) AND \`email\` IS NOT NULL AND \`ended_at\` IS NULL) OR (\`status\` IN (${quoted(ENDED_SUBSCRIPTION_STATUSES)}) AND \`email\` IS NULL AND \`ended_at\` IS NOT NULL)`,
      ),
    ),
  ],
);

/**
 * The abuse limits' memory, one row per address that asked lately: when its last confirmation
 * mail was enqueued (at most one per cool-down). A request locks its address's row first, so two
 * racing requests for one address see each other's mail and open subscriptions. The housekeeping
 * function deletes a row once its cool-down is over.
 */
export const subscriptionAddressTable = mysqlTable(
  "subscription_address",
  {
    email: varchar("email", { length: MAX_EMAIL_LENGTH }).primaryKey(),
    confirmationMailedAt: nullableTime("confirmation_mailed_at"),
  },
  (table) => [index("subscription_address_mailed_idx").on(table.confirmationMailedAt)],
);
