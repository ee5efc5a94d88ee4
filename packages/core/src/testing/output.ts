import { logger } from "../util/log";

/**
 * Everything written to stdout and stderr while `fn` runs, with the handlers' logger at DEBUG:
 * the handlers' JSON logs go there, as they go to CloudWatch in AWS. Nothing is passed on to the
 * terminal.
 */
export async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const written: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = tap;
  process.stderr.write = tap;
  logger.setLogLevel("DEBUG");
  try {
    await fn();
  } finally {
    logger.setLogLevel("ERROR");
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  }
  return written.join("");
}

/**
 * An error as anything that logs it could: every own property (enumerable or not: message,
 * stack, a driver's `sql`) of it and of each error down its `cause` chain, as JSON. Lambda's
 * runtime logs an uncaught error's enumerable fields; this is a superset of that.
 */
export function everythingAbout(error: unknown): string {
  const seen = new Set<unknown>();
  const expand = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    if (seen.has(value)) return "[cycle]";
    seen.add(value);
    if (Array.isArray(value)) return value.map(expand);
    return Object.fromEntries(Object.getOwnPropertyNames(value).map((key) => [key, expand((value as Record<string, unknown>)[key])]));
  };
  return JSON.stringify(expand(error));
}
