import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

/**
 * A comment or a doc that sends the reader to `docs/<page>.md#<section>` sends them somewhere:
 * the page exists and has that heading (GitHub's anchor for it) or an explicit `<a id>`.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const SOURCES = ["packages", "stacks", "test", "bench", "scripts", "load", "docs", "README.md"];

function files(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (statSync(full).isFile()) return [entry];
  return readdirSync(full, { withFileTypes: true }).flatMap((child) => {
    if (child.name === "node_modules" || child.name.startsWith(".") || child.name === "results") return [];
    const relative = path.join(entry, child.name);
    if (child.isDirectory()) return files(relative);
    return /\.(ts|md)$/.test(child.name) ? [relative] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

/** The anchors a page has (none when it does not exist). */
function anchorsOf(page: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(path.join(ROOT, page), "utf8").replace(/```[\s\S]*?```/g, "");
  } catch {
    return new Set();
  }
  return new Set([
    ...[...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1].trim())),
    ...[...text.matchAll(/<a id="([^"]+)"/g)].map((match) => match[1]),
  ]);
}

it("every docs/<page>.md#<section> named in the code and the docs exists", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of SOURCES.flatMap(files)) {
    const text = readFileSync(path.join(ROOT, file), "utf8");
    for (const match of text.matchAll(/(?<![\w/.-])((?:\.\.\/)*(?:docs\/)?[a-z-]+\.md)#([\w-]+)/g)) {
      // `docs/…` is named from the repository's root; a bare or `../` page from the file's folder.
      const page = match[1].startsWith("docs/") ? match[1] : path.join(path.dirname(file), match[1]);
      if (!page.startsWith(`docs${path.sep}`) && !page.startsWith("docs/")) continue;
      checked++;
      if (!anchorsOf(page).has(match[2])) broken.push(`${file}: ${match[0]}`);
    }
  }
  expect(broken).toEqual([]);
  expect(checked).toBeGreaterThan(20);
});
