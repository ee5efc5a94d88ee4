/**
 * The legacy Factory API wire contract (docs/design.md §3), as the simulator
 * enforces it. The real API is fixed and owned by another team. This file is a
 * deliberate second copy: written from the contract, importing nothing from core
 * (whose copy is packages/core/src/factory/contract.ts), so the simulator checks
 * the requests core's client sends instead of sharing its mistakes.
 * test/contract/factory.test.ts checks that the two copies agree.
 */
import { z } from "zod";

export const MANUFACTURE_PATH = "/api/manufactures";

/** Legacy servers cap request bodies; anything larger is rejected with 400. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Contract field order; callbacks echo exactly these fields, in this order. */
export const MANUFACTURE_FIELDS = [
  "MessageGroupId",
  "MessageAttributeProductId",
  "MessageAttributeProductCnt",
  "MessageAttributeFactoryId",
  "MessageAttributeRequester",
  "CallbackUrl",
] as const;

export type ManufactureField = (typeof MANUFACTURE_FIELDS)[number];

/** Body of POST /api/manufactures and of every callback. All values are strings. */
export type ManufactureRequest = Record<ManufactureField, string>;

/** Accepted (202) response body. */
export interface LegacyOkBody {
  result: "OK";
  requestId: string;
}

/** Body of every 400/404/405/500 answer (and of /_sim/config validation errors). */
export interface LegacyFailBody {
  result: "FAIL";
  message: string;
}

export const failBody = (message: string): LegacyFailBody => ({ result: "FAIL", message });

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

// The legacy API is string-typed end to end: a JSON number such as 10 instead
// of "10" is a client bug we want callers to see, not something to coerce.
const legacyString = () =>
  z
    .string({
      error: (iss) => (iss.input === undefined ? "is required" : `must be a string (got ${describeType(iss.input)})`),
    })
    .refine((s) => s.trim().length > 0, { message: "must not be empty" });

// No sign, no leading zeros, no decimals, and small enough to round-trip
// through a JS number on the factory side.
const POSITIVE_INT = /^[1-9][0-9]*$/;
const isPositiveIntString = (s: string) => POSITIVE_INT.test(s) && Number.isSafeInteger(Number(s));

function isHttpUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/**
 * Unknown extra fields are tolerated (stripped) like the real API does; they
 * are not echoed in callbacks.
 */
export const manufactureRequestSchema = z.object(
  {
    MessageGroupId: legacyString(),
    MessageAttributeProductId: legacyString(),
    MessageAttributeProductCnt: legacyString().refine(isPositiveIntString, {
      message: 'must be a positive integer string such as "10"',
    }),
    MessageAttributeFactoryId: legacyString(),
    MessageAttributeRequester: legacyString(),
    CallbackUrl: legacyString().refine(isHttpUrl, { message: "must be an absolute http(s) URL" }),
  },
  { error: "body must be a JSON object" },
);

/** Turns zod issues into the one-line `message` of a LegacyFailBody. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")} ${issue.message}` : issue.message)).join("; ");
}

export type ValidationResult = { ok: true; value: ManufactureRequest } | { ok: false; message: string };

/** Validates an already-parsed JSON body against the legacy contract. */
export function validateManufactureRequest(body: unknown): ValidationResult {
  const parsed = manufactureRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, message: formatIssues(parsed.error) };
  // Rebuild in contract order so the echo never depends on schema internals.
  const value = Object.fromEntries(MANUFACTURE_FIELDS.map((f) => [f, parsed.data[f]])) as ManufactureRequest;
  return { ok: true, value };
}
