import { createClient, isDatabaseUnavailable, resolveAdminDatabaseUrl, resolveDatabaseUrl } from "@donut-states/core/drizzle";
import { ensureApplicationUser } from "@donut-states/core/drizzle/app-user";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { DEMO_PRODUCTS, seedDemoData } from "@donut-states/core/drizzle/seed";
import { optionalEnv } from "@donut-states/core/util/config";
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
 * It connects as the admin (master) user (DATABASE_ADMIN_SECRET_ARN; only this function may read
 * that secret), and after the migrations creates or updates the application user every other
 * function connects as (DATABASE_SECRET_ARN: its name and password): DML on every table of the
 * schema and EXECUTE on the procedures, so a table a migration adds is granted in the same deploy.
 * It then logs in as that user through the proxy, so a user the proxy cannot authenticate fails
 * the deploy. Without an admin secret (`url` stages: one DATABASE_URL for everything) there is no
 * separate application user to make.
 *
 * SEED_DEMO_DATA=true (the default of non-prod stages, see stacks/settings.ts) then inserts the
 * demo catalogue where it is missing, so a new stage has products to order; stock already there
 * is kept.
 */
export const handler = async (_event: unknown, context?: Pick<Context, "getRemainingTimeInMillis">) => {
  const url = await resolveAdminDatabaseUrl();
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateDatabase(url);
      logger.info("database migrated", { attempt });
      await ensureApplicationUserIfSeparate(url);
      if (optionalEnv("SEED_DEMO_DATA") === "true") await seedDemoCatalogue(url);
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

async function ensureApplicationUserIfSeparate(adminUrl: string): Promise<void> {
  if (!process.env.DATABASE_ADMIN_SECRET_ARN || !process.env.DATABASE_SECRET_ARN) return;
  const appUrl = await resolveDatabaseUrl();
  const { username, password } = new URL(appUrl);
  const grants = await ensureApplicationUser(adminUrl, { username: decodeURIComponent(username), password: decodeURIComponent(password) });
  logger.info("application user granted", { ...grants });
  // Log in as it the way the functions will (through the proxy): a user the proxy cannot
  // authenticate fails this deploy, not the first order.
  const client = createClient(appUrl, 1);
  try {
    await client.pool.query("SELECT 1");
  } finally {
    await client.pool.end();
  }
}
