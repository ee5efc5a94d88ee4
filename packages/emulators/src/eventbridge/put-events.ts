/**
 * PutEvents semantics without any HTTP: request/entry validation and the
 * event envelope, following the EventBridge API reference (PutEvents,
 * PutEventsRequestEntry, PutEventsResultEntry) and the user guide pages
 * "Amazon EventBridge events" and "Calculating PutEvents event entry size".
 * Kept apart from emulator.ts so the rules can be read (and tested) in one
 * place.
 */
import { randomUUID } from "node:crypto";
import { ApiError } from "../http";

/** The event as EventBridge delivers it to targets (e.g. the body of an SQS message). */
export interface EventEnvelope {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  /** ISO-8601 in UTC with second precision, e.g. 2026-01-01T00:00:00Z (no milliseconds, like AWS). */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** One element of the response `Entries`, in request order. */
export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** An entry that passed validation, with the bus it is addressed to. */
export interface AcceptedEntry {
  busName: string;
  envelope: EventEnvelope;
}

export type EntryOutcome = { ok: true; entry: AcceptedEntry } | { ok: false; error: { ErrorCode: string; ErrorMessage: string } };

// PutEvents API reference: Entries has "Array Members: Minimum number of 1
// item. Maximum number of 10 items."
export const MAX_ENTRIES = 10;
// "Calculating PutEvents event entry size": "The total entry size must be
// less than 256KB."
export const MAX_TOTAL_ENTRY_BYTES = 256 * 1024;
// PutEventsRequestEntry: DetailType is a "Free-form string, with a maximum of 128 characters".
const MAX_DETAIL_TYPE_CHARS = 128;

const REQUIRED = ["Source", "DetailType", "Detail"] as const;

/**
 * Validate the request as a whole. Throws ApiError (ValidationException)
 * exactly where AWS fails the call instead of reporting per entry.
 */
export function checkRequest(body: unknown): unknown[] {
  const entries = typeof body === "object" && body !== null ? (body as { Entries?: unknown }).Entries : undefined;
  // The message format mimics AWS's Coral validation errors.
  if (entries === undefined || entries === null) {
    throw new ApiError(
      "ValidationException",
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!Array.isArray(entries)) throw new ApiError("SerializationException", "Entries must be a list");
  if (entries.length < 1 || entries.length > MAX_ENTRIES) {
    const bound = entries.length < 1 ? "greater than or equal to 1" : `less than or equal to ${MAX_ENTRIES}`;
    throw new ApiError(
      "ValidationException",
      `1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  if (entries.reduce((sum: number, e) => sum + entrySize(e), 0) > MAX_TOTAL_ENTRY_BYTES) {
    throw new ApiError("ValidationException", "Total size of the entries in the request is over the limit.");
  }
  // PutEventsRequestEntry: "If you submit a request in which *none* of the
  // entries have each of these properties [Detail, DetailType, Source],
  // EventBridge fails the entire request." Otherwise only the incomplete
  // entries fail (see checkEntry).
  if (entries.every((e) => missingRequired(e) !== undefined)) {
    throw new ApiError("ValidationException", "None of the entries have all of the required properties Source, DetailType and Detail.");
  }
  return entries;
}

/**
 * Validate one entry and wrap it in the event envelope. Failures are
 * returned, never thrown: AWS reports them per entry with ErrorCode and
 * ErrorMessage and counts them in FailedEntryCount.
 */
export function checkEntry(raw: unknown, ctx: { region: string; accountId: string; now: Date }): EntryOutcome {
  const fail = (ErrorCode: string, ErrorMessage: string): EntryOutcome => ({ ok: false, error: { ErrorCode, ErrorMessage } });
  const invalid = (param: string, reason: string) => fail("InvalidArgument", `Parameter ${param} is not valid. Reason: ${reason}`);

  const missing = missingRequired(raw);
  if (missing) return invalid(missing, `${missing} is a required argument.`);
  const e = raw as Record<string, unknown>;
  for (const name of REQUIRED) {
    if (typeof e[name] !== "string") return invalid(name, `${name} must be a string.`);
  }
  const source = e.Source as string;
  const detailType = e.DetailType as string;
  if (detailType.length > MAX_DETAIL_TYPE_CHARS) {
    return invalid("DetailType", `DetailType must be at most ${MAX_DETAIL_TYPE_CHARS} characters.`);
  }

  // PutEventsRequestEntry: Detail is "A valid JSON object" - a JSON array or
  // scalar is rejected like unparsable text (ErrorCode MalformedDetail, "The
  // JSON provided is not valid").
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== "object" || detail === null || Array.isArray(detail)) return fail("MalformedDetail", "Detail is malformed.");

  const resources = e.Resources ?? [];
  if (!Array.isArray(resources) || resources.some((r) => typeof r !== "string")) {
    return invalid("Resources", "Resources must be a list of strings.");
  }

  // PutEventsRequestEntry: "If no time stamp is provided, the time stamp of
  // the PutEvents call is used."
  const time = e.Time === undefined || e.Time === null ? ctx.now : parseTime(e.Time);
  if (!time) return invalid("Time", "Time is not a valid timestamp.");

  return {
    ok: true,
    entry: {
      busName: busName(e.EventBusName),
      // Field order and contents as in "Amazon EventBridge events".
      envelope: {
        version: "0",
        id: randomUUID(),
        "detail-type": detailType,
        source,
        account: ctx.accountId,
        time: isoSeconds(time),
        region: ctx.region,
        resources: resources as string[],
        detail: detail as Record<string, unknown>,
      },
    },
  };
}

/**
 * The bus an entry or rule refers to. PutEventsRequestEntry: "The name or ARN
 * of the event bus to receive the event. ... If you omit this, the default
 * event bus is used." ARNs look like arn:aws:events:<region>:<account>:event-bus/<name>.
 */
export function busName(nameOrArn: unknown): string {
  if (typeof nameOrArn !== "string" || nameOrArn === "") return "default";
  const marker = ":event-bus/";
  const at = nameOrArn.indexOf(marker);
  return nameOrArn.startsWith("arn:") && at >= 0 ? nameOrArn.slice(at + marker.length) : nameOrArn;
}

/** "2026-01-01T00:00:00.123Z" -> "2026-01-01T00:00:00Z": AWS event times carry no milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function missingRequired(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null) return "Source";
  const e = raw as Record<string, unknown>;
  return REQUIRED.find((name) => e[name] === undefined || e[name] === null || e[name] === "");
}

/**
 * The JSON 1.1 protocol carries timestamps as epoch seconds (the SDK sends a
 * number, possibly fractional); hand-written clients may send ISO text.
 */
function parseTime(value: unknown): Date | undefined {
  const date = typeof value === "number" ? new Date(value * 1000) : typeof value === "string" ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** "Calculating PutEvents event entry size": Time counts 14 bytes, strings their UTF-8 length. */
function entrySize(raw: unknown): number {
  if (typeof raw !== "object" || raw === null) return 0;
  const e = raw as Record<string, unknown>;
  const bytes = (v: unknown) => (typeof v === "string" ? Buffer.byteLength(v, "utf8") : 0);
  const resources = Array.isArray(e.Resources) ? e.Resources : [];
  return (
    (e.Time !== undefined && e.Time !== null ? 14 : 0) +
    bytes(e.Source) +
    bytes(e.DetailType) +
    bytes(e.Detail) +
    resources.reduce((s: number, r) => s + bytes(r), 0)
  );
}
