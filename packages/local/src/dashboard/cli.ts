/**
 * `npm run dashboard`: the dashboard as its own process, attached to an offline stack that is
 * already running (found through its .local/stack.json). `npm start` serves one itself (see
 * stack/dashboard.ts): when that one answers on the port asked for, this says where it is and exits 0;
 * DASHBOARD_PORT=0 starts a second one on any free port.
 *
 * Env: DASHBOARD_PORT (default 3002), DASHBOARD_HOST (127.0.0.1), LOCAL_DIR, DATABASE_URL
 * (needed only when the stack's database has a password, which stack.json does not keep).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createLocalClients } from "@donut-states/emulators/aws";
import { listeningOn } from "../ports";
import { REPO_ROOT } from "../runtime";
import { startDashboard } from "./server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const stackFile = path.join(process.env.LOCAL_DIR ?? path.join(REPO_ROOT, ".local"), "stack.json");
if (!existsSync(stackFile)) {
  console.error(`No ${stackFile}: start the offline stack first (npm start).`);
  process.exit(1);
}
const stack = JSON.parse(readFileSync(stackFile, "utf8")) as {
  dashboardUrl?: string;
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

const where = path.relative(process.cwd(), stackFile) || stackFile;
const port = Number(process.env.DASHBOARD_PORT ?? 3002);
const host = process.env.DASHBOARD_HOST ?? "127.0.0.1";

/** The stack's own dashboard, when it is up and holds the port this one would take. */
async function runningDashboard(): Promise<string | undefined> {
  if (!stack.dashboardUrl || port === 0 || Number(new URL(stack.dashboardUrl).port) !== port) return undefined;
  const answer = await fetch(`${stack.dashboardUrl}/api/state`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  return answer?.ok ? stack.dashboardUrl : undefined;
}

const running = await runningDashboard();
if (running) {
  console.log(`The running offline stack already serves its dashboard at ${running} (from ${where}).`);
  console.log("Open that one; DASHBOARD_PORT=0 npm run dashboard starts a second one on a free port.");
  process.exit(0);
}

const { sqs } = createLocalClients(stack.sqsEndpoint, stack.region);
const dashboard = await listeningOn("DASHBOARD_PORT", { host, port, hostVariable: "DASHBOARD_HOST" }, () =>
  startDashboard({
    port,
    host,
    databaseUrl,
    sqs,
    factoryQueueUrl: stack.factoryQueueUrl,
    dlqUrl: stack.dlqUrl,
    mailDir: stack.mailDir,
  }),
).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
console.log(`Dashboard: ${dashboard.url}  (offline stack from ${where}; Ctrl-C to stop)`);

const stop = async () => {
  await dashboard.close();
  sqs.destroy();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
