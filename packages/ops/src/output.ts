/**
 * Output helpers for the ops CLI: aligned tables for people, JSON for scripts, and one error
 * type that carries the exit code. Commands never call console.* or process.exit themselves;
 * they write through an `Io`, so tests can run them in-process and read what they printed.
 */
import { createInterface } from "node:readline/promises";
import stringWidth from "string-width";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Ask the operator a yes/no question. Absent when nobody is at a terminal to answer (a script, CI). */
  confirm?(question: string): Promise<boolean>;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  ...(process.stdin.isTTY && process.stderr.isTTY ? { confirm: askAtTerminal } : {}),
};

/** The question on stderr (stdout stays the command's output), the answer from the terminal: only "y" or "yes" goes ahead. */
async function askAtTerminal(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await terminal.question(`${question} [y/N] `));
  } finally {
    terminal.close();
  }
}

/**
 * Before a command changes something it cannot take back: `plan` says what it is about to do.
 * With --yes it goes ahead; at a terminal it asks; otherwise (a script) it refuses, having changed nothing.
 */
export async function confirmPlan(io: Io, plan: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!io.confirm)
    throw new OpsError(
      `${plan}\nNot confirmed, nothing was changed: pass --yes to go ahead (no terminal to ask).`,
      EXIT.usage,
      "NOT_CONFIRMED",
    );
  if (!(await io.confirm(`${plan}\nGo ahead?`))) throw new OpsError("Cancelled: nothing was changed.", EXIT.failed, "CANCELLED");
}

/** Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong (bad input). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An expected failure with a message meant for the operator (no stack trace). */
export class OpsError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    readonly code = exitCode === EXIT.usage ? "INVALID_INPUT" : "FAILED",
  ) {
    super(message);
    this.name = "OpsError";
  }
}

export const usageError = (message: string) => new OpsError(message, EXIT.usage, "INVALID_INPUT");

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
  align?: "left" | "right";
  /** Longer cells are cut with an ellipsis. */
  maxWidth?: number;
}

/**
 * Display width of a string in a terminal (string-width): Hangul and other East Asian wide
 * characters and emoji take two cells, combining marks and decomposed jamo none, so Korean
 * product names line up with their neighbours.
 */
export const displayWidth = (text: string): number => stringWidth(text);

function truncate(text: string, maxWidth: number): string {
  if (displayWidth(text) <= maxWidth) return text;
  let out = "";
  // By grapheme, so a decomposed syllable or an emoji sequence is never cut in half.
  for (const { segment } of new Intl.Segmenter().segment(text)) {
    if (displayWidth(out + segment) > maxWidth - 1) break;
    out += segment;
  }
  return `${out}…`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (value instanceof Date) return value.toISOString().replace("T", " ").slice(0, 19);
  return String(value).replace(/\s+/g, " ");
}

/** Render rows as an aligned text table with a header and a rule. */
export function table<Row>(rows: Row[], columns: Array<Column<Row>>): string {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const text = cell(column.value(row));
      return column.maxWidth ? truncate(text, column.maxWidth) : text;
    }),
  );
  const widths = columns.map((column, index) => Math.max(displayWidth(column.header), ...cells.map((line) => displayWidth(line[index]))));
  const pad = (text: string, index: number) => {
    const fill = " ".repeat(widths[index] - displayWidth(text));
    return columns[index].align === "right" ? fill + text : text + fill;
  };
  const lines = [
    columns.map((column, index) => pad(column.header, index)).join("  "),
    widths.map((width) => "─".repeat(width)).join("  "),
    ...cells.map((line) => line.map(pad).join("  ")),
  ];
  return lines.map((line) => line.trimEnd()).join("\n");
}

/** "3s", "4m", "2h", "5d" ago; for tables where an exact timestamp is noise. */
export function age(date: Date | null | undefined, now = new Date()): string {
  if (!date) return "-";
  const seconds = Math.max(0, Math.round((now.getTime() - date.getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** Print either the JSON value (for scripts) or the human text. */
export function emit(io: Io, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : human());
}
