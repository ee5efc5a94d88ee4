import path from "node:path";
import { createClient } from "@donut-states/core/drizzle";
import { applicationUrl } from "@donut-states/core/drizzle/local-app-user";
import { migrateDatabase } from "@donut-states/core/drizzle/migrate";
import { seedDemoData } from "@donut-states/core/drizzle/seed";
import mysql from "mysql2/promise";
import type { OfflineConfig } from "../config";
import { ensureMysqlServer, withDatabase } from "../mysql";
import { type Log, type Step, step } from "./step";

const DEFAULT_DATABASE = "donut_states";

export interface Database {
  /** The admin URL: migrations, seeding, the dashboard and the ops CLI. */
  url: string;
  /** The database's DML-only application user, whom the functions connect as (as in AWS). */
  functionsUrl: string;
  source: string;
}

/** MySQL: the given database, else DATABASE_URL's server, 127.0.0.1:3306 or a private mariadbd; migrated (and seeded). */
export function startDatabase(config: OfflineConfig, givenUrl: string | undefined, log: Log): Promise<Step<Database>> {
  return step(log, async (onStop) => {
    let url = givenUrl;
    let source = "given";
    if (!url) {
      const server = await ensureMysqlServer({ privateDataDir: path.join(config.LOCAL_DIR, "mysql"), log });
      onStop(() => server.stop());
      const database = server.database ?? DEFAULT_DATABASE;
      const admin = await mysql.createConnection({ uri: server.serverUrl });
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await admin.end();
      url = config.DATABASE_URL ?? withDatabase(server.serverUrl, database);
      source = server.source;
    }
    await migrateDatabase(url);
    if (config.SEED_DEMO_DATA === "true") {
      const seeding = createClient(url, 1);
      await seedDemoData(seeding.db);
      await seeding.pool.end();
    }
    return { url, source, functionsUrl: await applicationUrl(url) };
  });
}
