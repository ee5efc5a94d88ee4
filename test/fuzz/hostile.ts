/**
 * Hostile HTTP requests for the Sales API, and an oracle that says, from the public contract
 * (docs/design.md §3) rather than from the implementation, which answers each one may get.
 *
 * Every generated request is one that must change nothing in the database or the mail queue:
 * invalid input, unknown SKUs, bad tokens and links, wrong routes, valid orders only for products
 * that are sold out *and* already have an open restock request (a 409 that writes nothing), valid
 * back-in-stock subscriptions only for the address that already waits (confirmed, and at its cap
 * of open subscriptions: 202 for any product, nothing stored), and genuine links only where
 * following them changes nothing (already confirmed, ended or unknown subscriptions). A request
 * the oracle thinks could legitimately write (a valid order for an in-stock product, a matching
 * factory callback, a new address subscribing, a one-click unsubscribe of an open subscription)
 * is filtered out before it is sent.
 */
import { createHmac } from "node:crypto";
import * as Subscription from "@donut-states/core/subscription";
import fc from "fast-check";

export const MAX_BODY_BYTES = 8 * 1024;
const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** What the database holds, so the oracle can tell a 404 from a 409. */
export interface World {
  /** Products with stock: a valid order for one of these would write, so none is sent. */
  inStock: string[];
  /** Stock 0 and an open restock request: a valid order answers 409 and writes nothing. */
  soldOut: string[];
  /** The open restock requests (status "requested"), for callbacks with valid tokens. */
  restocks: Array<{ id: string; sku: string; quantity: number; factoryId: string }>;
  secret: string;
  /**
   * The one address with back-in-stock subscriptions, lower case: `open` are its confirmed ones
   * (as many as an address may have open), `ended` one it unsubscribed from.
   */
  subscriber: { email: string; skus: string[]; open: string[]; ended: string };
  /** The key of the links in customer mails. */
  linkSecret: string;
}

export type RouteTag =
  | "GET /products"
  | "GET /products/{sku}"
  | "POST /orders"
  | "POST /products/{sku}/subscriptions"
  | "POST /factory/callbacks/{restockId}"
  | "GET /subscriptions/confirm"
  | "GET /subscriptions/unsubscribe"
  | "POST /subscriptions/unsubscribe"
  | "$default";

export interface HostileRequest {
  route: RouteTag;
  method: string;
  /** Request target as sent on the request line (origin-form, absolute-form or "*"). */
  target: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Statuses the contract allows for this request. */
  expected: number[];
  /** Error code the contract promises, when exactly one applies. */
  expectedCode?: string;
  /** The oracle thinks this request may legitimately write: never sent. */
  mayWrite: boolean;
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

const SQLISH = [
  "' OR '1'='1",
  "'; DROP TABLE product; --",
  "1; UPDATE product SET stock = 0",
  '" OR ""="',
  "CP-502101' --",
  "CP-502101\\' OR 1=1 #",
  "') UNION SELECT * FROM orders --",
  "%' AND SLEEP(5) AND '%'='",
  "0x414243",
  "CHAR(65)",
  "admin'/*",
  "*/ SELECT 1 /*",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as a literal string.
  "${7*7}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "%00",
  "\u0000",
  "NULL",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "__proto__",
  "constructor",
];

const ODD_UNICODE = [
  "\u202eFDP-TXE",
  "CP\u200b-502101",
  "ＣＰ－５０２１０１",
  "CP-502101\u0301",
  "🍩🍩🍩",
  "\ud83c",
  "\udf69",
  "Ω≈ç√∫",
  "𝕯𝖔𝖓𝖚𝖙",
  "부산도너츠",
  "ﷺ",
  "\u0000\u0001\u001f",
  "\r\n\r\n",
  "\t",
  " ",
  "\ufeff",
  "İı",
  "ß",
  "e\u0301",
];

/** Strings that are hostile in many ways; a few are valid SKUs by accident, and the oracle knows. */
function hostileString(world: World): fc.Arbitrary<string> {
  const known = [...world.inStock, ...world.soldOut];
  return fc.oneof(
    { arbitrary: fc.string(), weight: 3 },
    { arbitrary: fc.string({ unit: "grapheme" }), weight: 2 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 2 },
    { arbitrary: fc.constantFrom(...SQLISH), weight: 3 },
    { arbitrary: fc.constantFrom(...ODD_UNICODE), weight: 2 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/), weight: 3 },
    { arbitrary: fc.constantFrom(...known).chain((sku) => fc.mixedCase(fc.constant(sku))), weight: 2 },
    { arbitrary: fc.constantFrom(...known).map((sku) => `${sku} `), weight: 1 },
    { arbitrary: fc.integer({ min: 65, max: 5000 }).map((n) => "X".repeat(n)), weight: 1 },
    { arbitrary: fc.string({ minLength: 200, maxLength: 2000 }), weight: 1 },
  );
}

/** Numbers as raw JSON tokens, including ones JSON.parse reads as valid quantities (1.0, 1e2). */
const NUMBER_TOKENS = [
  "0",
  "-0",
  "-1",
  "101",
  "1000",
  "2147483648",
  "4294967297",
  "9007199254740993",
  "1e309",
  "-1e309",
  "1e-400",
  "1.5",
  "0.999999",
  "100.0000001",
  "1.0",
  "1e0",
  "1e2",
  "10E1",
  "1.0000000000000001",
  "99999999999999999999999999",
  "-100",
  "100",
  "1",
  "50",
];
const NOT_NUMBER_TOKENS = [
  "NaN",
  "Infinity",
  "-Infinity",
  "0x10",
  "1_000",
  "01",
  "+1",
  "1.",
  ".5",
  "--1",
  "1e",
  "true",
  "false",
  "null",
  '"1"',
  '"NaN"',
  '"1e2"',
  '" 1"',
  "[1]",
  "{}",
  '{"$gt":0}',
  '""',
];

function quantityToken(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...NUMBER_TOKENS), weight: 4 },
    { arbitrary: fc.constantFrom(...NOT_NUMBER_TOKENS), weight: 3 },
    { arbitrary: fc.integer().map(String), weight: 2 },
    { arbitrary: fc.integer({ min: 1, max: 100 }).map(String), weight: 2 },
    { arbitrary: fc.double().map((d) => JSON.stringify(d)), weight: 2 },
    { arbitrary: fc.bigInt().map(String), weight: 1 },
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? "null"), weight: 1 },
  );
}

