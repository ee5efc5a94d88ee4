import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MIGRATIONS_FOLDER } from "./migrate";

/**
 * The stored procedures, each written as one readable file in its domain's folder. Migrations
 * never change once applied, so a procedure's source file is applied by a migration that is a
 * copy of it: the newest migration that creates the procedure must equal its file
 * (place-order.test.ts checks it; `npm run db:procedure` writes that migration after a change).
 */
export const PROCEDURES = [
  { name: "place_order", source: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../order/place-order.sql") },
] as const;

export type Procedure = (typeof PROCEDURES)[number];

/** The migrations drizzle-kit's journal lists, oldest first: tag and SQL. */
export function migrations(folder = MIGRATIONS_FOLDER): Array<{ tag: string; sql: string }> {
  const journal = JSON.parse(readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as { entries: Array<{ tag: string }> };
  return journal.entries.map(({ tag }) => ({ tag, sql: readFileSync(path.join(folder, `${tag}.sql`), "utf8") }));
}

/** The newest migration that creates `procedure`: what a migrated database runs. */
export function newestMigrationOf(procedure: Procedure, folder = MIGRATIONS_FOLDER): { tag: string; sql: string } | undefined {
  return migrations(folder).findLast((migration) => migration.sql.includes(`CREATE PROCEDURE \`${procedure.name}\``));
}

/** The procedure as its source file writes it. */
export function sourceOf(procedure: Procedure): string {
  return readFileSync(procedure.source, "utf8");
}
