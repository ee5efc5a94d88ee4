import path from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../testing/aws";
import {
  type AnyHandler,
  createHandlerPool,
  InvocationKilledError,
  InvocationTimeoutError,
  loadHandler as load,
  handlerPool as poolOf,
} from "./handlers";

/** This package's src/, where the test handlers live. */
const SOURCE = { root: path.resolve(import.meta.dirname, "..") };
const COUNTER = "testing/counter-handler.handler";
const loadHandler = (reference: string) => load(reference, SOURCE.root);
const handlerPool = (reference: string, options?: { maxInstances?: number }) => poolOf(reference, SOURCE, options);

describe("local Lambda runtime", () => {
  it("loads a fresh module instance each time, as a new execution environment would", async () => {
    const first = await loadHandler(COUNTER);
    const second = await loadHandler(COUNTER);
    expect(await first({}, {} as never)).toEqual({ calls: 1 });
    expect(await first({}, {} as never)).toEqual({ calls: 2 });
    expect(await second({}, {} as never)).toEqual({ calls: 1 });
  });

  it("runs one invocation per instance: overlapping invocations get instances of their own, then reuse them", async () => {
    const pool = handlerPool(COUNTER);
    const overlapping = await Promise.all([
      pool.invoke({ holdMs: 200 }, { timeoutMs: 10_000 }),
      pool.invoke({ holdMs: 200 }, { timeoutMs: 10_000 }),
    ]);
    expect(overlapping).toEqual([{ calls: 1 }, { calls: 1 }]);
    expect(pool.instances).toMatchObject({ loaded: 2, idle: 2, busy: 0 });
    // One at a time: a warm instance serves it.
    expect(await pool.invoke({}, { timeoutMs: 10_000 })).toEqual({ calls: 2 });
    expect(pool.instances.loaded).toBe(2);
  });

  it("at its instance limit, queues an invocation for the next idle instance instead of loading another", async () => {
    const pool = handlerPool(COUNTER, { maxInstances: 1 });
    const results = await Promise.all([1, 2, 3].map(() => pool.invoke({ holdMs: 50 }, { timeoutMs: 10_000 })));
    expect(results).toEqual([{ calls: 1 }, { calls: 2 }, { calls: 3 }]);
    expect(pool.instances).toMatchObject({ loaded: 1, idle: 1 });
  });

  it("discards an instance whose invocation timed out, and ignores its late answer", async () => {
    let answered = 0;
    const slow: AnyHandler = async (event: { holdMs: number }) => {
      await new Promise((resolve) => setTimeout(resolve, event.holdMs));
      answered++;
      return "late";
    };
    const pool = createHandlerPool({ functionName: "slow", load: async () => slow });
    await expect(pool.invoke({ holdMs: 300 }, { timeoutMs: 50 })).rejects.toBeInstanceOf(InvocationTimeoutError);
    expect(pool.instances).toMatchObject({ loaded: 1, idle: 0, discarded: 1 });
    await waitFor("the late answer", () => answered === 1);
    // The next invocation gets a new instance.
    expect(await pool.invoke({ holdMs: 0 }, { timeoutMs: 5_000 })).toBe("late");
    expect(pool.instances).toMatchObject({ loaded: 2, idle: 1, discarded: 1 });
  });

  it("abandons a killed invocation at once and discards its instance", async () => {
    const pool = handlerPool(COUNTER);
    const kill = new AbortController();
    const running = pool.invoke({ holdMs: 3_000 }, { timeoutMs: 120_000, signal: kill.signal });
    await waitFor("the invocation running", () => pool.instances.busy === 1);
    kill.abort();
    await expect(running).rejects.toBeInstanceOf(InvocationKilledError);
    expect(pool.instances).toMatchObject({ loaded: 1, idle: 0, busy: 0, discarded: 1 });
  });

  it("keeps an instance in service after the handler throws (only a timeout or a crash ends an environment)", async () => {
    const pool = createHandlerPool({
      functionName: "thrower",
      load: async () => async () => {
        throw new Error("boom");
      },
    });
    await expect(pool.invoke({}, { timeoutMs: 1_000 })).rejects.toThrow("boom");
    expect(pool.instances).toMatchObject({ loaded: 1, idle: 1, discarded: 0 });
  });
});
