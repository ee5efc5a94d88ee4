/**
 * `tsx packages/local/src/dashboard/cli.ts`: the dashboard as its own process, attached to an
 * offline stack that is already running (found through its .local/stack.json). `npm start`
 * can also mount it in-process (see stack.ts); this is for a stack started without it, or a
 * second one (LOCAL_DIR=/other/.local).
 *
 * Env: DASHBOARD_PORT (default 3002), DASHBOARD_HOST (127.0.0.1), LOCAL_DIR, DATABASE_URL
 * (needed only when the stack's database has a password, which stack.json does not keep).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createLocalClients } from "../aws/emulator";
import { REPO_ROOT } from "../runtime/handlers";
import { startDashboard } from "./server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const stackFile = path.join(process.env.LOCAL_DIR ?? path.join(REPO_ROOT, ".local"), "stack.json");
if (!existsSync(stackFile)) {
  console.error(`No ${stackFile}: start the offline stack first (npm start).`);
  process.exit(1);
}
const stack = JSON.parse(readFileSync(stackFile, "utf8")) as {
  sqsEndpoint: string;
  region: string;
  factoryQueueUrl: string;
  dlqUrl: string;
  mailDir?: string;
  databaseUrl: string;
};
const databaseUrl = process.env.DATABASE_URL ?? stack.databaseUrl;
if (databaseUrl.includes("****")) {
  console.error(`The stack's database (${stack.databaseUrl}) has a password that stack.json does not keep: set DATABASE_URL.`);
  process.exit(1);
}

const { sqs } = createLocalClients(stack.sqsEndpoint, stack.region);
const dashboard = await startDashboard({
  port: Number(process.env.DASHBOARD_PORT ?? 3002),
  host: process.env.DASHBOARD_HOST ?? "127.0.0.1",
  databaseUrl,
  sqs,
  factoryQueueUrl: stack.factoryQueueUrl,
  dlqUrl: stack.dlqUrl,
  mailDir: stack.mailDir,
});
console.log(`Dashboard: ${dashboard.url}  (offline stack from ${path.relative(process.cwd(), stackFile) || stackFile}; Ctrl-C to stop)`);

const stop = async () => {
  await dashboard.close();
  sqs.destroy();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
