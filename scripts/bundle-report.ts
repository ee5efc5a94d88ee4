/**
 * `npm run bundles`: build every function as `sst deploy` would (offline synth of a deploy-mode
 * app, see stacks/test/synth.ts), then print one markdown row per function: its code unzipped and
 * zipped (the zip cdk-assets uploads), and its cold-import time: a fresh `node` process imports
 * the bundle, timed from just before `import()` to its end, median of RUNS processes.
 * The AWS SDK, external in the bundles, must resolve to this checkout's node_modules (in Lambda,
 * to the runtime's copy): each bundle is timed from a copy under .local/bundles/.
 * Writes the rows to .local/bundle-report.json too.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { type Json, assetDir, filesOf, resourcesOf, synthesize, zippedSize } from "../stacks/test/synth";

const RUNS = Number(process.env.RUNS ?? 9);

// SST skips its AWS lookups (bootstrap bucket) only under NODE_ENV=test.
process.env.NODE_ENV = "test";

const importOnce = `
const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));
`;

function coldImportMs(file: string): number {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", importOnce, file], {
      // What the handler modules read at import time; nothing connects until a request.
      env: { PATH: process.env.PATH, AWS_REGION: "ap-northeast-2", POWERTOOLS_SERVICE_NAME: "donut-states", POWERTOOLS_METRICS_DISABLED: "true" },
      encoding: "utf8",
    });
    samples.push(Number(out));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const synth = await synthesize({
  stage: "bundles",
  mode: "deploy",
  env: { FACTORY_API_URL: "https://factory.example.com", ALERT_EMAILS: "ops@example.com" },
});
try {
  const rows: { handler: string; unzippedKiB: number; zippedKiB: number; coldImportMs: number }[] = [];
  for (const template of Object.values(synth.templates)) {
    for (const [, resource] of resourcesOf(template, "AWS::Lambda::Function") as [string, Json][]) {
      if (!String(resource.Properties.Description ?? "").startsWith("packages/functions/src/")) continue;
      const dir = assetDir(synth, resource);
      const handler: string = resource.Properties.Handler;
      const unzipped = Object.values(filesOf(dir)).reduce((sum, bytes) => sum + bytes, 0);
      const copy = path.resolve(".local/bundles", path.basename(dir));
      cpSync(dir, copy, { recursive: true });
      const file = path.join(copy, `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
      rows.push({
        handler,
        unzippedKiB: Math.round(unzipped / 1024),
        zippedKiB: Math.round((await zippedSize(dir)) / 1024),
        coldImportMs: Math.round(coldImportMs(file)),
      });
    }
  }
  rows.sort((a, b) => a.handler.localeCompare(b.handler));
  // Import times scale with how busy the machine is: say how busy it was.
  const machine = `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at the end`;
  console.log(machine);
  console.log(`| function (handler) | unzipped | zipped | cold import (median of ${RUNS}) |`);
  console.log("|---|---:|---:|---:|");
  for (const row of rows) console.log(`| \`${row.handler}\` | ${row.unzippedKiB} KiB | ${row.zippedKiB} KiB | ${row.coldImportMs} ms |`);
  mkdirSync(".local", { recursive: true });
  writeFileSync(".local/bundle-report.json", JSON.stringify({ machine, runs: RUNS, rows }, null, 2));
} finally {
  rmSync(synth.app.outdir, { recursive: true, force: true });
  rmSync(".local/bundles", { recursive: true, force: true });
}