const EXTRA_FIELDS = fc.dictionary(
  fc.oneof(
    fc.constantFrom("price", "stock", "__proto__", "constructor", "id", "sku ", "Sku", "QUANTITY", "discount"),
    fc.string({ maxLength: 12 }),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

/** Raw JSON-ish text: mostly objects with sku and quantity, plus everything else. */
function orderBodyText(world: World): fc.Arbitrary<string> {
  const field = (name: string, value: string) => `${JSON.stringify(name)}:${value}`;
  const objectBody = fc
    .record({
      sku: fc.option(
        fc.oneof(
          { arbitrary: hostileString(world).map((s) => JSON.stringify(s)), weight: 6 },
          { arbitrary: fc.constantFrom(...world.soldOut).map((s) => JSON.stringify(s)), weight: 4 },
          { arbitrary: fc.constantFrom(...world.inStock).map((s) => JSON.stringify(s)), weight: 3 },
          { arbitrary: quantityToken(), weight: 1 },
        ),
        { nil: undefined, freq: 10 },
      ),
      quantity: fc.option(quantityToken(), { nil: undefined, freq: 10 }),
      extra: fc.option(EXTRA_FIELDS, { nil: undefined, freq: 2 }),
      reversed: fc.boolean(),
      duplicateSku: fc.option(hostileString(world), { nil: undefined, freq: 8 }),
      whitespace: fc.constantFrom("", " ", "\n", "\t\r\n  "),
    })
    .map(({ sku, quantity, extra, reversed, duplicateSku, whitespace }) => {
      const parts: string[] = [];
      if (duplicateSku !== undefined) parts.push(field("sku", JSON.stringify(duplicateSku)));
      if (sku !== undefined) parts.push(field("sku", sku));
      if (quantity !== undefined) parts.push(field("quantity", quantity));
      for (const [key, value] of Object.entries(extra ?? {})) parts.push(field(key, JSON.stringify(value)));
      if (reversed) parts.reverse();
      return `${whitespace}{${parts.join(`,${whitespace}`)}}${whitespace}`;
    });
  const malformed = fc.oneof(
    fc.constantFrom(
      "",
      "{",
      "}",
      "[",
      "{}",
      "[]",
      "null",
      "true",
      "0",
      '""',
      '"{\\"sku\\":\\"A\\",\\"quantity\\":1}"',
      '{"sku":"CP-502101","quantity":1,}',
      "{'sku':'CP-502101','quantity':1}",
      '{sku:"CP-502101",quantity:1}',
      '{"sku":"CP-502101" "quantity":1}',
      '/* c */ {"sku":"CP-502101","quantity":1}',
      '\ufeff{"sku":"CP-502101","quantity":1}',
      "sku=CP-502101&quantity=1",
      "<order><sku>CP-502101</sku></order>",
      "[".repeat(3000) + "]".repeat(3000),
      `${'{"a":'.repeat(1000)}1${"}".repeat(1000)}`,
    ),
    fc.string(),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.json({ maxDepth: 4 }),
  );
  // Valid as far as the contract goes (a sold-out, unknown or in-stock SKU; a quantity JSON reads
  // as 1..100, however it is spelled): these reach the database. In-stock ones are filtered out.
  const validish = fc
    .record({
      sku: fc.oneof(
        { arbitrary: fc.constantFrom(...world.soldOut), weight: 4 },
        { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/), weight: 2 },
        { arbitrary: fc.constantFrom(...world.inStock), weight: 1 },
      ),
      quantity: fc.oneof(
        fc.integer({ min: 1, max: 100 }).map(String),
        fc.constantFrom("1.0", "1e0", "1e2", "10E1", "1.0000000000000001", "100", "5e1"),
      ),
      reversed: fc.boolean(),
    })
    .map(({ sku, quantity, reversed }) => {
      const parts = [`"sku":${JSON.stringify(sku)}`, `"quantity":${quantity}`];
      return `{${(reversed ? parts.reverse() : parts).join(",")}}`;
    });
  return fc.oneof({ arbitrary: objectBody, weight: 6 }, { arbitrary: validish, weight: 3 }, { arbitrary: malformed, weight: 3 });
}

/** Body bytes: text as UTF-8, sometimes raw bytes, sometimes padded past the 8 KiB limit. */
function bodyBytes(text: fc.Arbitrary<string>): fc.Arbitrary<Buffer | undefined> {
  return fc.oneof(
    { arbitrary: text.map((t) => Buffer.from(t, "utf8")), weight: 12 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 1500 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
    {
      // Oversize: a plausible body with a huge padding field (8 KiB .. 256 KiB).
      arbitrary: fc
        .tuple(text, fc.integer({ min: MAX_BODY_BYTES - 16, max: 256 * 1024 }), fc.constantFrom("x", "é", "🍩", " "))
        .map(([t, size, unit]) =>
          Buffer.from(`{"pad":"${unit.repeat(Math.ceil(size / Buffer.byteLength(unit)))}","body":${JSON.stringify(t)}}`, "utf8"),
        ),
      weight: 2,
    },
  );
}

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/vnd.api+json",
  "application/problem+json; charset=UTF-8",
  " application/json ",
];
const NON_JSON_TYPES = [
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=----x",
  "application/xml",
  "application/octet-stream",
  "text/json",
  "json",
  "*/*",
  "image/png",
  "",
];
const ODD_TYPES = [
  "application/jsonx",
  "application/json5",
  "application/json-seq",
  "application/json, text/plain",
  "application/json;;;",
  "application/",
  "application/+json",
];

/** Header values must stay within what HTTP/1.1 can carry (Node refuses the rest client-side). */
const headerSafe = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, "");

function contentType(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...JSON_TYPES), weight: 10 },
    { arbitrary: fc.constant(undefined), weight: 2 },
    { arbitrary: fc.constantFrom(...NON_JSON_TYPES), weight: 3 },
    { arbitrary: fc.constantFrom(...ODD_TYPES), weight: 1 },
    { arbitrary: fc.string({ maxLength: 60 }).map(headerSafe), weight: 1 },
  );
}

function idempotencyKey(): fc.Arbitrary<string | string[] | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.uuid(), weight: 2 },
    { arbitrary: fc.ulid(), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        "",
        " ",
        "\t",
        "a b",
        "key\twith\ttabs",
        "x".repeat(255),
        "x".repeat(256),
        "y".repeat(4000),
        "ключ",
        "clé-é",
        "' OR 1=1 --",
        "null",
      ),
      weight: 3,
    },
    { arbitrary: fc.string({ maxLength: 300 }).map(headerSafe), weight: 2 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map(headerSafe), weight: 1 },
    { arbitrary: fc.array(fc.uuid(), { minLength: 2, maxLength: 3 }), weight: 1 },
  );
}

