import { expect, it } from "vitest";
import { runChaos } from "../../bench/chaos/chaos";

/**
 * A short version of `npm run chaos`: orders keep coming while the factory fails 30 % and hangs
 * 10 % of calls and calls back twice, the SQS poller is killed mid-batch, the event bus is down
 * for 3 s and the database restarts. Every invariant of docs/design.md §4 must hold afterwards.
 */
it("keeps every invariant through factory failures, a killed poller, a bus outage and a database restart", async () => {
  const report = await runChaos({
    durationMs: 8_000,
    ordersPerSecond: 80,
    products: 4,
    initialStock: 30,
    restockQuantity: 30,
    drainTimeoutMs: 90_000,
  });
  const failed = report.invariants.filter((invariant) => !invariant.ok);
  expect(failed, JSON.stringify({ failed, responses: report.responses, timeline: report.timeline }, null, 2)).toEqual([]);
  // The faults really happened, and the system really was under load and restocking.
  expect(report.timeline.map((entry) => entry.event).join("\n")).toMatch(/poller killed[\s\S]*bus DOWN[\s\S]*database back/);
  expect(report.responses["201"]).toBeGreaterThan(100);
  expect(report.responses["409"]).toBeGreaterThan(0);
  expect(report.restock.fulfilled).toBeGreaterThan(3);
  expect((report.factory.requests.failed ?? 0) + (report.factory.requests["timed-out"] ?? 0)).toBeGreaterThan(0);
  expect(report.factory.callbacks).toBeGreaterThan(report.restock.fulfilled);
}, 180_000);
