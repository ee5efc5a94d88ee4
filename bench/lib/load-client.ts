/**
 * Start the load generator (./load-generator.ts) as a child process, so autocannon does not steal
 * the event loop of the API it drives, and run jobs on it one at a time. Used by the bench and
 * the chaos run.
 */
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadJob, LoadResult } from "./load-generator";

export type { LoadJob, LoadResult } from "./load-generator";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface LoadGenerator {
  run(job: Omit<LoadJob, "type" | "id">): Promise<LoadResult>;
  stop(): void;
}

export async function startLoadGenerator(): Promise<LoadGenerator> {
  const child: ChildProcess = fork(path.join(HERE, "load-generator.ts"), [], {
    execArgv: ["--import", import.meta.resolve("tsx")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`load generator exited with ${code}`)));
    child.once("message", () => resolve());
  });
  let id = 0;
  return {
    run: (job) =>
      new Promise((resolve, reject) => {
        const jobId = ++id;
        const onMessage = (message: LoadResult | { type: "error"; id: number; message: string }) => {
          if (message.id !== jobId) return;
          child.off("message", onMessage);
          if (message.type === "error") reject(new Error(message.message));
          else resolve(message);
        };
        child.on("message", onMessage);
        child.send({ ...job, type: "run", id: jobId } satisfies LoadJob);
      }),
    stop: () => {
      child.removeAllListeners("exit");
      child.disconnect();
      child.kill();
    },
  };
}
