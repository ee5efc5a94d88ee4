import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { logger } from "@donut-states/core/util/log";
import { REPO_ROOT } from "../runtime/handlers";
import { DEFAULT_CHAOS, runChaos } from "./chaos";

/**
 * `npm run chaos [-- seconds]`: a bounded chaos run; exits non-zero if an invariant fails.
 * CHAOS_SEED replays the factory's sequence of failures.
 */
// The handlers' own logs would drown the report; keep only errors (they matter here).
logger.setLogLevel((process.env.POWERTOOLS_LOG_LEVEL as "ERROR" | undefined) ?? "ERROR");
const seconds = Number(process.argv[2] ?? DEFAULT_CHAOS.durationMs / 1000);
if (!Number.isFinite(seconds) || seconds < 10 || seconds > 600) {
  console.error("usage: npm run chaos [-- <seconds of load, 10..600>]");
  process.exit(2);
}

const seed = Number(process.env.CHAOS_SEED ?? DEFAULT_CHAOS.seed);
const report = await runChaos({ durationMs: seconds * 1000, seed, log: (line) => console.log(line) });
console.log("\nResponses:", JSON.stringify(report.responses));
console.log("Restock requests:", JSON.stringify(report.restock));
console.log("Factory saw:", JSON.stringify(report.factory));
console.log("\nInvariants:");
for (const invariant of report.invariants) console.log(`  ${invariant.ok ? "PASS" : "FAIL"}  ${invariant.name}\n        ${invariant.detail}`);
const dir = path.join(REPO_ROOT, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `chaos-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${report.ok ? "All invariants hold." : "INVARIANT VIOLATED."} Report: ${path.relative(process.cwd(), file)}`);
process.exit(report.ok ? 0 : 1);
