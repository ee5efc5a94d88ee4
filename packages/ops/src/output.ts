/**
 * Output helpers for the ops CLI: aligned tables for people, JSON for scripts, and one error
 * type that carries the exit code. Commands never call console.* or process.exit themselves;
 * they write through an `Io`, so tests can run them in-process and read what they printed.
 */

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

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
 * Display width of a string in a terminal: Hangul and CJK characters take two cells, so the
 * Korean product names line up with their neighbours.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1f300 && code <= 0x1faff);
    width += wide ? 2 : 1;
  }
  return width;
}

function truncate(text: string, maxWidth: number): string {
  if (displayWidth(text) <= maxWidth) return text;
  let out = "";
  for (const char of text) {
    if (displayWidth(out + char) > maxWidth - 1) break;
    out += char;
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
  const cells = rows.map((row) => columns.map((column) => {
    const text = cell(column.value(row));
    return column.maxWidth ? truncate(text, column.maxWidth) : text;
  }));
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