function noiseHeaders(): fc.Arbitrary<Record<string, string>> {
  return fc.dictionary(
    fc.oneof(
      fc.constantFrom("x-forwarded-for", "user-agent", "accept", "accept-encoding", "x-amzn-trace-id", "cookie", "authorization", "origin"),
      fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
    ),
    fc.string({ maxLength: 200 }).map(headerSafe),
    { maxKeys: 3 },
  );
}

/** encodeURIComponent that also takes lone surrogates (as the bytes of an invalid UTF-8 sequence). */
export function encodeSegment(value: string): string {
  return value.replace(/[\ud800-\udbff][\udc00-\udfff]|[\s\S]/g, (char) =>
    char.length === 1 && /[\ud800-\udfff]/.test(char) ? "%ED%A0%80" : encodeURIComponent(char),
  );
}

/** Characters Node's HTTP client and llhttp both accept raw on the request line. */
const rawPathChar = fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@%\"<>{}|\\^`[]".split(""));

function pathSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.webSegment(), weight: 3 },
    { arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).map(encodeSegment), weight: 2 },
    { arbitrary: fc.string({ unit: rawPathChar, maxLength: 20 }), weight: 2 },
    {
      arbitrary: fc.constantFrom(
        "..",
        ".",
        "%2e%2e",
        "%2F",
        "%00",
        "%",
        "%zz",
        "%E0%A4%A",
        "%C0%AF",
        "..%2f..%2f",
        "%F0%9F%8D%A9",
        ";",
        "orders",
        "products",
        "factory",
        "callbacks",
      ),
      weight: 2,
    },
    { arbitrary: fc.integer({ min: 100, max: 3000 }).map((n) => "s".repeat(n)), weight: 1 },
  );
}

function query(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(""), weight: 6 },
    { arbitrary: fc.webQueryParameters().map((q) => (q ? `?${q}` : "")), weight: 2 },
    {
      arbitrary: fc.constantFrom("?", "?&", "?token", "?token=", "?%", "?a=%zz", "?limit=-1", "?sku=' OR 1=1", "?__proto__[x]=1"),
      weight: 2,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------

type TypeVerdict = "json" | "not-json" | "either";

/** application/json and application/*+json are JSON; other application/*json* spellings may go either way. */
function typeVerdict(value: string | string[] | undefined): TypeVerdict {
  if (value === undefined) return "either"; // the contract does not say; accepting it as JSON is lenient but fine
  const joined = (Array.isArray(value) ? value.join(", ") : value).trim();
  const media = joined.split(";")[0].trim().toLowerCase();
  if (media === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(media)) return joined.includes(",") ? "either" : "json";
  if (media.startsWith("application/") && media.includes("json")) return "either";
  return "not-json";
}

/** The header value the server sees: Node trims it and joins repeats with ", ". */
function received(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.map((v) => v.trim()).join(", ") : value).replace(/^[ \t]+|[ \t]+$/g, "");
}

function lookupSku(world: World, sku: string): "in-stock" | "sold-out" | "unknown" | "case-variant" {
  if (world.inStock.includes(sku)) return "in-stock";
  if (world.soldOut.includes(sku)) return "sold-out";
  const lower = sku.toLowerCase();
  if ([...world.inStock, ...world.soldOut].some((known) => known.toLowerCase() === lower)) return "case-variant";
  return "unknown";
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

interface Verdict {
  expected: Set<number>;
  code?: string;
  mayWrite: boolean;
}

/** Body checks every JSON route shares: size, media type, JSON syntax. Returns the parsed value when all pass. */
function bodyChecks(
  headers: HostileRequest["headers"],
  body: Buffer | undefined,
  errors: Set<number>,
): { parsed?: unknown; ok: boolean; typeEither: boolean } {
  const bytes = body ?? Buffer.alloc(0);
  const verdict = typeVerdict(headers["content-type"]);
  let ok = true;
  // Text bodies travel as UTF-8 text in the API Gateway event; invalid bytes become U+FFFD (3 bytes).
  const sizeAfterDecoding = Buffer.byteLength(bytes.toString("utf8"), "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    errors.add(413);
    ok = false;
  } else if (sizeAfterDecoding > MAX_BODY_BYTES) {
    errors.add(413);
  }
  if (verdict === "not-json") {
    errors.add(415);
    ok = false;
  } else if (verdict === "either") errors.add(415);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    errors.add(400);
    ok = false;
  }
  return { parsed, ok, typeEither: verdict === "either" };
}

function orderVerdict(world: World, request: Pick<HostileRequest, "headers" | "body">): Verdict {
  const errors = new Set<number>();
  const body = bodyChecks(request.headers, request.body, errors);
  let valid = body.ok;
  let sku: string | undefined;
  if (body.ok) {
    const value = body.parsed as Record<string, unknown>;
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    const keys = isObject ? Object.keys(value).sort() : [];
    const schemaOk =
      isObject &&
      keys.length === 2 &&
      keys[0] === "quantity" &&
      keys[1] === "sku" &&
      typeof value.sku === "string" &&
      SKU_PATTERN.test(value.sku) &&
      typeof value.quantity === "number" &&
      Number.isInteger(value.quantity) &&
      value.quantity >= 1 &&
      value.quantity <= 100;
    if (!schemaOk) {
      errors.add(400);
      valid = false;
    } else sku = value.sku as string;
  }
  const key = received(request.headers["idempotency-key"]);
  if (key !== undefined && !KEY_PATTERN.test(key)) {
    errors.add(400);
    valid = false;
  }
  if (!valid) return { expected: errors, mayWrite: false };

  // Valid as far as the contract goes: the database decides.
  const found = lookupSku(world, sku!);
  if (found === "in-stock" || found === "case-variant") return { expected: new Set([201]), mayWrite: true };
  const outcome = found === "sold-out" ? 409 : 404;
  // Only a maybe-415 (odd media type) or a maybe-413 (bytes that grew when decoded) can pre-empt it.
  return {
    expected: new Set([outcome, ...errors]),
    code: errors.size ? undefined : found === "sold-out" ? "OUT_OF_STOCK" : "PRODUCT_NOT_FOUND",
    mayWrite: false,
  };
}

