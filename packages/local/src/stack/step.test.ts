import { describe, expect, it } from "vitest";
import { step, stopList } from "./step";

describe("the offline stack's steps", () => {
  it("stop newest first, and a stop that fails is logged while the others still run", async () => {
    const logged: string[] = [];
    const stopped: string[] = [];
    const started = stopList((line) => logged.push(line));
    started.add(() => void stopped.push("database"));
    started.add(() => {
      throw new Error("messaging would not close");
    });
    started.add(async () => void stopped.push("alerting"));
    await started.stop();
    expect(stopped).toEqual(["alerting", "database"]);
    expect(logged).toEqual(["stop: messaging would not close"]);
    await started.stop();
    expect(stopped).toEqual(["alerting", "database"]);
  });

  it("a step that fails halfway stops what it had started, newest first, and rethrows", async () => {
    const stopped: string[] = [];
    const failing = step(
      () => {},
      async (onStop) => {
        onStop(() => void stopped.push("sink"));
        onStop(() => void stopped.push("mailer"));
        throw new Error("SMTP_PORT: in use");
      },
    );
    await expect(failing).rejects.toThrow("SMTP_PORT: in use");
    expect(stopped).toEqual(["mailer", "sink"]);
  });

  it("a step that starts gives its value and stops only when asked", async () => {
    const stopped: string[] = [];
    const started = await step(
      () => {},
      async (onStop) => {
        onStop(() => void stopped.push("gateway"));
        return "http://127.0.0.1:3000";
      },
    );
    expect(started.value).toBe("http://127.0.0.1:3000");
    expect(stopped).toEqual([]);
    await started.stop();
    expect(stopped).toEqual(["gateway"]);
  });
});
