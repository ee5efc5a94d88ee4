/**
 * Output helpers for the ops CLI: aligned tables for people, JSON for scripts, and one error
 * type that carries the exit code. Commands never call console.* or process.exit themselves;
 * they write through an `Io`, so tests can run them in-process and read what they printed.
 */
import { createInterface } from "node:readline/promises";
import stringWidth from "string-width";
import stripAnsi from "strip-ansi";

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

/**
 * Characters a terminal acts on instead of printing, once escape sequences are gone (strip-ansi):
 * C0 controls (a carriage return or backspaces overwrite what was printed), DEL, C1 controls (the
 * 8-bit CSI), and the bidirectional marks and overrides that reorder text. Newline is kept where a
 * message has lines; a table cell has none.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds, to take them out.
export const ACTIVE_CHARACTER = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const ACTIVE_CHARACTERS = new RegExp(ACTIVE_CHARACTER.source, "g");
/** The ones JSON.stringify leaves raw (it escapes C0 itself). */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text that can only be printed: what the CLI shows comes from factories, queues and people (a
 * factory's 500 body becomes a restock request's last error), and an escape sequence in it could
 * hide text, rewrite lines or set the window title. Tabs become spaces; every other control goes.
 */
export function inert(text: string): string {
  return stripAnsi(text).replace(/\t/g, " ").replace(ACTIVE_CHARACTERS, "");
}

/** JSON with every control and bidirectional character escaped (JSON.stringify leaves DEL, C1 and U+202E raw): the same data, inert. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    RAW_IN_JSON,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Everything `io` prints made inert (see `inert`), the questions it asks too. */
export function inertIo(io: Io): Io {
  const { confirm } = io;
  return {
    out: (text) => io.out(inert(text)),
    err: (text) => io.err(inert(text)),
    ...(confirm ? { confirm: (question: string) => confirm(inert(question)) } : {}),
  };
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
  // One line per row: line breaks and tabs become spaces before the rest is made inert.
  return inert(String(value).replace(/\s+/g, " ")).replace(/ {2,}/g, " ");
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
  io.out(json ? jsonText(value, 2) : human());
}