/** RFC 5321's limits (docs/design.md: at most 254 characters, at most 64 before the @). */
const MAX_EMAIL = 254;
const MAX_LOCAL_PART = 64;
/** Addresses no reading of "an e-mail address" refuses: plain ASCII local part, dotted domain, a letters-only TLD. */
const PLAIN_EMAIL = /^[a-z0-9]+(?:[._+-][a-z0-9]+)*@[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*\.[a-z]{2,}$/;
/** Characters no address accepted here holds (no display names, comments, quoted local parts or lists). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern is for.
const NEVER_IN_EMAIL = /[\s\x00-\x1f\x7f<>,;:"()[\]\\]/;

/**
 * The contract says "trimmed, lower-cased, at most 254 characters, an e-mail address" and no
 * more: plain addresses must be accepted, clear non-addresses refused, anything between
 * (quoted forms, IP-literal domains, non-ASCII, one-letter TLDs) may go either way.
 */
function emailVerdict(value: unknown): "valid" | "invalid" | "either" {
  if (typeof value !== "string") return "invalid";
  const email = value.trim().toLowerCase();
  const at = email.indexOf("@");
  if (email.length > MAX_EMAIL || at < 1 || at !== email.lastIndexOf("@") || at > MAX_LOCAL_PART || NEVER_IN_EMAIL.test(email))
    return "invalid";
  // Untrimmed, the raw string may be refused for its length before it is trimmed.
  if (value.length > MAX_EMAIL) return "either";
  return PLAIN_EMAIL.test(email) ? "valid" : "either";
}

function subscriptionVerdict(world: World, sku: string, request: Pick<HostileRequest, "headers" | "body">): Verdict {
  // The path is read before the body.
  if (!SKU_PATTERN.test(sku)) return { expected: new Set([400]), code: "VALIDATION_FAILED", mayWrite: false };
  const errors = new Set<number>();
  const body = bodyChecks(request.headers, request.body, errors);
  if (!body.ok) return { expected: errors, mayWrite: false };
  const value = body.parsed as Record<string, unknown>;
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const keys = isObject ? Object.keys(value) : [];
  const email = isObject && keys.length === 1 && keys[0] === "email" ? emailVerdict(value.email) : "invalid";
  if (email === "invalid")
    return { expected: new Set([...errors, 400]), code: errors.size ? undefined : "VALIDATION_FAILED", mayWrite: false };
  if (email === "either") errors.add(400);

  // An address: the database decides.
  const found = lookupSku(world, sku);
  if (found === "unknown")
    return { expected: new Set([404, ...errors]), code: errors.size ? undefined : "PRODUCT_NOT_FOUND", mayWrite: false };
  const waiting = email === "valid" && (value.email as string).trim().toLowerCase() === world.subscriber.email;
  // Any other address would be a new subscription.
  if (!waiting) return { expected: new Set([202, ...errors]), mayWrite: true };
  // Its own products (in any letter case): confirmed already; any other: beyond its cap. Nothing is stored.
  return { expected: new Set([202, ...errors]), mayWrite: false };
}

/** A link's token for `purpose`, as the contract defines it (docs/design.md, back-in-stock). */
function linkToken(secret: string, purpose: Subscription.LinkPurpose, id: string, expiresAt: number): string {
  return Subscription.signToken(purpose, id, secret, expiresAt);
}

const LINK_TOKEN = /^([0-9A-HJKMNP-TV-Z]{26})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;

/** What a link's token is, from the contract alone: malformed (400), not ours for this purpose (403), too old (410), or the subscription's id. */
function tokenVerdict(world: World, purpose: Subscription.LinkPurpose, token: string | undefined): number | string {
  const parts = token !== undefined && token.length <= 100 ? LINK_TOKEN.exec(token) : null;
  if (!parts) return 400;
  const [, id, expires] = parts;
  if (linkToken(world.linkSecret, purpose, id, Number.parseInt(expires, 36)) !== token) return 403;
  if (Number.parseInt(expires, 36) * 1000 <= Date.now()) return 410;
  return id;
}

const FORM_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

function linkVerdict(
  world: World,
  route: "GET /subscriptions/confirm" | "GET /subscriptions/unsubscribe" | "POST /subscriptions/unsubscribe",
  token: string | undefined,
  request: Pick<HostileRequest, "headers" | "body">,
): Verdict {
  const checked = tokenVerdict(world, route === "GET /subscriptions/confirm" ? "confirm" : "unsubscribe", token);
  if (typeof checked === "number") return { expected: new Set([checked]), mayWrite: false };
  const open = world.subscriber.open.includes(checked);
  // Confirming an open (confirmed) subscription again changes nothing; anything else has ended.
  if (route === "GET /subscriptions/confirm") return { expected: new Set([open ? 200 : 410]), mayWrite: false };
  if (route === "GET /subscriptions/unsubscribe") return { expected: new Set([200]), mayWrite: false };
  // The one-click POST: size, then a form, then List-Unsubscribe=One-Click in it.
  const bytes = request.body ?? Buffer.alloc(0);
  if (bytes.length > MAX_BODY_BYTES) return { expected: new Set([413]), mayWrite: false };
  const type = received(request.headers["content-type"]) ?? "application/x-www-form-urlencoded";
  if (!FORM_TYPE.test(type.trim())) return { expected: new Set([415]), mayWrite: false };
  const plain = /^application\/x-www-form-urlencoded\s*(;[^,]*)?$/i.test(type.trim());
  const oneClick = plain && new URLSearchParams(bytes.toString("utf8")).get("List-Unsubscribe") === "One-Click";
  // A multipart body or an odd media type: the form reader decides.
  const either = !plain;
  if (!oneClick && !either) return { expected: new Set([400]), mayWrite: false };
  return { expected: new Set(either ? [200, 400] : [200]), mayWrite: open };
}

/** The token of a callback URL, as the contract defines it: HMAC-SHA256(secret, restock id and attempt). */
function callbackToken(secret: string, restockId: string, attempt: number): string {
  return createHmac("sha256", secret).update(`restock-callback:${restockId}:${attempt}`).digest("base64url");
}

function callbackVerdict(
  world: World,
  restockId: string,
  { token, attempt }: { token: string | undefined; attempt: string | undefined },
  request: Pick<HostileRequest, "headers" | "body">,
): Verdict {
  if (token === undefined || token === "") return { expected: new Set([401]), code: "TOKEN_REQUIRED", mayWrite: false };
  // Every callback URL names its factory call, a whole number from 1.
  if (attempt === undefined || !/^[1-9][0-9]{0,5}$/.test(attempt))
    return { expected: new Set([400]), code: "VALIDATION_FAILED", mayWrite: false };
  const expectedToken = callbackToken(world.secret, restockId, Number(attempt));
  if (token !== expectedToken) return { expected: new Set([403]), code: "TOKEN_INVALID", mayWrite: false };
  if (!ULID_PATTERN.test(restockId)) return { expected: new Set([404]), code: "RESTOCK_NOT_FOUND", mayWrite: false };

  const errors = new Set<number>();
  const body = bodyChecks(request.headers, request.body, errors);
  let valid = body.ok;
  const value = body.parsed as Record<string, unknown>;
  if (body.ok) {
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    const optionalString = (name: string, max: number) =>
      value[name] === undefined || (typeof value[name] === "string" && (value[name] as string).length <= max);
    const schemaOk =
      isObject &&
      typeof value.MessageAttributeProductId === "string" &&
      value.MessageAttributeProductId.length >= 1 &&
      value.MessageAttributeProductId.length <= 64 &&
      typeof value.MessageAttributeProductCnt === "string" &&
      /^[1-9][0-9]{0,8}$/.test(value.MessageAttributeProductCnt) &&
      optionalString("MessageAttributeFactoryId", 32) &&
      optionalString("MessageGroupId", 128) &&
      optionalString("MessageAttributeRequester", 256) &&
      optionalString("CallbackUrl", 4096);
    if (!schemaOk) {
      errors.add(400);
      valid = false;
    }
  }
  if (!valid) return { expected: errors, mayWrite: false };
  const restock = world.restocks.find((candidate) => candidate.id === restockId);
  if (!restock) return { expected: new Set([404, ...errors]), code: errors.size ? undefined : "RESTOCK_NOT_FOUND", mayWrite: false };
  const matches =
    value.MessageAttributeProductId === restock.sku &&
    value.MessageAttributeProductCnt === String(restock.quantity) &&
    (value.MessageAttributeFactoryId === undefined || value.MessageAttributeFactoryId === restock.factoryId);
  if (matches) return { expected: new Set([200]), mayWrite: true };
  return { expected: new Set([409, ...errors]), code: errors.size ? undefined : "CALLBACK_MISMATCH", mayWrite: false };
}

/** The public route table (docs/design.md §3), for 404 vs 405 on everything else. */
const ROUTES: Array<{ method: string; pattern: RegExp; tag: RouteTag }> = [
  { method: "GET", pattern: /^\/products$/, tag: "GET /products" },
  { method: "GET", pattern: /^\/products\/[^/]+$/, tag: "GET /products/{sku}" },
  { method: "POST", pattern: /^\/orders$/, tag: "POST /orders" },
  { method: "POST", pattern: /^\/products\/[^/]+\/subscriptions$/, tag: "POST /products/{sku}/subscriptions" },
  { method: "POST", pattern: /^\/factory\/callbacks\/[^/]+$/, tag: "POST /factory/callbacks/{restockId}" },
  { method: "GET", pattern: /^\/subscriptions\/confirm$/, tag: "GET /subscriptions/confirm" },
  { method: "GET", pattern: /^\/subscriptions\/unsubscribe$/, tag: "GET /subscriptions/unsubscribe" },
  { method: "POST", pattern: /^\/subscriptions\/unsubscribe$/, tag: "POST /subscriptions/unsubscribe" },
];

/** Where a request lands and what it may answer. */
export function judge(
  world: World,
  request: Omit<HostileRequest, "expected" | "expectedCode" | "mayWrite" | "route">,
): Verdict & { route: RouteTag } {
  if (!parsesAsUrl(request.target)) {
    // The gateway cannot read the target at all (see parsesAsUrl): a 400, and no handler runs.
    return { route: "$default", expected: new Set([400]), code: "BAD_REQUEST_TARGET", mayWrite: false };
  }
  const url = new URL(request.target, "http://localhost");
  const path = url.pathname;
  const method = request.method.toUpperCase();
  const route = ROUTES.find((candidate) => candidate.method === method && candidate.pattern.test(path));
  // API Gateway joins a repeated query parameter's values with commas.
  const parameter = (wanted: string) => {
    const values = [...url.searchParams].filter(([name]) => name === wanted).map(([, value]) => value);
    return values.length ? values.join(",") : undefined;
  };
  if (!route) {
    const allowed = ROUTES.some((candidate) => candidate.pattern.test(path));
    return {
      route: "$default",
      expected: new Set([allowed ? 405 : 404]),
      code: allowed ? "METHOD_NOT_ALLOWED" : "ROUTE_NOT_FOUND",
      mayWrite: false,
    };
  }
  switch (route.tag) {
    case "GET /products":
      return { route: route.tag, expected: new Set([200]), mayWrite: false };
    case "GET /products/{sku}": {
      const sku = decode(path.slice("/products/".length));
      if (!SKU_PATTERN.test(sku)) return { route: route.tag, expected: new Set([400]), code: "VALIDATION_FAILED", mayWrite: false };
      const found = lookupSku(world, sku);
      // SKUs are matched case-insensitively by the database collation; the contract does not say.
      if (found === "case-variant") return { route: route.tag, expected: new Set([200, 404]), mayWrite: false };
      return found === "unknown"
        ? { route: route.tag, expected: new Set([404]), code: "PRODUCT_NOT_FOUND", mayWrite: false }
        : { route: route.tag, expected: new Set([200]), mayWrite: false };
    }
    case "POST /orders":
      return { route: route.tag, ...orderVerdict(world, request) };
    case "POST /products/{sku}/subscriptions": {
      const sku = decode(path.slice("/products/".length, -"/subscriptions".length));
      return { route: route.tag, ...subscriptionVerdict(world, sku, request) };
    }
    case "GET /subscriptions/confirm":
    case "GET /subscriptions/unsubscribe":
    case "POST /subscriptions/unsubscribe":
      return { route: route.tag, ...linkVerdict(world, route.tag, parameter("token"), request) };
    case "POST /factory/callbacks/{restockId}": {
      const restockId = decode(path.slice("/factory/callbacks/".length));
      return {
        route: route.tag,
        ...callbackVerdict(world, restockId, { token: parameter("token"), attempt: parameter("attempt") }, request),
      };
    }
    default:
      throw new Error(`unhandled route ${route.tag}`);
  }
}

function finish(world: World, raw: Omit<HostileRequest, "expected" | "expectedCode" | "mayWrite" | "route">): HostileRequest {
  // The request line carries printable ASCII only (Node's client refuses spaces and controls, its
  // server refuses bytes >= 0x80 before any handler runs): percent-encode the rest.
  // Header values go out as bytes: non-Latin-1 text as its raw UTF-8 bytes, controls dropped.
  const wire = (value: string) => headerSafe(Buffer.from(value, "utf8").toString("latin1"));
  const headers = Object.fromEntries(
    Object.entries(raw.headers).map(([name, value]) => [name, Array.isArray(value) ? value.map(wire) : wire(value)]),
  );
  const request = { ...raw, headers, target: raw.target.replace(/[\ud800-\udbff][\udc00-\udfff]|[^\x21-\x7e]/g, encodeSegment) };
  const verdict = judge(world, request);
  return {
    ...request,
    route: verdict.route,
    expected: [...verdict.expected].sort(),
    expectedCode: verdict.code,
    mayWrite: verdict.mayWrite,
  };
}

function withOptionalHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as Record<string, string | string[]>;
}

