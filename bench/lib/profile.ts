/**
 * `BENCH_PROFILE=<dir>`: the V8 CPU profile of the API process for the measured window of each
 * "ours" measurement, written as `<dir>/<label>.cpuprofile` (open it in Chrome DevTools or
 * speedscope), with the top functions by self time printed. Only the measured window is
 * sampled, so start-up, seeding and the invariant checks stay out of it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

export interface SelfTime {
  /** "function (file:line)" */
  frame: string;
  share: number;
}

export async function profiled<T>(dir: string | undefined, label: string, work: () => Promise<T>, log: (line: string) => void): Promise<T> {
  if (!dir) return work();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  try {
    return await work();
  } finally {
    const { profile } = (await session.post("Profiler.stop")) as { profile: CpuProfile };
    session.disconnect();
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${label}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    log(`profile ${file}; top self time:`);
    for (const { frame, share } of topSelfTime(profile, 15)) log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${frame}`);
  }
}

/** Functions by the share of samples in which they were on top of the stack. */
export function topSelfTime(profile: CpuProfile, limit: number): SelfTime[] {
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const frame = `${functionName || "(anonymous)"} (${url ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(packages|bench)\//, "$1/")}:${lineNumber + 1}` : "native"})`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
  }
  return [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, hits]) => ({ frame, share: total ? hits / total : 0 }));
}
