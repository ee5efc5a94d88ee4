import { ensureMysqlServer } from "@donut-states/local/mysql";
import type { TestProject } from "vitest/node";

/**
 * One MySQL-compatible server for the whole run: DATABASE_URL, else root@127.0.0.1:3306, else
 * a throwaway mariadbd in a temp dir. No server at all fails the run with instructions; it
 * never skips. Each test file then creates its own database on it.
 */
export default async function setup(project: TestProject) {
  const server = await ensureMysqlServer({ log: (line) => console.log(`[test-db] ${line}`) });
  console.log(`[test-db] using ${server.source}: ${new URL(server.serverUrl).host}`);
  project.provide("mysqlServerUrl", server.serverUrl);
  return async () => {
    await server.stop();
  };
}
