// Types only: erased, so nothing loads before the variable below is set.
import type { FactoryFault } from "./factory-faults";

// The handlers' EMF metric lines would drown the report (as for npm start and the bench): off
// unless asked for. Set before anything loads Powertools, which reads it then.
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
const { mkdirSync, writeFileSync } = await import("node:fs");
const { spawn } = await import("node:child_process");
const path = await import("node:path");
const { Command, InvalidArgumentError } = await import("commander");
const { logger } = await import("@donut-states/core/util/log");
const { fileURLToPath } = await import("node:url");
const { DEFAULT_CHAOS, runChaos } = await import("./chaos");
const { FACTORY_FAULTS } = await import("./factory-faults");

/**
 * `npm run chaos [-- <runs>] [--seed <n>] [--seconds <s>] [--faults <list>] [--breaker-invariants]`:
 * chaos runs back to back, each with its own seed (seed, seed+1, …) so any run can be replayed
 * alone with `--seed`. Prints each run's seed, timeline and invariants, then the pass count;
 * exits non-zero if any run failed.
 */
const whole = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`a whole number from ${min} to ${max}`);
  return n;
};
const faultList = (value: string): FactoryFault[] => {
  const names = value === "all" ? [...FACTORY_FAULTS] : value.split(",").map((name) => name.trim());
  const unknown = names.filter((name) => !(FACTORY_FAULTS as readonly string[]).includes(name));
  if (unknown.length || names.length === 0)
    throw new InvalidArgumentError(`a comma-separated list of ${FACTORY_FAULTS.join(", ")}, or all`);
  return [...new Set(names as FactoryFault[])];
};
const program = new Command("chaos")
  .description("sustained orders while the factory, the poller, the event bus and the database fail; then check every invariant")
  .argument("[runs]", "how many runs (each with the next seed)", whole(1, 1000), 1)
  .option("--seed <n>", "seed of the first run (default CHAOS_SEED or the built-in one)", whole(0, 2 ** 32 - 1))
  .option("--seconds <s>", "seconds of load per run", whole(10, 600), DEFAULT_CHAOS.durationMs / 1000)
  .option("--faults <list>", `factory faults added to the mix: ${FACTORY_FAULTS.join(", ")} (comma-separated), or all`, faultList, [])
  .option("--breaker-invariants", "also check the factory circuit breaker's invariants (they fail until the factory caller has one)", false)
  .parse();
const runs = program.processedArgs[0] as number;
const options = program.opts<{ seed?: number; seconds: number; faults: FactoryFault[]; breakerInvariants: boolean }>();
/** The flags that make a run what it is, for its replay line and the child processes. */
const runFlags = [
  "--seconds",
  String(options.seconds),
  ...(options.faults.length ? ["--faults", options.faults.join(",")] : []),
  ...(options.breakerInvariants ? ["--breaker-invariants"] : []),
];
const firstSeed = options.seed ?? Number(process.env.CHAOS_SEED ?? DEFAULT_CHAOS.seed);

// The handlers' own logs would drown the report; keep only errors (they matter here).
logger.setLogLevel((process.env.POWERTOOLS_LOG_LEVEL as "ERROR" | undefined) ?? "ERROR");

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results");
mkdirSync(dir, { recursive: true });

/** One run in this process: print its seed, timeline and invariants; true if every invariant held. */
async function runOnce(run: number, seed: number): Promise<boolean> {
  const label = process.env.CHAOS_RUN_LABEL || `${run}/${runs}`;
  console.log(
    `\n=== chaos run ${label}, seed ${seed}, ${options.seconds} s of load (replay: npm run chaos -- 1 --seed ${seed} ${runFlags.join(" ")})`,
  );
  const report = await runChaos({
    durationMs: options.seconds * 1000,
    seed,
    factoryFaults: options.faults,
    breakerInvariants: options.breakerInvariants,
  });
  console.log("Timeline:");
  for (const entry of report.timeline) console.log(`  +${(entry.atMs / 1000).toFixed(1).padStart(6)}s  ${entry.event}`);
  console.log("Responses:", JSON.stringify(report.responses));
  console.log("Restock requests:", JSON.stringify(report.restock));
  console.log("Factory saw:", JSON.stringify(report.factory));
  console.log("Invariants:");
  for (const invariant of report.invariants)
    console.log(`  ${invariant.ok ? "PASS" : "FAIL"}  ${invariant.name}\n        ${invariant.detail}`);
  const file = path.join(dir, `chaos-${new Date().toISOString().replace(/[:.]/g, "-")}-seed-${seed}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`Run ${label} (seed ${seed}): ${report.ok ? "PASS" : "FAIL"}. Report: ${path.relative(process.cwd(), file)}`);
  return report.ok;
}

/**
 * Each run of several in a process of its own: a run is a fresh system (its own emulators,
 * ports, database and environment variables), and the handlers' module-level clients, like a
 * Lambda's, keep the endpoints they were created with.
 */
function runInChild(run: number, seed: number): Promise<boolean> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], "1", "--seed", String(seed), ...runFlags], {
    stdio: "inherit",
    env: { ...process.env, CHAOS_RUN_LABEL: `${run}/${runs}` },
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code === 0)));
}

const failedSeeds: number[] = [];
for (let run = 1; run <= runs; run++) {
  const seed = firstSeed + run - 1;
  const ok = runs === 1 ? await runOnce(run, seed) : await runInChild(run, seed);
  if (!ok) failedSeeds.push(seed);
}
if (runs > 1)
  console.log(
    `\n${runs - failedSeeds.length}/${runs} runs passed${failedSeeds.length ? `; failed seeds: ${failedSeeds.join(", ")}` : ""}.`,
  );
else if (!process.env.CHAOS_RUN_LABEL) console.log(`\n${failedSeeds.length ? 0 : 1}/1 runs passed.`);
process.exit(failedSeeds.length ? 1 : 0);
