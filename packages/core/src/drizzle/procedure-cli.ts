import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { MIGRATIONS_FOLDER } from "./migrate";
import { migrations, newestMigrationOf, PROCEDURES, sourceOf } from "./procedures";

/**
 * `npm run db:procedure`: for each stored procedure whose source file differs from the newest
 * migration that creates it, a new migration (drizzle-kit's journal and snapshot) whose SQL is
 * that file, so the next `npm run db:migrate` (or deploy) applies it.
 */
for (const procedure of PROCEDURES) {
  const source = sourceOf(procedure);
  const applied = newestMigrationOf(procedure);
  if (applied?.sql === source) {
    console.log(`${procedure.name}: ${applied.tag}.sql applies ${path.relative(process.cwd(), procedure.source)} already`);
    continue;
  }
  execFileSync("npx", ["drizzle-kit", "generate", "--config", "packages/core/drizzle.config.ts", "--custom", "--name", procedure.name], {
    stdio: "inherit",
  });
  const created = migrations().at(-1)!;
  writeFileSync(path.join(MIGRATIONS_FOLDER, `${created.tag}.sql`), source);
  console.log(`${procedure.name}: ${created.tag}.sql applies ${path.relative(process.cwd(), procedure.source)}`);
}
