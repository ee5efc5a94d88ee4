import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import * as Order from "@donut-states/core/order";
import * as Product from "@donut-states/core/product";
import * as Restock from "@donut-states/core/restock";
import { createTestDatabase, seedProducts, TEST_FACTORY, type TestDatabase } from "@donut-states/core/testing";
import { type SqsSnsEmulator, startSqsSns } from "@donut-states/emulators/aws";
import { uniqueName } from "@donut-states/emulators/testing";
import { eq } from "drizzle-orm";
import type { BrowserContext } from "playwright-core";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProvisionedTopology, provisionTopology } from "../aws/topology";
import { browserTestPlan, launchChromium } from "../browser/chromium";
import { type Dashboard, type DashboardState, startDashboard } from "./index";

/**
 * The dashboard against a real database and real fauxqs queues, looked at by a real headless
 * Chromium (Debian's /usr/bin/chromium through playwright-core; no browser download).
 */
const REGION = "ap-northeast-2";
const HOSTILE_SUBJECT = `Restock overdue: 1 request(s) <img src=x onerror="document.title='pwned'">`;

let database: TestDatabase;
let emulator: SqsSnsEmulator;
let topology: ProvisionedTopology;
let dashboard: Dashboard;
let tmp: string;
let alarmState = "OK";

