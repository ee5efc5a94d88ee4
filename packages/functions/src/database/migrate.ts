import { createClient, isDatabaseUnavailable, resolveDatabaseUrl } from "@donut-states/core/drizzle";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { DEMO_PRODUCTS, seedDemoData } from "@donut-states/core/drizzle/seed";
import { logger } from "@donut-states/core/util/log";
import type { Context } from "aws-lambda";

/** Stop retrying this long before the function's own timeout, so the failure is ours and readable. */
const SAFETY_MARGIN_MS = 20_000;

/**
 * Run by the SST Script on every deploy (onCreate and onUpdate): applies pending migrations
 * from the folder bundled next to the handler (MIGRATIONS_FOLDER). Idempotent.
 *
 * On a stage's first deploy the RDS Proxy's target can take minutes to become available, so
 * "cannot connect" is retried with backoff until shortly before the function times out;
 * any other error (a broken migration) fails the deploy at once.
 *
 * SEED_DEMO_DATA=true (the default of non-prod stages, see stacks/settings.ts) then inserts the
 * demo catalogue where it is missing, so a new stage has products to order; stock already there
 * is kept.
 */
export const handler = async (_event: unknown, context?: Pick<Context, "getRemainingTimeInMillis">) => {
  const url = await resolveDatabaseUrl();
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateDatabase(url);
      logger.info("database migrated", { attempt });
      if (process.env.SEED_DEMO_DATA === "true") await seedDemoCatalogue(url);
      return;
    } catch (error) {
      const remaining = context?.getRemainingTimeInMillis() ?? 0;
      const delay = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      if (!isDatabaseUnavailable(error) || remaining - delay < SAFETY_MARGIN_MS) throw error;
      logger.warn("database not reachable yet; retrying migrations", { attempt, delayMs: delay, error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
};

async function seedDemoCatalogue(url: string): Promise<void> {
  const client = createClient(url, 1);
  try {
    await seedDemoData(client.db);
    logger.info("demo catalogue present", { skus: DEMO_PRODUCTS.map((product) => product.sku) });
  } finally {
    await client.pool.end();
  }
}
