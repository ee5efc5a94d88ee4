import { readdirSync, readFileSync } from "node:fs";

/** CPU used by this process between now and the call of the returned function, in % of one core. */
export function processCpu(): () => number {
  const start = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const used = process.cpuUsage(start);
    return Math.round(((used.user + used.system) / 1000 / (performance.now() - t0)) * 100);
  };
}

/** CPU microseconds used by this process between now and the call of the returned function. */
export function processCpuMicros(): () => number {
  const start = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(start);
    return used.user + used.system;
  };
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

function findPid(names: string[]): number | undefined {
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (names.includes(readFileSync(`/proc/${entry}/comm`, "utf8").trim())) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc (not Linux)
  }
  return undefined;
}

function ticks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

/**
 * CPU used by the local MariaDB/MySQL server process (if it runs on this machine and /proc is
 * readable), in % of one core; undefined otherwise.
 */
export function databaseCpu(): () => number | undefined {
  const pid = findPid(["mariadbd", "mysqld"]);
  const start = pid === undefined ? undefined : ticks(pid);
  const t0 = performance.now();
  return () => {
    if (pid === undefined || start === undefined) return undefined;
    const end = ticks(pid);
    if (end === undefined) return undefined;
    return Math.round(((((end - start) / CLOCK_TICKS_PER_SECOND) * 1000) / (performance.now() - t0)) * 100);
  };
}

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const values = fields.map(Number);
    const idle = values[3] + (values[4] ?? 0); // idle + iowait
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0); // user..steal
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * CPU used by the whole machine, in % of one core (cores x 100 = saturated). Compared with the
 * bench's own processes it shows how much other work (noisy neighbours) ran during a measurement.
 */
export function machineCpu(cores: number): () => number | undefined {
  const start = machineTicks();
  return () => {
    const end = machineTicks();
    if (!start || !end || end.total === start.total) return undefined;
    return Math.round(((end.busy - start.busy) / (end.total - start.total)) * cores * 100);
  };
}
