/**
 * `npm run bundles`: build every function as `sst deploy` would (offline synth of a deploy-mode
 * app, see stacks/test/synth.ts), then print one markdown row per function: its code unzipped and
 * zipped (the zip cdk-assets uploads), and its cold-import time: a fresh `node` process imports
 * the bundle, timed from just before `import()` to its end, median of RUNS processes.
 * The AWS SDK, external in the bundles, must resolve to this checkout's node_modules (in Lambda,
 * to the runtime's copy): each bundle is timed from a copy under .local/bundles/.
 * Writes the rows to .local/bundle-report.json too; with BUNDLES_REFERENCE=1 also to
 * docs/bundles.json, the committed reference, and rewrites docs/deploy.md's table from it.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { assetDir, filesOf, zippedSize } from "../stacks/test/assets";
import { synthesize } from "../stacks/test/synth";
import { type Json, resourcesOf } from "../stacks/test/templates";
import { BUNDLES_REFERENCE, type BundleReport, type BundleRow, bundleRegion, DEPLOY_GUIDE, renderBundleTable } from "./bundle-table";

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
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "ap-northeast-2",
        POWERTOOLS_SERVICE_NAME: "donut-states",
        POWERTOOLS_METRICS_DISABLED: "true",
      },
      encoding: "utf8",
    });
    samples.push(Number(out));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const loadAtStart = loadavg()[0];
const synth = await synthesize({
  stage: "bundles",
  mode: "deploy",
  env: { FACTORY_API_URL: "https://factory.example.com", ALERT_EMAILS: "ops@example.com" },
});
try {
  const rows: BundleRow[] = [];
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
  const report: BundleReport = {
    measuredAt: new Date().toISOString(),
    machine: {
      node: process.version,
      cpus: cpus().length,
      loadAverage1mAtStart: Number(loadAtStart.toFixed(2)),
      loadAverage1mAtEnd: Number(loadavg()[0].toFixed(2)),
    },
    runs: RUNS,
    rows,
  };
  const table = renderBundleTable(report);
  console.log(table);
  mkdirSync(".local", { recursive: true });
  writeFileSync(".local/bundle-report.json", `${JSON.stringify(report, null, 2)}\n`);
  if (process.env.BUNDLES_REFERENCE === "1") {
    writeFileSync(BUNDLES_REFERENCE, `${JSON.stringify(report, null, 2)}\n`);
    const guide = readFileSync(DEPLOY_GUIDE, "utf8");
    const region = bundleRegion(guide);
    if (!region) throw new Error("docs/deploy.md has no bundle table markers");
    writeFileSync(DEPLOY_GUIDE, guide.replace(region, table));
    console.log("docs/bundles.json written and docs/deploy.md's table rewritten from it");
  }
} finally {
  rmSync(synth.app.outdir, { recursive: true, force: true });
  rmSync(".local/bundles", { recursive: true, force: true });
}
