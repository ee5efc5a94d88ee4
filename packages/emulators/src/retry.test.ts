import { describe, expect, it } from "vitest";
import { createRetry } from "./retry";

describe("createRetry", () => {
  it("doubles the delay after each failure in a row, up to the ceiling, and starts over after a success", () => {
    const lines: string[] = [];
    // random() = 1 gives the ceiling itself, 0 half of it.
    const highest = createRetry("poll", (line) => lines.push(line), { baseMs: 100, maxMs: 1_000, random: () => 1 });
    expect([1, 2, 3, 4, 5, 6].map(() => highest.failed(new Error("down")))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    highest.succeeded();
    expect(highest.failures).toBe(0);
    expect(highest.failed(new Error("down"))).toBe(100);

    const lowest = createRetry("poll", () => {}, { baseMs: 100, maxMs: 1_000, random: () => 0 });
    expect([1, 2, 3].map(() => lowest.failed(new Error("down")))).toEqual([50, 100, 200]);
  });

  it("logs the first failure of a run, every tenth, and the recovery, naming the error", () => {
    const lines: string[] = [];
    const retry = createRetry("receive for ops@donut.test", (line) => lines.push(line), { random: () => 0 });
    const timeout = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { name: "TimeoutError" });
    for (let failure = 1; failure <= 20; failure++) retry.failed(timeout);
    retry.succeeded();
    retry.succeeded();
    expect(lines).toEqual([
      "receive for ops@donut.test failed, retrying in 125 ms: TimeoutError: connect ECONNREFUSED 127.0.0.1:4566",
      "receive for ops@donut.test failed (10 failures in a row), retrying in 5000 ms: TimeoutError: connect ECONNREFUSED 127.0.0.1:4566",
      "receive for ops@donut.test failed (20 failures in a row), retrying in 5000 ms: TimeoutError: connect ECONNREFUSED 127.0.0.1:4566",
      "receive for ops@donut.test works again after 20 failures",
    ]);
  });
});
