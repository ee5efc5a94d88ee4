import type { HandlerPool } from "./handlers";

export interface ScheduledJob {
  name: string;
  intervalMs: number;
  /** The function's execution environments (one run at a time here, so one instance). */
  handler: HandlerPool;
  /** Its function timeout; defaults to ten intervals. */
  timeoutMs?: number;
}

/**
 * EventBridge Scheduler / cron rules, locally: invoke each function on its interval with a
 * "Scheduled Event". A run that is still going when the next is due is skipped, not stacked.
 */
export function startScheduler(jobs: ScheduledJob[], log: (line: string) => void = () => {}) {
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<string, Promise<void>>();

  async function run(job: ScheduledJob) {
    if (running.has(job.name)) return;
    const event = {
      version: "0",
      id: crypto.randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: process.env.AWS_REGION ?? "local",
      resources: [`arn:aws:events:local:000000000000:rule/${job.name}`],
      detail: {},
    };
    const invocation = (async () => {
      try {
        await job.handler.invoke(event, { timeoutMs: job.timeoutMs ?? job.intervalMs * 10 });
      } catch (error) {
        log(`${job.name} failed: ${(error as Error).message}`);
      }
    })();
    running.set(job.name, invocation);
    await invocation;
    running.delete(job.name);
  }

  for (const job of jobs) timers.push(setInterval(() => void run(job), job.intervalMs));
  return {
    /** Run a job now (tests, an operator's "run it now"). */
    runNow: (name: string) => {
      const job = jobs.find((candidate) => candidate.name === name);
      if (!job) throw new Error(`No scheduled job ${name}`);
      // Wait for a run in progress, then run once more: the caller wants a run that starts now.
      return (running.get(name) ?? Promise.resolve()).then(() => run(job));
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled(running.values());
    },
  };
}