// ---------------------------------------------------------------------------------------------
// Requests, per route
// ---------------------------------------------------------------------------------------------

function orders(world: World): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      target: fc.oneof(
        { arbitrary: fc.constant("/orders"), weight: 12 },
        { arbitrary: query().map((q) => `/orders${q}`), weight: 2 },
        { arbitrary: fc.constantFrom("http://example.com/orders", "/orders#frag", "/./orders", "/x/../orders", "/%6Frders"), weight: 1 },
      ),
      type: contentType(),
      key: idempotencyKey(),
      noise: noiseHeaders(),
      body: bodyBytes(orderBodyText(world)),
    })
    .map(({ target, type, key, noise, body }) =>
      finish(world, {
        method: "POST",
        target,
        headers: withOptionalHeaders({ ...noise, "content-type": type, "idempotency-key": key }),
        body,
      }),
    );
}

function products(world: World): fc.Arbitrary<HostileRequest> {
  const known = [...world.inStock, ...world.soldOut];
  const segment = fc.oneof(
    { arbitrary: hostileString(world).map(encodeSegment), weight: 4 },
    { arbitrary: pathSegment(), weight: 3 },
    { arbitrary: fc.constantFrom(...known), weight: 1 },
    { arbitrary: fc.constantFrom(...SQLISH).map((s) => s.replace(/[^\x21-\x7e]/g, encodeSegment)), weight: 1 },
  );
  return fc
    .record({
      target: fc.oneof(
        { arbitrary: fc.tuple(segment, query()).map(([s, q]) => `/products/${s}${q}`), weight: 5 },
        { arbitrary: query().map((q) => `/products${q}`), weight: 1 },
      ),
      noise: noiseHeaders(),
      body: fc.option(bodyBytes(fc.string()), { nil: undefined, freq: 5 }),
    })
    .map(({ target, noise, body }) => finish(world, { method: "GET", target, headers: noise, body: body ?? undefined }));
}

