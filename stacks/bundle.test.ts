/**
 * The bundle trims of stacks/bundle.ts change what runs in Lambda, so each is checked here:
 * the rewritten mysql2 error table equals the original, and mysql2 bundled with every trim
 * still talks utf8mb4 to a real MariaDB (text in several scripts, emoji, binary) and fails
 * clearly, not silently, on a charset whose tables were left out.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { createTestDatabase, type TestDatabase } from "@donut-states/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactErrorTable, trimBundle } from "./bundle";

const require = createRequire(import.meta.url);
// The esbuild SST bundles with (sst has its own copy).
const esbuild = createRequire(require.resolve("sst/package.json"))("esbuild") as typeof import("esbuild");

describe("mysql2's error table, written once", () => {
  it("maps every number to its name and every name to its number, exactly as the original", () => {
    // Not in mysql2's "exports": find it beside the package's entry point.
    const file = path.join(path.dirname(require.resolve("mysql2")), "lib/constants/errors.js");
    const original = require(file) as Record<string, unknown>;
    const sandbox = { exports: {} as Record<string, unknown> };
    vm.runInNewContext(compactErrorTable(file), sandbox);
    expect({ ...sandbox.exports }).toEqual({ ...original });
    expect(compactErrorTable(file).length).toBeLessThan(0.5 * statSync(file).size);
  });
});

describe("mysql2 bundled with the trims, against MariaDB", () => {
  let database: TestDatabase;
  let scratch: string;
  let bundle: string;
  const applied = new Set<string>();

  beforeAll(async () => {
    database = await createTestDatabase("bundle_trims");
    scratch = mkdtempSync(path.join(tmpdir(), "donut-states-trim-"));
    const entry = path.join(scratch, "entry.mjs");
    writeFileSync(
      entry,
      `import mysql from "mysql2/promise";
const connection = await mysql.createConnection({ uri: process.env.URL, timezone: "Z" });
const out = {};
await connection.query("CREATE TABLE trim_check (id INT PRIMARY KEY, body VARCHAR(100) CHARACTER SET utf8mb4, raw VARBINARY(8))");
const text = "Donut 도너츠 ドーナツ 甜甜圈 пончик 🍩 café";
await connection.execute("INSERT INTO trim_check VALUES (1, ?, ?)", [text, Buffer.from([0, 255, 1])]);
const [[row]] = await connection.execute("SELECT body, raw FROM trim_check WHERE id = 1");
out.roundTrip = row.body === text && Buffer.compare(row.raw, Buffer.from([0, 255, 1])) === 0;
try { await connection.query("SELECT * FROM no_such_table"); } catch (error) { out.code = error.code; }
await connection.end();
// A connection in big5: mysql2 would decode its results with iconv-lite's CJK tables.
try {
  const big5 = await mysql.createConnection({ uri: process.env.URL, charset: "BIG5_CHINESE_CI" });
  try { const [[row]] = await big5.query("SELECT 'donut' AS v"); out.big5 = row.v; } finally { big5.destroy(); }
} catch (error) { out.big5Error = error.message; }
console.log(JSON.stringify(out));`,
    );
    bundle = path.join(scratch, "bundle.mjs");
    // The options SST uses for an ESM function (runtime/handlers/node.js), plus ours.
    await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: process.cwd(),
      nodePaths: [path.resolve("node_modules")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "esnext",
      mainFields: ["module", "main"],
      keepNames: true,
      minify: true,
      outfile: bundle,
      banner: {
        js: "import { createRequire as topLevelCreateRequire } from 'module';\nconst require = topLevelCreateRequire(import.meta.url);",
      },
      // SST's esbuild and the root one differ only in types irrelevant here.
      plugins: [trimBundle(applied) as never],
      logLevel: "silent",
    });
  }, 120_000);

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await database?.drop();
  });

  it("applies every trim mysql2 reaches", () => {
    expect([...applied].sort()).toEqual(["iconvCodeTables", "mysql2ErrorTable", "mysql2SslProfiles"]);
  });

  it("keeps utf8mb4 text, binary and error codes intact, and refuses a left-out charset with a clear error", () => {
    const out = JSON.parse(execFileSync(process.execPath, [bundle], { env: { ...process.env, URL: database.url }, encoding: "utf8" }));
    expect(out.roundTrip).toBe(true);
    expect(out.code).toBe("ER_NO_SUCH_TABLE");
    expect(out.big5).toBeUndefined();
    expect(out.big5Error).toMatch(/Encoding not recognized: 'big5'/i);
  });
});
