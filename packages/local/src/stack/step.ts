/** How the offline stack's steps start and stop: each step registers what it started, stopped newest first. */

export type Log = (line: string) => void;
type Stopper = () => Promise<unknown> | unknown;

/** One started part of the offline stack: what it gives the parts after it, and how to stop it. */
export interface Step<T> {
  value: T;
  stop(): Promise<void>;
}

/** What was started, stopped newest first; a stop that fails is logged and the others still run. */
export function stopList(log: Log) {
  const stoppers: Stopper[] = [];
  return {
    add: (stopper: Stopper) => void stoppers.push(stopper),
    async stop() {
      for (const stopper of stoppers.splice(0).reverse()) {
        await (async () => stopper())().catch((error) => log(`stop: ${(error as Error).message}`));
      }
    },
  };
}

/** Runs one step: what it starts is registered with `onStop`, and stopped again if the step fails halfway. */
export async function step<T>(log: Log, start: (onStop: (stopper: Stopper) => void) => Promise<T>): Promise<Step<T>> {
  const started = stopList(log);
  try {
    return { value: await start(started.add), stop: started.stop };
  } catch (error) {
    await started.stop();
    throw error;
  }
}
