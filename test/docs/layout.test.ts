import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { section } from "./markdown";

/**
 * docs/design.md §5 ("Layout") matches the tree: every path it names exists, every top-level
 * folder and every package has its entry, and every folder at the top of a package's `src/` is
 * named in that package's entry.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const layout = /```\n([\s\S]*?)```/.exec(section(readFileSync(path.join(ROOT, "docs/design.md"), "utf8"), "## 5. Layout"))![1];

/** The block's entries: a path at the start of a line, and its description (with the lines indented under it). */
const entries: { entry: string; description: string }[] = [];
for (const line of layout.split("\n")) {
  const start = /^(\S+)\s+(.*)$/.exec(line);
  if (start) entries.push({ entry: start[1], description: start[2] });
  else if (line.trim() && entries.length) entries[entries.length - 1].description += ` ${line.trim()}`;
}

/** The paths a description names: words ending in "/", ".ts" or ".md" (not `<name>.ts` placeholders). */
const named = (description: string) =>
  [...description.matchAll(/(?<=^|[\s(,;`])([A-Za-z][\w.-]*(?:\/[\w.-]+)*(?:\/|\.ts|\.md))(?=$|[\s),;:`])/g)].map((match) => match[1]);

/** Every path under a folder, relative to it (no node_modules). */
function under(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((child) => !child.parentPath.includes("node_modules") && child.name !== "node_modules")
    .map((child) => path.relative(path.join(ROOT, dir), path.join(child.parentPath, child.name)).split(path.sep).join("/"));
}

const folders = (dir: string) =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .filter((child) => child.isDirectory() && child.name !== "node_modules" && !child.name.startsWith("."))
    .map((child) => child.name);

describe("docs/design.md §5, the layout", () => {
  it("has entries to check", () => {
    expect(entries.length).toBeGreaterThan(10);
  });

  it("names only paths that exist", () => {
    const missing = entries.flatMap(({ entry, description }) => {
      const missingEntry = existsSync(path.join(ROOT, entry)) ? [] : [entry];
      const base = entry.endsWith("/") ? entry : "";
      const below = base ? under(base) : [];
      const missingNamed = named(description).filter((name) => {
        const bare = name.replace(/\/$/, "");
        return !existsSync(path.join(ROOT, base, bare)) && !existsSync(path.join(ROOT, bare)) && !below.some((p) => p.endsWith(`/${bare}`));
      });
      return [...missingEntry, ...missingNamed.map((name) => `${entry} ${name}`)];
    });
    expect(missing).toEqual([]);
  });

  it("has an entry for every top-level folder and every package", () => {
    const starts = entries.map(({ entry }) => entry);
    expect(folders(".").filter((folder) => !starts.some((entry) => entry.startsWith(`${folder}/`)))).toEqual([]);
    expect(folders("packages").filter((name) => !starts.some((entry) => entry.startsWith(`packages/${name}/`)))).toEqual([]);
  });

  it("names every folder at the top of each package's src/ in that package's entry", () => {
    const unnamed = folders("packages").flatMap((name) => {
      const src = `packages/${name}/src`;
      if (!existsSync(path.join(ROOT, src))) return [];
      const mentioned = new Set(
        entries
          .filter(({ entry }) => entry.startsWith(`packages/${name}/`))
          .flatMap(({ description }) => named(description))
          .map((word) => word.split("/")[0]),
      );
      return folders(src)
        .filter((folder) => !mentioned.has(folder))
        .map((folder) => `${src}/${folder}/`);
    });
    expect(unnamed).toEqual([]);
  });
});
