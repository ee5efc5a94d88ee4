/**
 * Reading the README's runnable examples: its sections, their bash blocks, the commands in them
 * and the result each one's comment shows.
 *
 * The convention the README follows: a command, then (with no blank line) a comment showing its
 * result, `# 201 {"order":…,"stock":98}`, optionally continued on comment lines indented by two
 * or more spaces. `…` stands for anything; a value that starts with six or more characters
 * before its `…` must start with them.
 */

export interface DocStep {
  command: string;
  expected?: { status?: number; text: string };
}

/** The text of a `## Heading` section, up to the next heading of the same level. */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`No section "${heading}"`);
  const next = markdown.indexOf("\n## ", start + heading.length + 2);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** The first ```bash block of a text. */
export function bashBlock(text: string): string {
  const block = /```bash\n([\s\S]*?)```/.exec(text);
  if (!block) throw new Error("No ```bash block");
  return block[1];
}

/** Commands (backslash continuations joined) with the result comment that follows each. */
export function steps(block: string): DocStep[] {
  const lines = block.split("\n");
  const result: DocStep[] = [];
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index];
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    while (line.endsWith("\\") && index + 1 < lines.length) line = `${line.slice(0, -1)}${lines[++index].trimStart()}`;
    const step: DocStep = { command: line.trim() };
    const shown = /^#\s+(?:(\d{3})\s+)?([[{].*)$/.exec(lines[index + 1] ?? "");
    if (shown) {
      let text = shown[2];
      index++;
      while (/^#\s{2,}\S/.test(lines[index + 1] ?? "")) text += lines[++index].replace(/^#\s+/, "");
      step.expected = { status: shown[1] ? Number(shown[1]) : undefined, text };
    }
    result.push(step);
  }
  return result;
}

export type Pair = { key: string; value: string | number | boolean | null; prefix?: boolean; anyValue?: boolean };

/** The `"key":value` pairs with a literal value that a shown result contains. */
export function expectedPairs(text: string): Pair[] {
  const pairs: Pair[] = [];
  for (const match of text.matchAll(/"([^"]+)":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)/g)) {
    const [, key, raw] = match;
    const value = JSON.parse(raw) as Pair["value"];
    if (typeof value === "string" && value.includes("…")) {
      const before = value.slice(0, value.indexOf("…"));
      pairs.push(before.length >= 6 ? { key, value: before, prefix: true } : { key, value: null, anyValue: true });
    } else {
      pairs.push({ key, value });
    }
  }
  return pairs;
}

/** Every `key: primitive` of a JSON value, at any depth. */
export function leaves(value: unknown, into: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (Array.isArray(value)) for (const item of value) leaves(item, into);
  else if (value && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      if (child !== null && typeof child === "object") leaves(child, into);
      else into.push([key, child]);
    }
  }
  return into;
}

/** What a shown result claims that the actual one does not have (empty: they agree). */
export function matches(actual: Array<[string, unknown]>, expected: Pair[]): string[] {
  const problems: string[] = [];
  for (const pair of expected) {
    const candidates = actual.filter(([key]) => key === pair.key).map(([, value]) => value);
    const found = candidates.some((value) =>
      pair.anyValue ? true : pair.prefix ? typeof value === "string" && value.startsWith(pair.value as string) : value === pair.value,
    );
    if (!found) {
      const shown = pair.anyValue ? "…" : pair.prefix ? `${JSON.stringify(pair.value).slice(0, -1)}…"` : JSON.stringify(pair.value);
      problems.push(
        `"${pair.key}":${shown} is shown, got ${candidates.length ? candidates.map((value) => JSON.stringify(value)).join(" / ") : "no such field"}`,
      );
    }
  }
  return problems;
}
