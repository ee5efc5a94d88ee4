import { redactUrl } from "../util/url";
import { ensureDatabase, migrateDatabase, migrationErrorMessage } from "./migrate";

/** `npm run db:migrate`: create DATABASE_URL's database if it is missing, then apply pending migrations. */
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("Set DATABASE_URL, e.g. DATABASE_URL=mysql://root@127.0.0.1:3306/donut_states npm run db:migrate");
  process.exit(2);
}

async function main(databaseUrl: string) {
  const { host } = new URL(databaseUrl);
  const { name, created } = await ensureDatabase(databaseUrl);
  if (created) console.log(`Created database ${name} on ${host}`);
  await migrateDatabase(databaseUrl);
  console.log(`Migrations applied to ${host}/${name}`);
}

main(url).catch((error: unknown) => {
  console.error(`Migration failed: ${redactUrl(url)}: ${migrationErrorMessage(error)}`);
  process.exit(1);
});
