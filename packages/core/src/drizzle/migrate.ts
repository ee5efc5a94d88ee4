import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/mysql2/migrator";
import { createClient } from "./index";

/** Where drizzle-kit writes migrations (committed). Functions that migrate copy this folder. */
export const MIGRATIONS_FOLDER =
  process.env.MIGRATIONS_FOLDER ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

/** Apply every pending migration to the database at `url`. Run it once per deploy or start: drizzle's migrator takes no lock. */
export async function migrateDatabase(url: string): Promise<void> {
  const client = createClient(url, 1);
  try {
    await migrate(client.db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.pool.end();
  }
}
