import { resolveDatabaseUrl } from "@donut-states/core/drizzle";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { logger } from "@donut-states/core/util/log";

/**
 * Run by the SST Script on every deploy (onCreate and onUpdate): applies pending migrations
 * from the folder bundled next to the handler (MIGRATIONS_FOLDER). Idempotent.
 */
export const handler = async () => {
  await migrateDatabase(await resolveDatabaseUrl());
  logger.info("database migrated");
};