const NOT_EMAILS = [
  "",
  " ",
  "@",
  "a@",
  "@fuzz.test",
  "a@@fuzz.test",
  "a@b@fuzz.test",
  "a b@fuzz.test",
  "a@fuzz .test",
  "Waiting <waiting@fuzz.test>",
  "waiting@fuzz.test, other@fuzz.test",
  "waiting@fuzz.test;other@fuzz.test",
  '"a b"@fuzz.test',
  "a@[127.0.0.1]",
  "a(comment)@fuzz.test",
  "waiting@fuzz.test\r\nBcc: victim@fuzz.test",
  "mailto:waiting@fuzz.test",
  "a@b",
  "a@b.c",
  ".a@fuzz.test",
  "a.@fuzz.test",
  "a..b@fuzz.test",
  "a@-fuzz.test",
  "a@fuzz..test",
  "ünïcode@fuzz.test",
  "a@fuzz.tést",
  "a@xn--fzz-hoa.test",
  `${"x".repeat(65)}@fuzz.test`,
  `a@${"d".repeat(250)}.test`,
];

/** Values for "email": the waiting address however it is spelt, plain new addresses, near misses and everything else. */
function emailToken(world: World): fc.Arbitrary<string> {
  const waiting = fc
    .tuple(fc.mixedCase(fc.constant(world.subscriber.email)), fc.constantFrom("", " ", "\t", "\n ", "\u00a0"))
    .map(([email, space]) => JSON.stringify(`${space}${email}${space}`));
  return fc.oneof(
    { arbitrary: waiting, weight: 4 },
    {
      arbitrary: fc
        .stringMatching(/^[a-z0-9]{1,12}(?:[._+-][a-z0-9]{1,8}){0,2}@[a-z0-9]{1,10}\.(?:com|test|example)$/)
        .map((e) => JSON.stringify(e)),
      weight: 2,
    },
    { arbitrary: fc.emailAddress().map((e) => JSON.stringify(e)), weight: 2 },
    { arbitrary: fc.constantFrom(...NOT_EMAILS).map((e) => JSON.stringify(e)), weight: 3 },
    { arbitrary: hostileString(world).map((s) => JSON.stringify(s)), weight: 2 },
    {
      arbitrary: fc.integer({ min: 240, max: 400 }).map((n) => JSON.stringify(`${" ".repeat(n % 3)}${"a".repeat(n - 10)}@fuzz.test`)),
      weight: 1,
    },
    { arbitrary: quantityToken(), weight: 1 },
  );
}

/** Raw JSON-ish text for a subscription: mostly {"email": …}, plus extra fields, repeats and junk. */
function subscriptionBodyText(world: World): fc.Arbitrary<string> {
  const field = (name: string, value: string) => `${JSON.stringify(name)}:${value}`;
  const objectBody = fc
    .record({
      email: fc.option(emailToken(world), { nil: undefined, freq: 12 }),
      duplicate: fc.option(emailToken(world), { nil: undefined, freq: 10 }),
      extra: fc.option(fc.oneof(EXTRA_FIELDS, fc.constant({ sku: world.soldOut[0] }), fc.constant({ Email: world.subscriber.email })), {
        nil: undefined,
        freq: 4,
      }),
      whitespace: fc.constantFrom("", " ", "\n", "\t\r\n  "),
    })
    .map(({ email, duplicate, extra, whitespace }) => {
      const parts: string[] = [];
      if (duplicate !== undefined) parts.push(field("email", duplicate));
      if (email !== undefined) parts.push(field("email", email));
      for (const [key, value] of Object.entries(extra ?? {})) parts.push(field(key, JSON.stringify(value)));
      return `${whitespace}{${parts.join(`,${whitespace}`)}}${whitespace}`;
    });
  return fc.oneof(
    { arbitrary: objectBody, weight: 8 },
    { arbitrary: orderBodyText(world), weight: 1 },
    { arbitrary: fc.json({ maxDepth: 3 }), weight: 1 },
  );
}

function subscriptions(world: World): fc.Arbitrary<HostileRequest> {
  const known = [...world.inStock, ...world.soldOut];
  const segment = fc.oneof(
    { arbitrary: fc.constantFrom(...world.subscriber.skus), weight: 4 },
    { arbitrary: fc.constantFrom(...known), weight: 3 },
    { arbitrary: fc.constantFrom(...known).chain((sku) => fc.mixedCase(fc.constant(sku))), weight: 1 },
    { arbitrary: hostileString(world).map(encodeSegment), weight: 2 },
    { arbitrary: pathSegment(), weight: 1 },
  );
  return fc
    .record({ segment, q: query(), type: contentType(), noise: noiseHeaders(), body: bodyBytes(subscriptionBodyText(world)) })
    .map(({ segment, q, type, noise, body }) =>
      finish(world, {
        method: "POST",
        target: `/products/${segment}/subscriptions${q}`,
        headers: withOptionalHeaders({ ...noise, "content-type": type }),
        body,
      }),
    );
}

