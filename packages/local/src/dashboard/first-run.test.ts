import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createTestDatabase, seedProducts, type TestDatabase } from "@donut-states/core/testing";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { uniqueName } from "@donut-states/emulators/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProvisionedTopology, provisionTopology } from "../aws/topology";
import { browserTestPlan, launchChromium } from "../browser/chromium";
import { REPO_ROOT } from "../runtime";
import { type Dashboard, type DashboardState, startDashboard } from "./index";

/**
 * What a first look at the dashboard gets: data in the first response (no waiting for a poll),
 * and `npm run dashboard` beside a running stack pointing at that stack's dashboard.
 */
const REGION = "ap-northeast-2";
const run = promisify(execFile);

let database: TestDatabase;
let emulator: SqsSnsEmulator;
let topology: ProvisionedTopology;
let dashboard: Dashboard;
let localDir: string;

beforeAll(async () => {
  database = await createTestDatabase("dashboard_first");
  await seedProducts(database.db, [{ sku: "CP-502101", name: "부산도너츠 </script><b>", stock: 7, restockQuantity: 100 }]);
  emulator = await startSqsSns({ port: 0, region: REGION });
  topology = await provisionTopology({
    sqs: emulator.sqs,
    sns: emulator.sns,
    settings: { factoryQueueName: uniqueName("first-q"), dlqName: uniqueName("first-dlq"), alertsTopicName: uniqueName("first-alerts") },
  });
  dashboard = await startDashboard({
    port: 0,
    databaseUrl: database.url,
    sqs: emulator.sqs,
    factoryQueueUrl: topology.factoryQueueUrl,
    dlqUrl: topology.dlqUrl,
    // Long enough that nothing the page shows in this test can come from a poll.
    pollMs: 600_000,
  });
  localDir = await mkdtemp(path.join(os.tmpdir(), "dashboard-first-"));
});

afterAll(async () => {
  await dashboard?.close();
  await emulator?.close();
  await database?.drop();
  if (localDir) await rm(localDir, { recursive: true, force: true });
});

/** The snapshot the server embedded in the page. */
function embeddedState(html: string): DashboardState {
  const json = /<script type="application\/json" id="initial-state">([^<]*)<\/script>/.exec(html)?.[1];
  expect(json, "the page carries its initial state").toBeTruthy();
  return JSON.parse(json!) as DashboardState;
}

describe("first paint", () => {
  it("the page itself carries the current state, escaped so data cannot close the script", async () => {
    const html = await (await fetch(`${dashboard.url}/`)).text();
    const state = embeddedState(html);
    expect(state.products.map(({ sku, name, stock }) => ({ sku, name, stock }))).toEqual([
      { sku: "CP-502101", name: "부산도너츠 </script><b>", stock: 7 },
    ]);
    expect(html).not.toContain("</script><b>");
  });

  // Like every browser test: skipped with a loud notice on a workstation without Chromium, never under CI=true.
  it.runIf(browserTestPlan().run)(
    "Chromium shows stock and queue depth before the page fetches anything",
    async () => {
      const { browser, close } = await launchChromium();
      try {
        const page = await browser.newPage();
        const fetched: string[] = [];
        await page.route("**/api/state", (route) => {
          fetched.push(route.request().url());
          return route.abort();
        });
        await page.goto(`${dashboard.url}/`, { waitUntil: "load" });
        expect(await page.getByTestId("stock-CP-502101").textContent()).toBe("7");
        expect(await page.getByTestId("dlq-depth").textContent()).toBe("0");
        expect(await page.getByTestId("updated-at").textContent()).not.toBe("never");
        expect(fetched).toEqual([]);
      } finally {
        await close();
      }
    },
    180_000,
  );
});

describe("npm run dashboard", () => {
  const stackFile = (dashboardUrl: string) =>
    writeFile(
      path.join(localDir, "stack.json"),
      JSON.stringify({
        dashboardUrl,
        sqsEndpoint: emulator.endpoint,
        region: REGION,
        factoryQueueUrl: topology.factoryQueueUrl,
        dlqUrl: topology.dlqUrl,
        databaseUrl: database.url,
      }),
    );
  const dashboardCli = (env: Record<string, string>) =>
    run("npm", ["run", "-s", "dashboard"], { cwd: REPO_ROOT, env: { ...process.env, LOCAL_DIR: localDir, ...env }, timeout: 180_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it("beside a running stack, points at the stack's own dashboard instead of crashing on its port", async () => {
    await stackFile(dashboard.url);
    const result = await dashboardCli({ DASHBOARD_PORT: String(dashboard.port) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`The running offline stack already serves its dashboard at ${dashboard.url}`);
  }, 240_000);

  it("names DASHBOARD_PORT when the port is taken by something else", async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      await stackFile("http://127.0.0.1:9"); // that stack's dashboard is gone
      const result = await dashboardCli({ DASHBOARD_PORT: String(busyPort) });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `DASHBOARD_PORT: 127.0.0.1:${busyPort} is already in use (another \`npm start\`, or another program); ` +
          "stop what holds it, or set DASHBOARD_PORT to a free port (0 = any free port).",
      );
    } finally {
      busy.close();
    }
  }, 240_000);
});
