/**
 * The parts of test/secret-scan.ts that tests can import without installing its hooks: the
 * capture of a process's output and the search for secrets in it.
 */
import { formatWithOptions } from "node:util";

export interface NamedSecret {
  /** Where the secret came from (an environment variable), safe to print. */
  name: string;
  value: string;
}

/** Shorter values are not secrets worth the name here ("local", "x"), and would match by chance. */
const MIN_SECRET_LENGTH = 8;
const STATE = Symbol.for("donut-states.test-output");
const WRAPPED = Symbol.for("donut-states.test-output.console");
type Global = typeof globalThis & { [STATE]?: { chunks: string[] } };

function state(): { chunks: string[] } {
  const global = globalThis as Global;
  global[STATE] ??= { chunks: [] };
  return global[STATE];
}

/**
 * Keep a copy of everything this process writes to stdout and stderr, once per process (test
 * files share their worker's process), and of what goes through `console` (vitest sends that to
 * its main process instead). What was written still reaches where it went before.
 */
export function installCapture(): void {
  const kept = state();
  for (const stream of [process.stdout, process.stderr] as const) {
    const current = stream.write as typeof stream.write & { [WRAPPED]?: true };
    if (current[WRAPPED]) continue;
    const write = current.bind(stream);
    const tee = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      kept.chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write & { [WRAPPED]?: true };
    tee[WRAPPED] = true;
    stream.write = tee;
  }
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    const current = console[method] as ((...args: unknown[]) => void) & { [WRAPPED]?: true };
    if (current[WRAPPED]) continue;
    const tee = ((...args: unknown[]) => {
      kept.chunks.push(`${formatWithOptions({ colors: false }, ...args)}\n`);
      current.apply(console, args);
    }) as typeof current;
    tee[WRAPPED] = true;
    console[method] = tee;
  }
}

/** A new test file starts: what the previous one wrote was already checked. */
export function startFile(): void {
  state().chunks.length = 0;
}

/** What was written since the current file started. */
export function capturedOutput(): string {
  return state().chunks.join("");
}

/** Secrets the environment holds: URL passwords, and variables whose name says secret or password. */
export function secretsInEnvironment(env: NodeJS.ProcessEnv): NamedSecret[] {
  const found: NamedSecret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (/SECRET|PASSWORD/.test(name) && !/_ARN$/.test(name)) found.push({ name, value });
    const password = urlPassword(value);
    if (password) found.push({ name: `${name} (its password)`, value: password });
  }
  return found;
}

function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(value)) return undefined;
  try {
    return decodeURIComponent(new URL(value).password) || undefined;
  } catch {
    return undefined;
  }
}

/** The secrets `text` contains, each with the line it was on, the secret itself masked. */
export function leakedSecrets(text: string, secrets: readonly NamedSecret[]): Array<{ name: string; where: string }> {
  const leaks: Array<{ name: string; where: string }> = [];
  for (const { name, value } of secrets) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    const at = text.indexOf(value);
    if (at < 0) continue;
    const lineStart = text.lastIndexOf("\n", at) + 1;
    const lineEnd = text.indexOf("\n", at);
    const line = text
      .slice(lineStart, lineEnd < 0 ? undefined : lineEnd)
      .split(value)
      .join("****");
    leaks.push({ name, where: line.length > 160 ? `${line.slice(0, 157)}...` : line });
  }
  return leaks;
}