function callbackBodyText(world: World): fc.Arbitrary<string> {
  const restock = fc.constantFrom(...world.restocks);
  const plausible = fc
    .record({
      restock,
      product: fc.option(fc.oneof(hostileString(world), fc.constantFrom(...world.soldOut, ...world.inStock)), { nil: undefined, freq: 8 }),
      count: fc.option(
        fc.oneof(
          { arbitrary: fc.constantFrom("50", "49", "51", "1", "100", "999999999"), weight: 3 },
          { arbitrary: quantityToken().map((t) => t.replace(/^"|"$/g, "")), weight: 1 },
          { arbitrary: fc.constantFrom("050", "0", "-50", "5e1", " 50", "50.0", "５０", "1000000000"), weight: 1 },
        ),
        { nil: undefined, freq: 8 },
      ),
      countAsNumber: fc.boolean(),
      factory: fc.option(fc.oneof(fc.constant("FF-500293"), hostileString(world)), { nil: undefined, freq: 3 }),
      extra: fc.option(EXTRA_FIELDS, { nil: undefined, freq: 3 }),
    })
    .map(({ restock, product, count, countAsNumber, factory, extra }) =>
      JSON.stringify({
        MessageGroupId: "stock-arrival-group",
        MessageAttributeProductId: product ?? restock.sku,
        ...(count === undefined ? {} : { MessageAttributeProductCnt: countAsNumber && /^-?\d+$/.test(count) ? Number(count) : count }),
        ...(factory === undefined ? {} : { MessageAttributeFactoryId: factory }),
        ...extra,
      }),
    );
  return fc.oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: orderBodyText(world), weight: 1 });
}

function callbacks(world: World): fc.Arbitrary<HostileRequest> {
  const restockId = fc.oneof(
    { arbitrary: fc.constantFrom(...world.restocks.map((r) => r.id)), weight: 4 },
    { arbitrary: fc.ulid(), weight: 3 },
    { arbitrary: fc.ulid().map((id) => id.toLowerCase()), weight: 1 },
    { arbitrary: hostileString(world).filter((s) => s.length > 0), weight: 2 },
  );
  return fc
    .record({
      restockId,
      tokenKind: fc.constantFrom("valid", "valid", "valid", "missing", "empty", "random", "other-id", "truncated", "twice", "case"),
      attemptKind: fc.constantFrom("first", "first", "first", "first", "missing", "malformed", "another"),
      badAttempt: fc.constantFrom("0", "01", "-1", "1.5", "one", "", "1234567", "%201", "1&attempt=1", "0x1"),
      random: fc.string({ maxLength: 100 }),
      extraQuery: query(),
      type: contentType(),
      noise: noiseHeaders(),
      body: bodyBytes(callbackBodyText(world)),
    })
    .map(({ restockId, tokenKind, attemptKind, badAttempt, random, extraQuery, type, noise, body }) => {
      // Every token signs the first factory call; "another" names the second one with it.
      const sign = (id: string) => callbackToken(world.secret, id, 1);
      const valid = sign(restockId);
      const attemptPart = { first: "attempt=1", missing: "", malformed: `attempt=${badAttempt}`, another: "attempt=2" }[attemptKind];
      const tokenPart = {
        valid: `token=${valid}`,
        missing: "",
        empty: "token=",
        random: `token=${encodeSegment(random)}`,
        "other-id": `token=${sign(`${restockId}x`)}`,
        truncated: `token=${valid.slice(0, -1)}`,
        twice: `token=${valid}&token=${valid}`,
        case: `token=${valid.toUpperCase()}`,
      }[tokenKind];
      const rest = extraQuery.replace(/^\?/, "");
      const search = [attemptPart, tokenPart, rest].filter(Boolean).join("&");
      const target = `/factory/callbacks/${encodeSegment(restockId)}${search ? `?${search}` : ""}`;
      return finish(world, { method: "POST", target, headers: withOptionalHeaders({ ...noise, "content-type": type }), body });
    });
}

/** Tokens for a link: genuine ones (open, ended and unknown subscriptions), old, other-purpose, altered, cut, and junk. */
function linkTokenPart(world: World, purpose: Subscription.LinkPurpose): fc.Arbitrary<string> {
  const ids = fc.oneof(
    { arbitrary: fc.constantFrom(...world.subscriber.open, world.subscriber.ended), weight: 3 },
    { arbitrary: fc.ulid(), weight: 2 },
  );
  const later = Date.now() / 1000 + 86_400;
  const genuine = ids.map((id) => linkToken(world.linkSecret, purpose, id, later));
  const other: Subscription.LinkPurpose = purpose === "confirm" ? "unsubscribe" : "confirm";
  const token = fc.oneof(
    { arbitrary: genuine, weight: 6 },
    { arbitrary: ids.map((id) => linkToken(world.linkSecret, purpose, id, Date.now() / 1000 - 86_400)), weight: 1 },
    { arbitrary: ids.map((id) => linkToken(world.linkSecret, other, id, later)), weight: 1 },
    { arbitrary: ids.map((id) => linkToken("a-key-that-is-not-ours-0123456789abcdef", purpose, id, later)), weight: 1 },
    { arbitrary: fc.tuple(genuine, fc.nat()).map(([t, n]) => t.slice(0, n % t.length)), weight: 2 },
    {
      arbitrary: fc
        .tuple(genuine, fc.nat(), fc.constantFrom(..."0aZ_-.9xX"))
        .map(([t, n, c]) => t.slice(0, n % t.length) + c + t.slice((n % t.length) + 1)),
      weight: 2,
    },
    { arbitrary: genuine.map((t) => t.toLowerCase()), weight: 1 },
    { arbitrary: genuine.map((t) => `${t}${t}`), weight: 1 },
    { arbitrary: hostileString(world), weight: 2 },
  );
  return fc.oneof(
    { arbitrary: token.map((t) => `token=${encodeSegment(t)}`), weight: 10 },
    { arbitrary: fc.constantFrom("", "token=", "token", "tok=x"), weight: 1 },
    { arbitrary: fc.tuple(token, token).map(([a, b]) => `token=${encodeSegment(a)}&token=${encodeSegment(b)}`), weight: 1 },
    { arbitrary: genuine.map((t) => `token=${t.replace(/\./g, "%2E")}`), weight: 1 },
  );
}