function eml(subject: string, date: Date): string {
  return [
    "From: Donut-States alerts <alerts@donut-states.local>",
    "To: ops@donut-states.local",
    `Subject: ${subject}`,
    `Date: ${date.toUTCString()}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    "See docs/runbook.md",
    "",
  ].join("\r\n");
}

async function sendTo(queueUrl: string, count: number) {
  await emulator.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Array.from({ length: count }, (_, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify({ detail: { restockId: ulid(), sku: "CP-2" } }),
      })),
    }),
  );
}

beforeAll(async () => {
  database = await createTestDatabase("dashboard");
  await seedProducts(database.db, [
    { sku: "CP-502101", name: "부산도너츠", stock: 7, restockQuantity: 100 },
    { sku: "CP-502102", name: "Honey Glazed", stock: 0, restockQuantity: 60 },
  ]);
  const [honey] = await database.db
    .select({ id: Product.productTable.id })
    .from(Product.productTable)
    .where(eq(Product.productTable.sku, "CP-502102"));
  await database.db.insert(Restock.restockRequestTable).values({
    id: ulid(),
    productId: honey.id,
    sku: "CP-502102",
    factoryId: TEST_FACTORY.id,
    quantity: 60,
    status: "failed",
    attempts: 5,
    lastError: "Factory API answered 500 (simulated)",
  });

  // The last hour's sales of CP-502101 (stock 7 now), and a request that went all the way.
  const [busan] = await database.db
    .select({ id: Product.productTable.id })
    .from(Product.productTable)
    .where(eq(Product.productTable.sku, "CP-502101"));
  const sales = [
    { minutesAgo: 50, quantity: 20, stockAfter: 80 },
    { minutesAgo: 35, quantity: 30, stockAfter: 50 },
    { minutesAgo: 20, quantity: 25, stockAfter: 25 },
    { minutesAgo: 20, quantity: 10, stockAfter: 15 },
    { minutesAgo: 5, quantity: 8, stockAfter: 7 },
  ];
  await database.db.insert(Order.orderTable).values(
    sales.map(({ minutesAgo, quantity, stockAfter }, index) => {
      const at = Date.now() - minutesAgo * 60_000 + index;
      return { id: ulid(at), productId: busan.id, sku: "CP-502101", quantity, unitPrice: 19900, stockAfter, createdAt: new Date(at) };
    }),
  );
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
  await database.db.insert(Restock.restockRequestTable).values({
    id: ulid(minutesAgo(45).getTime()),
    productId: busan.id,
    sku: "CP-502101",
    factoryId: TEST_FACTORY.id,
    quantity: 100,
    status: "fulfilled",
    attempts: 1,
    createdAt: minutesAgo(45),
    requestedAt: minutesAgo(44),
    fulfilledAt: minutesAgo(38),
  });

  emulator = await startSqsSns({ port: 0, region: REGION });
  topology = await provisionTopology({
    sqs: emulator.sqs,
    sns: emulator.sns,
    settings: { factoryQueueName: uniqueName("dash-q"), dlqName: uniqueName("dash-dlq"), alertsTopicName: uniqueName("dash-alerts") },
  });
  await sendTo(topology.dlqUrl, 2);
  await sendTo(topology.factoryQueueUrl, 1);

  tmp = await mkdtemp(path.join(os.tmpdir(), "dashboard-test-"));
  const mailDir = path.join(tmp, "mail");
  await mkdir(mailDir);
  await writeFile(
    path.join(mailDir, "2026-01-01T00-00-00-000Z-0000aaaa.eml"),
    eml(`ALARM: "factory-dlq-not-empty" in ${REGION}`, new Date(Date.now() - 60_000)),
  );
  await writeFile(path.join(mailDir, "2026-01-01T00-00-01-000Z-0001bbbb.eml"), eml(HOSTILE_SUBJECT, new Date()));

  dashboard = await startDashboard({
    port: 0,
    databaseUrl: database.url,
    sqs: emulator.sqs,
    factoryQueueUrl: topology.factoryQueueUrl,
    dlqUrl: topology.dlqUrl,
    mailDir,
    alarmState: () => alarmState,
    pollMs: 250,
  });
});

afterAll(async () => {
  await dashboard?.close();
  await emulator?.close();
  await database?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("dashboard HTTP", () => {
  it("serves a JSON snapshot of stock, restock requests, queues, alarm and alert e-mails", async () => {
    const response = await fetch(`${dashboard.url}/api/state`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const state = (await response.json()) as DashboardState;
    expect(state.products.map(({ sku, stock }) => ({ sku, stock }))).toEqual([
      { sku: "CP-502101", stock: 7 },
      { sku: "CP-502102", stock: 0 },
    ]);
    expect(state.products[1].restock).toMatchObject({ status: "failed" });
    expect(state.restock.counts).toEqual({ pending: 0, requested: 0, fulfilled: 1, failed: 1, cancelled: 0 });
    expect(state.restock.recent).toHaveLength(2);
    // The last hour, from the orders' own records: 5 orders in 4 minutes, the stock each left.
    const history = state.history!;
    expect(history.to - history.from).toBe(60 * 60_000);
    expect(history.ordersPerMinute.length).toBeGreaterThanOrEqual(60);
    expect(history.ordersPerMinute.reduce((sum, point) => sum + point.orders, 0)).toBe(5);
    expect(history.ordersPerMinute.reduce((sum, point) => sum + point.units, 0)).toBe(93);
    expect(history.stock["CP-502101"].map((point) => point.stock)).toEqual([80, 50, 15, 7, 7]);
    expect(history.stock["CP-502102"].map((point) => point.stock)).toEqual([0]);
    expect(history.restocks.find((request) => request.status === "fulfilled")).toMatchObject({
      sku: "CP-502101",
      requestedAt: expect.any(String),
      fulfilledAt: expect.any(String),
    });
    expect(state.queues).toEqual({ factory: { visible: 1, inFlight: 0 }, dlq: { visible: 2, inFlight: 0 } });
    expect(state.alarm).toEqual({ state: "OK", source: "alarm" });
    expect(state.alerts.map((mail) => mail.subject)).toEqual([HOSTILE_SUBJECT, `ALARM: "factory-dlq-not-empty" in ${REGION}`]);
    expect(state.alerts[0].to).toEqual(["ops@donut-states.local"]);
    expect(state.errors).toEqual({});
  });

  it("serves the page with a nonce-based CSP, and is read-only", async () => {
    const page = await fetch(`${dashboard.url}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const html = await page.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect((await fetch(`${dashboard.url}/api/state`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${dashboard.url}/nope`)).status).toBe(404);
  });
});

const browserPlan = browserTestPlan();
if (!browserPlan.run) console.warn(browserPlan.notice);

describe.runIf(browserPlan.run)("dashboard in Chromium", () => {
  let browser: BrowserContext;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ browser, close } = await launchChromium({ viewport: { width: 1280, height: 900 } }));
  });
  afterAll(async () => {
    await close?.();
  });

  it("shows stock and DLQ depth, follows database and queue changes live, and renders a screenshot", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));

    await page.goto(dashboard.url);
    const stock = page.getByTestId("stock-CP-502101");
    await stock.filter({ hasText: /^7$/ }).waitFor({ timeout: 5000 });
    expect(await page.getByTestId("stock-CP-502102").textContent()).toBe("0");
    expect(await page.getByTestId("dlq-depth").textContent()).toBe("2");
    expect(await page.getByTestId("factory-depth").textContent()).toBe("1");
    expect(await page.getByTestId("restock-count-failed").textContent()).toBe("1");
    expect(await page.getByTestId("alarm-state").textContent()).toContain("OK");

    // E-mail subjects are data: shown literally, never parsed as HTML.
    const alerts = page.getByTestId("alert-list");
    expect(await alerts.textContent()).toContain(HOSTILE_SUBJECT);
    expect(await alerts.locator("img").count()).toBe(0);
    expect(await page.title()).toBe("Donut-States · operations");

    // The charts are drawn (uPlot, served by the dashboard itself) with the hour's data.
    await page.locator("[data-testid=orders-chart] canvas").waitFor({ timeout: 5000 });
    expect(await page.getByTestId("orders-chart").getAttribute("data-orders")).toBe("5");
    expect(await page.getByTestId("stock-chart").getAttribute("data-series")).toBe("2");
    for (const chart of ["orders-chart", "stock-chart"]) {
      const painted = await page.locator(`[data-testid=${chart}] canvas`).evaluate((canvas: HTMLCanvasElement) => {
        const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
        let count = 0;
        for (let index = 3; index < data.length; index += 4) if (data[index] > 0) count++;
        return count;
      });
      expect(painted, chart).toBeGreaterThan(500);
    }
    expect(await page.getByTestId("stock-chart").textContent()).toContain("CP-502101");
    expect(await page.getByTestId("timeline-row").count()).toBe(2);

    // Live: the database, the DLQ and the alarm change; the page follows without a reload.
    await database.db.update(Product.productTable).set({ stock: 42 }).where(eq(Product.productTable.sku, "CP-502101"));
    await sendTo(topology.dlqUrl, 1);
    alarmState = "ALARM";
    await stock.filter({ hasText: /^42$/ }).waitFor({ timeout: 5000 });
    await page.getByTestId("dlq-depth").filter({ hasText: /^3$/ }).waitFor({ timeout: 5000 });
    await page.getByTestId("alarm-state").filter({ hasText: "ALARM" }).waitFor({ timeout: 5000 });

    // DASHBOARD_SCREENSHOT=/some/file.png keeps a copy to look at; by default it goes with the temp dir.
    const file = process.env.DASHBOARD_SCREENSHOT ?? path.join(tmp, "dashboard.png");
    await page.screenshot({ path: file, fullPage: true });
    const png = await readFile(file);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(600); // IHDR height
    expect((await stat(file)).size).toBeGreaterThan(30_000); // a real page, not a blank one
    expect(problems).toEqual([]);
    await page.close();
  });

  it("keeps showing the database when SQS is gone, with the error in place of the depths", async () => {
    await emulator.close();
    const state = (await (await fetch(`${dashboard.url}/api/state`)).json()) as DashboardState;
    expect(state.queues).toEqual({ factory: null, dlq: null });
    expect(state.errors.queues).toBeTruthy();
    expect(state.products).toHaveLength(2);

    const page = await browser.newPage();
    await page.goto(dashboard.url);
    await page.getByTestId("dlq-depth").filter({ hasText: "–" }).waitFor({ timeout: 5000 });
    await page.getByTestId("stock-CP-502101").filter({ hasText: /^42$/ }).waitFor({ timeout: 5000 });
    expect(await page.locator("#queue-error").isVisible()).toBe(true);
    await page.close();
  });
});
