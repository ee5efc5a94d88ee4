/** The staged code of bundled functions, as `sst deploy` uploads it. */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Json } from "./templates";

/** The staged code directory of a bundled function (what `sst deploy` zips and uploads). */
export function assetDir(synth: { outdir: string }, resource: Json): string {
  return path.join(synth.outdir, `asset.${resource.Properties.Code.S3Key.replace(/\.zip$/, "")}`);
}

/** Bytes of every file under `dir`, by path relative to it. */
export function filesOf(dir: string): Record<string, number> {
  const files: Record<string, number> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = statSync(file).size;
  }
  return files;
}

// The zip `sst deploy` uploads is made by cdk-assets (SST's dependency): use that very code.
const requireFromSst = createRequire(createRequire(import.meta.url).resolve("sst/package.json"));
const { zipDirectory } = requireFromSst("cdk-assets/lib/private/archive") as {
  zipDirectory(directory: string, outputFile: string, onEvent: (message: string) => void): Promise<void>;
};

/** Size of `dir` zipped exactly as the asset publisher zips it. */
export async function zippedSize(dir: string): Promise<number> {
  const scratch = mkdtempSync(path.join(tmpdir(), "donut-states-zip-"));
  try {
    const file = path.join(scratch, "asset.zip");
    await zipDirectory(dir, file, () => {});
    return statSync(file).size;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
