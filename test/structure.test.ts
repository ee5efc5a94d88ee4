/**
 * The repository's structure rules, checked on the source: no import cycle between modules
 * (madge, the command the design states), packages reach each other only through their
 * package exports (never by a relative path into another package), no cycle between packages
 * either (madge does not follow `@donut-states/*` imports, so that graph is built here), and the
 * emulators depend on no package of the shop (they take what they serve as parameters). Each
 * package's README says what it may import and what must not import it, and the imports agree.
 * A source file over 400 lines (tests and bench/ aside) says near its top why it is long.
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

/** Tests and their helpers: `*.test.ts`, and anything in a `test/` or `testing/` folder or named `testing.ts`. */
const isTestCode = (file: string) => /\.test\.ts$|(^|\/)(test|testing)\/|(^|\/)testing\.ts$/.test(file.split(path.sep).join("/"));

/** The packages of ours a README paragraph names, from its `**<label>:**` to the blank line after it. */
function namedPackages(readme: string, label: string): string[] {
  const start = readme.indexOf(`**${label}:**`);
  if (start < 0) throw new Error(`no "**${label}:**" paragraph`);
  const end = readme.indexOf("\n\n", start);
  const paragraph = readme.slice(start, end < 0 ? undefined : end);
  return [...paragraph.matchAll(/@donut-states\/([\w-]+)/g)].map((match) => `packages/${match[1]}`);
}

const LONG_FILE_LINES = 400;
/** The header line a long file carries: "Long by design: <why>" (or "Long by design, for now: <why>"). */
const LONG_BY_DESIGN = /Long by design[^:\n]*:\s*\S.{20,}/;

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

  describe("each package's README", () => {
    const packages = readdirSync(path.join(ROOT, "packages")).filter((name) => statSync(path.join(ROOT, "packages", name)).isDirectory());
    const importsOf = (pkg: string, filter: (file: string) => boolean = () => true) =>
      new Set(
        files
          .filter((file) => owner(file) === pkg && filter(file))
          .flatMap(specifiers)
          .map((specifier) => /^@donut-states\/([^/]+)/.exec(specifier)?.[1])
          .filter((name): name is string => name !== undefined && `packages/${name}` !== pkg)
          .map((name) => `packages/${name}`),
      );

    it.each(packages)("packages/%s names every package it imports, and how to run its tests", (name) => {
      const pkg = `packages/${name}`;
      const readme = readFileSync(path.join(ROOT, pkg, "README.md"), "utf8");
      const mayImport = namedPackages(readme, "May import");
      expect([...importsOf(pkg)].filter((imported) => !mayImport.includes(imported))).toEqual([]);
      expect(readme).toContain(`npx vitest run ${pkg}`);
    });

    it.each(packages)("packages/%s is imported by none of the packages its README forbids", (name) => {
      const pkg = `packages/${name}`;
      const forbidden = namedPackages(readFileSync(path.join(ROOT, pkg, "README.md"), "utf8"), "Must not import it");
      expect(forbidden.filter((other) => importsOf(other).has(pkg))).toEqual([]);
    });

    it("the check sees the imports: functions' handlers import core, its tests the gateway of local", () => {
      expect(importsOf("packages/functions", (file) => !isTestCode(file))).toEqual(new Set(["packages/core"]));
      expect(importsOf("packages/functions", isTestCode)).toContain("packages/local");
    });
  });

  it(`a source file over ${LONG_FILE_LINES} lines (tests and bench/ aside) says in its first lines why it is long`, () => {
    const long = files
      .filter((file) => !isTestCode(file) && !file.startsWith(`bench${path.sep}`))
      .map((file) => ({ file, lines: readFileSync(path.join(ROOT, file), "utf8").split("\n") }))
      .filter(({ lines }) => lines.length > LONG_FILE_LINES);
    const unexplained = long
      .filter(({ lines }) => !LONG_BY_DESIGN.test(lines.slice(0, 12).join("\n")))
      .map(({ file, lines }) => `${file}: ${lines.length} lines`);
    expect(unexplained).toEqual([]);
    // The rule looks at something: the event-pattern matcher is long, and says why.
    expect(long.map(({ file }) => file)).toContain(path.join("packages", "emulators", "src", "eventbridge", "pattern.ts"));
  });
});

