import { sql } from "drizzle-orm";
import { char, datetime } from "drizzle-orm/mysql-core";

/** ULIDs: 26 chars, time-ordered (cheap B-tree inserts), safe to show to users. */
export const ulidColumn = (name: string) => char(name, { length: 26 });

/**
 * UTC timestamps with millisecond precision. DATETIME(3) rather than TIMESTAMP:
 * same behaviour on MySQL 8 and MariaDB 10.11 (no implicit ON UPDATE, no 2038 limit).
 * Connections run with time_zone '+00:00', so CURRENT_TIMESTAMP(3) is UTC too.
 */
export const createdAt = () => datetime("created_at", { fsp: 3, mode: "date" }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);

export const updatedAt = () =>
  datetime("updated_at", { fsp: 3, mode: "date" })
    .notNull()
    .default(sql`CURRENT_TIMESTAMP(3)`)
    .$onUpdate(() => new Date());

export const nullableTime = (name: string) => datetime(name, { fsp: 3, mode: "date" });
