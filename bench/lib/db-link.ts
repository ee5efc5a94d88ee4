/**
 * The link between every design and MariaDB: direct at 0 ms, or through a delaying TCP proxy
 * (`BENCH_DB_RTT_MS`) that adds that much to every round trip and counts the round trips. The
 * proxy runs in its own child process, so its CPU is not charged to the design it serves.
 */
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface DbLink {
  rttMs: number;
  url: string;
  /** Round trips (client commands) since the link started; undefined when direct. */
  commands(): Promise<number | undefined>;
  stop(): void;
}

export async function openDbLink(databaseUrl: string, rttMs: number): Promise<DbLink> {
  if (rttMs <= 0) return { rttMs: 0, url: databaseUrl, commands: async () => undefined, stop: () => {} };
  const target = new URL(databaseUrl);
  const child: ChildProcess = fork(path.join(HERE, "db-link-proxy.ts"), [target.hostname, target.port || "3306", String(rttMs)], {
    execArgv: ["--import", import.meta.resolve("tsx")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`db link proxy exited with ${code}`)));
    child.once("message", (message: { port: number }) => resolve(message.port));
  });
  const url = new URL(databaseUrl);
  url.port = String(port);
  return {
    rttMs,
    url: url.toString(),
    commands: () =>
      new Promise((resolve) => {
        child.once("message", (message: { commands: number }) => resolve(message.commands));
        child.send("count");
      }),
    stop: () => {
      child.removeAllListeners("exit");
      child.kill();
    },
  };
}