/** Core's domains, each a folder whose index.ts is its one entry (docs/design.md §5, "Importing a domain"). */
const DOMAINS = ["alert", "factory", "order", "outbox", "product", "restock", "subscription"];
/** Core's folders that are no domain: imported by name. */
const NOT_DOMAINS = ["drizzle", "testing", "topology", "util"];
const CORE_SRC = path.join("packages", "core", "src");

/** Every static import or re-export of a file: what it binds (`* as Name`, `{ … }`, …) and from where. */
function importClauses(file: string): Array<{ clause: string; specifier: string }> {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const pattern = /^(?:import|export)\s+(?:type\s+)?([^;'"]*?)\s*from\s*["']([^"']+)["']/gm;
  return [...text.matchAll(pattern)].map((match) => ({ clause: match[1].replace(/\s+/g, " "), specifier: match[2] }));
}

/** The domain a specifier names (its entry, or a file inside its folder), or undefined. */
function domainTarget(file: string, specifier: string): { domain: string; rest: string } | undefined {
  const target =
    /^@donut-states\/core\/(.+)$/.exec(specifier)?.[1] ?? (specifier.startsWith(".") ? relativeToCore(file, specifier) : undefined);
  if (target === undefined) return undefined;
  const [domain, ...rest] = target.split("/");
  return DOMAINS.includes(domain) ? { domain, rest: rest.join("/") } : undefined;
}

function relativeToCore(file: string, specifier: string): string | undefined {
  const target = path.relative(CORE_SRC, path.join(path.dirname(file), specifier));
  return target.startsWith("..") ? undefined : target.split(path.sep).join("/");
}

describe("core's domains: one entry each, imported as a namespace", () => {
  it("every folder of packages/core/src is a domain or named as no domain, and no barrel file stands beside one", () => {
    const entries = readdirSync(path.join(ROOT, CORE_SRC), { withFileTypes: true });
    const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.filter((folder) => !DOMAINS.includes(folder) && !NOT_DOMAINS.includes(folder))).toEqual([]);
    const barrels = entries.filter((entry) => entry.isFile() && folders.includes(entry.name.replace(/\.ts$/, "")));
    expect(barrels.map((entry) => entry.name)).toEqual([]);
  });

  it("outside its folder, a domain is imported as `import * as Name`, from its entry (or, in core, a table file)", () => {
    const offences = files.flatMap((file) =>
      importClauses(file).flatMap(({ clause, specifier }) => {
        const target = domainTarget(file, specifier);
        if (!target) return [];
        const inside = file.startsWith(path.join(CORE_SRC, target.domain) + path.sep);
        // Inside core, another domain's table file (it imports only table files: no cycle).
        if (specifier.startsWith(".") && /\.sql$/.test(target.rest)) return [];
        // Inside its own folder, a module imports its siblings by path.
        if (inside && target.rest !== "" && target.rest !== "index") return [];
        // The notifier's narrower entry (docs/design.md §5).
        const entry = target.rest === "" || target.rest === "index" || specifier === "@donut-states/core/subscription/notice";
        const name = target.domain[0].toUpperCase() + target.domain.slice(1);
        return entry && clause === `* as ${name}` ? [] : [`${file}: ${clause} from ${specifier}`];
      }),
    );
    expect(offences).toEqual([]);
    // The check saw domain imports from other packages and from inside core.
    const orders = importClauses(path.join("packages", "functions", "src", "api", "orders.ts"));
    expect(orders).toContainEqual({ clause: "* as Order", specifier: "@donut-states/core/order" });
    expect(importClauses(path.join(CORE_SRC, "restock", "index.ts"))).toContainEqual({ clause: "* as Outbox", specifier: "../outbox" });
  });
});