/** Bodies for the one-click POST: the RFC 8058 form, near misses, multipart, and other routes' bodies. */
function oneClickBody(world: World): fc.Arbitrary<{ type: string | undefined; body: Buffer | undefined }> {
  const urlencoded = fc.constantFrom(
    "List-Unsubscribe=One-Click",
    "List-Unsubscribe=One-Click&List-Unsubscribe=Other",
    "a=b&List-Unsubscribe=One-Click",
    "List-Unsubscribe=one-click",
    "List-Unsubscribe=One%2DClick",
    "List%2DUnsubscribe=One-Click",
    "List-Unsubscribe=",
    "List-Unsubscribe",
    "",
    "List-Unsubscribe=One-Click%",
    "%FF=%FE",
  );
  const multipart = fc.constantFrom("List-Unsubscribe", "list-unsubscribe", "Other").map((name) => {
    const boundary = "----fuzzBoundary";
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.from(body) };
  });
  return fc.oneof(
    {
      arbitrary: fc
        .tuple(
          urlencoded,
          fc.constantFrom("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8", undefined),
        )
        .map(([text, type]) => ({ type, body: Buffer.from(text) })),
      weight: 6,
    },
    { arbitrary: multipart, weight: 2 },
    { arbitrary: fc.record({ type: contentType(), body: bodyBytes(subscriptionBodyText(world)) }), weight: 3 },
    {
      arbitrary: fc
        .integer({ min: 8000, max: 9000 })
        .map((n) => ({ type: "application/x-www-form-urlencoded", body: Buffer.from(`List-Unsubscribe=One-Click&pad=${"x".repeat(n)}`) })),
      weight: 1,
    },
  );
}

function links(world: World): fc.Arbitrary<HostileRequest> {
  return fc
    .record({
      route: fc.constantFrom("confirm", "unsubscribe-page", "unsubscribe"),
      noise: noiseHeaders(),
      confirm: linkTokenPart(world, "confirm"),
      unsubscribe: linkTokenPart(world, "unsubscribe"),
      extraQuery: query(),
      form: oneClickBody(world),
    })
    .map(({ route, noise, confirm, unsubscribe, extraQuery, form }) => {
      const search = [route === "confirm" ? confirm : unsubscribe, extraQuery.replace(/^\?/, "")].filter(Boolean).join("&");
      const path = route === "confirm" ? "/subscriptions/confirm" : "/subscriptions/unsubscribe";
      const target = `${path}${search ? `?${search}` : ""}`;
      if (route !== "unsubscribe") return finish(world, { method: "GET", target, headers: noise, body: undefined });
      return finish(world, {
        method: "POST",
        target,
        headers: withOptionalHeaders({ ...noise, "content-type": form.type }),
        body: form.body,
      });
    });
}

/** Methods Node's HTTP parser accepts (others never reach any handler); CONNECT is a tunnel, not a request. */
const METHODS = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
  "PURGE",
  "SEARCH",
  "QUERY",
  "LOCK",
  "MKCOL",
  "COPY",
  "MOVE",
  "REPORT",
  "SUBSCRIBE",
  "LINK",
  "M-SEARCH",
];

function elsewhere(world: World): fc.Arbitrary<HostileRequest> {
  const known = fc.constantFrom(
    "/products",
    "/products/CP-502101",
    "/products/CP-502101/subscriptions",
    "/orders",
    `/factory/callbacks/${world.restocks[0].id}`,
    "/subscriptions/confirm",
    "/subscriptions/unsubscribe",
  );
  const path = fc.oneof(
    { arbitrary: fc.array(pathSegment(), { minLength: 0, maxLength: 6 }).map((segments) => `/${segments.join("/")}`), weight: 4 },
    { arbitrary: fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`)), weight: 2 },
    { arbitrary: known, weight: 3 },
    { arbitrary: known.map((p) => `${p}/`), weight: 1 },
    { arbitrary: known.chain((p) => fc.mixedCase(fc.constant(p))), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        "/",
        "//",
        "//orders",
        "///products",
        "/products//x",
        "/orders/../orders",
        "*",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/factory/callbacks",
        "/factory/callbacks/",
        "/factory/callbacks/a/b",
        "/api/manufactures",
        "/_sim/config",
        "http://evil.example/orders",
        "http://localhost:1/products",
      ),
      weight: 2,
    },
    { arbitrary: fc.integer({ min: 1000, max: 6000 }).map((n) => `/${"a/".repeat(n / 2)}`), weight: 1 },
  );
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path,
      q: query(),
      type: contentType(),
      noise: noiseHeaders(),
      body: fc.option(bodyBytes(orderBodyText(world)), { nil: undefined, freq: 3 }),
    })
    .map(({ method, path, q, type, noise, body }) =>
      finish(world, {
        method,
        target: path === "*" ? path : `${path}${q}`,
        headers: withOptionalHeaders({ ...noise, "content-type": type }),
        body: body ?? undefined,
      }),
    );
}

/**
 * Request targets Node's HTTP server accepts but the WHATWG URL parser cannot read: absolute-form
 * with a bad host or port ("http://[/orders"), or origin-form starting with "//" whose first
 * segment is not a valid host ("//%zz/orders"). The local gateway answers them 400
 * BAD_REQUEST_TARGET (it once crashed on them: this fuzz test found it).
 */
export function parsesAsUrl(target: string): boolean {
  try {
    new URL(target, "http://localhost");
    return true;
  } catch {
    return false;
  }
}

export function malformedTargets(): fc.Arbitrary<string> {
  return fc.constantFrom(
    "http://[/orders",
    "http://x:99999/orders",
    "http://a%20b/orders",
    "http://[::1/products",
    "//[/orders",
    "//%zz/products",
  );
}

/** One hostile request to any route. Requests the oracle thinks may write are filtered out. */
export function hostileRequest(world: World): fc.Arbitrary<HostileRequest> {
  const all = fc.oneof(
    { arbitrary: orders(world), weight: 8 },
    { arbitrary: callbacks(world), weight: 5 },
    { arbitrary: subscriptions(world), weight: 4 },
    { arbitrary: links(world), weight: 4 },
    { arbitrary: products(world), weight: 3 },
    { arbitrary: elsewhere(world), weight: 4 },
  );
  const withMalformedTargets = fc.oneof(
    { arbitrary: all, weight: 50 },
    {
      arbitrary: malformedTargets().map(
        (target): HostileRequest => ({
          route: "$default",
          method: "POST",
          target,
          headers: {},
          expected: [400],
          expectedCode: "BAD_REQUEST_TARGET",
          mayWrite: false,
        }),
      ),
      weight: 1,
    },
  );
  return withMalformedTargets.filter((request) => !request.mayWrite);
}
