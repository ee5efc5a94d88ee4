import { redactUrl } from "../util/url";
import { migrateDatabase } from "./migrate";

/** `npm run db:migrate`: apply pending migrations to DATABASE_URL. */
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("Set DATABASE_URL, e.g. DATABASE_URL=mysql://root@127.0.0.1:3306/donut_states npm run db:migrate");
  process.exit(2);
}
migrateDatabase(url)
  .then(() => console.log(`Migrations applied to ${redactUrl(url)}`))
  .catch((error: Error) => {
    console.error(`Migration failed: ${error.message}`);
    process.exit(1);
  });
