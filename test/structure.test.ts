/**
 * The repository's structure rules, checked on the source: no import cycle between modules
 * (madge, the command the design states), packages reach each other only through their
 * package exports (never by a relative path into another package), no cycle between packages
 * either (madge does not follow `@donut-states/*` imports, so that graph is built here), and the
 * emulators depend on no package of the shop (they take what they serve as parameters).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const SOURCE_ROOTS = ["packages", "stacks", "test", "bench", "scripts", "load", "sst.config.ts"];

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (statSync(full).isFile()) return [entry];
  return readdirSync(full, { withFileTypes: true }).flatMap((child) => {
    if (child.name === "node_modules" || child.name.startsWith(".")) return [];
    const relative = path.join(entry, child.name);
    if (child.isDirectory()) return sourceFiles(relative);
    return /\.tsx?$/.test(child.name) && !child.name.endsWith(".d.ts") ? [relative] : [];
  });
}

/** Every module specifier a file imports or re-exports (static, dynamic and side-effect imports). */
function specifiers(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
  return [...text.matchAll(pattern)].map((match) => match[1]);
}

/** The package a file belongs to (`packages/<name>`), or "the root" for stacks, tests, bench, scripts. */
function owner(file: string): string {
  const [top, name] = file.split(path.sep);
  return top === "packages" ? `packages/${name}` : "the root";
}

const files = SOURCE_ROOTS.flatMap(sourceFiles);

describe("structure", () => {
  it("madge finds no circular import in packages and stacks", () => {
    const cli = createRequire(import.meta.url).resolve("madge/bin/cli.js");
    const output = execFileSync(process.execPath, [cli, "--circular", "--json", "--extensions", "ts", "packages", "stacks"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(JSON.parse(output)).toEqual([]);
  }, 120_000);

  it("no file reaches into another package by a relative path", () => {
    const crossings = files.flatMap((file) =>
      specifiers(file)
        .filter((specifier) => specifier.startsWith("."))
        .map((specifier) => ({ file, specifier, target: path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)) }))
        .filter(
          ({ file, target }) => owner(target) !== owner(file) || (owner(file) === "the root" && target.startsWith(`packages${path.sep}`)),
        )
        .map(({ file, specifier }) => `${file}: ${specifier}`),
    );
    expect(crossings).toEqual([]);
  });

  it("the emulators know nothing of the shop: packages/emulators imports no other package of ours", () => {
    const emulatorFiles = files.filter((file) => owner(file) === "packages/emulators");
    const shopImports = emulatorFiles.flatMap((file) =>
      specifiers(file)
        .filter((specifier) => /^@donut-states\/(?!emulators(\/|$))/.test(specifier))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(shopImports).toEqual([]);
    // The check looked at the package's sources, tests included.
    expect(emulatorFiles).toContain(path.join("packages", "emulators", "src", "aws", "alarm.test.ts"));
  });

  it("packages depend on each other without a cycle", () => {
    const edges = new Map<string, Set<string>>();
    for (const file of files) {
      const from = owner(file);
      if (from === "the root") continue;
      for (const specifier of specifiers(file)) {
        const match = /^@donut-states\/([^/]+)/.exec(specifier);
        if (!match || `packages/${match[1]}` === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(`packages/${match[1]}`);
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, trail: string[]) => {
      if (trail.includes(node)) return cycles.push([...trail.slice(trail.indexOf(node)), node].join(" -> "));
      for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    expect(cycles).toEqual([]);
    // The graph is not empty: the check above looked at something.
    expect(edges.get("packages/functions")).toContain("packages/core");
  });
});
