/**
 * Amazon EventBridge event-pattern matching, offline: a pattern is compiled once (compilePattern,
 * which is also the validator) into a small tree of closures, then evaluated per event. The
 * sources quoted below by page name, and the judgement calls: docs/emulators.md#event-patterns.
 *
 * Long by design: one concern, the event-pattern spec, operator by operator, each beside its
 * quote; split, a reader would chase one spec across files.
 */
import { type CidrRange, cidrContains, type IpAddress, parseCidr, parseIp } from "./ip";

/** A JSON leaf value as it can appear in an event. */
type Leaf = string | number | boolean | null;

/** Thrown for any pattern EventBridge would refuse (PutRule: InvalidEventPatternException). */
export class EventPatternError extends Error {
  constructor(path: string, reason: string) {
    super(`Event pattern is not valid${path ? ` at "${path}"` : ""}: ${reason}`);
    this.name = "EventPatternError";
  }
}

/** One element of a field's match list: either an existence test or a value test. */
type ValueMatcher = { kind: "exists"; exists: boolean } | { kind: "value"; test: (value: Leaf) => boolean };

type Node = { kind: "leaf"; matchers: ValueMatcher[] } | { kind: "object"; object: CompiledObject };

interface CompiledObject {
  fields: Array<{ key: string; node: Node }>;
  /** Each entry is one "$or" array; at least one of its branches must match. */
  ors: CompiledObject[][];
}

// Operator names. Comparison operators doc: "Comparison operators only work on
// leaf nodes, with the exception of $or and anything-but."
const OPERATORS = new Set(["prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"]);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

const describe = (v: unknown): string => (v === undefined ? "undefined" : JSON.stringify(v));

// ---------------------------------------------------------------------------
// Compilation (= validation)
// ---------------------------------------------------------------------------

/**
 * Compile a pattern into a predicate. Throws EventPatternError when the
 * pattern is invalid, so this doubles as the validator.
 */
export function compilePattern(pattern: unknown): (event: unknown) => boolean {
  // event-ruler JsonRuleCompiler: "Filter is not an object".
  if (!isPlainObject(pattern)) throw new EventPatternError("", "the pattern must be a JSON object");
  const root = compileObject(pattern, "", false);
  return (event: unknown) => {
    if (!isPlainObject(event)) throw new TypeError("event must be a JSON object");
    return matchObject(root, event);
  };
}

/** Throws EventPatternError with a readable reason when the pattern is invalid. */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

/** True when `event` matches `pattern`. Throws EventPatternError on an invalid pattern. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function compileObject(obj: Record<string, unknown>, path: string, insideOr: boolean): CompiledObject {
  const keys = Object.keys(obj);
  // event-ruler: "Empty objects are not allowed".
  if (keys.length === 0) throw new EventPatternError(path, "empty objects are not allowed");
  const compiled: CompiledObject = { fields: [], ors: [] };
  for (const key of keys) {
    const value = obj[key];
    const here = join(path, key);
    if (key === "$or") {
      compiled.ors.push(compileOr(value, here));
      continue;
    }
    // event-ruler: operator names are reserved field names inside an $or
    // branch, because there they would be ambiguous with a match expression.
    if (insideOr && OPERATORS.has(key)) {
      throw new EventPatternError(here, `"${key}" is a reserved operator name and cannot be used as a field name inside $or`);
    }
    if (Array.isArray(value)) {
      compiled.fields.push({ key, node: { kind: "leaf", matchers: compileMatchList(value, here) } });
    } else if (isPlainObject(value)) {
      // Event patterns doc: "The field names must also appear in the event
      // with the same nesting structure" - nested pattern objects descend.
      compiled.fields.push({ key, node: { kind: "object", object: compileObject(value, here, insideOr) } });
    } else {
      // Event patterns doc: "the value to match is in a JSON array". A bare
      // scalar is the classic mistake ("state": "running").
      throw new EventPatternError(here, `"${key}" must be an object or an array, got ${describe(value)}`);
    }
  }
  return compiled;
}

function compileOr(value: unknown, path: string): CompiledObject[] {
  // Comparison operators doc ($or): "To use $or, the value must be an array
  // of objects"; event-ruler additionally requires at least two of them.
  if (!Array.isArray(value)) throw new EventPatternError(path, "$or must be an array of objects");
  if (value.length < 2) throw new EventPatternError(path, "$or must contain at least 2 objects");
  return value.map((branch, i) => {
    if (!isPlainObject(branch)) throw new EventPatternError(`${path}[${i}]`, "only JSON objects are allowed in a $or array");
    return compileObject(branch, `${path}[${i}]`, true);
  });
}

function compileMatchList(list: unknown[], path: string): ValueMatcher[] {
  // event-ruler: "Empty arrays are not allowed" (EventBridge rejects them too).
  if (list.length === 0) throw new EventPatternError(path, "empty arrays are not allowed");
  return list.map((item, i) => compileMatcher(item, `${path}[${i}]`));
}

function compileMatcher(item: unknown, path: string): ValueMatcher {
  if (isPlainObject(item)) return compileOperator(item, path);
  if (item === null || typeof item === "boolean") {
    // Null values doc: a [null] pattern matches a null value; null and ""
    // "are not interchangeable". Event patterns doc: `true`/`false` are JSON
    // keywords matched as such (not the strings "true"/"false").
    return { kind: "value", test: (v) => v === item };
  }
  if (typeof item === "string") return { kind: "value", test: exactString(item) };
  if (typeof item === "number" && Number.isFinite(item)) {
    // Event patterns doc (value matching, "risk-score": [80]): numbers match
    // numbers, never the string "80".
    // Judgement call: the doc says "300, 300.0, and 3.0e2 are not considered
    // equal" (string representation), but once Detail is JSON.parse'd the
    // spelling is gone, so numbers compare by value here (event-ruler also
    // adds a numeric-equality matcher for number literals).
    return { kind: "value", test: (v) => typeof v === "number" && v === item };
  }
  throw new EventPatternError(
    path,
    `match values must be a string, number, true, false, null or an operator object, got ${describe(item)}`,
  );
}

/**
 * Exact string match. Event patterns doc: "For strings, EventBridge uses exact
 * character-by-character matching without case-folding or any other string
 * normalization." One documented exception in event-ruler: a pattern value
 * that is an IP literal is compared as an address, so "2001:db8::1" matches
 * "2001:0db8:0:0:0:0:0:1".
 */
function exactString(expected: string): (v: Leaf) => boolean {
  const ip = parseIp(expected);
  return (v) => {
    if (typeof v !== "string") return false;
    if (v === expected) return true;
    if (!ip) return false;
    const other = parseIp(v);
    return other !== undefined && other.family === ip.family && other.value === ip.value;
  };
}

function compileOperator(obj: Record<string, unknown>, path: string): ValueMatcher {
  const keys = Object.keys(obj);
  if (keys.length !== 1) {
    throw new EventPatternError(
      path,
      keys.length === 0 ? "match expression name not found" : `only one key allowed in a match expression, got ${keys.join(", ")}`,
    );
  }
  const op = keys[0];
  const arg = obj[op];
  const here = join(path, op);
  switch (op) {
    case "prefix":
      return stringOp(compileAffix(arg, here, "prefix"));
    case "suffix":
      return stringOp(compileAffix(arg, here, "suffix"));
    case "equals-ignore-case": {
      // Comparison operators doc: "Name": [{ "equals-ignore-case": "alice" }]
      // matches "Alice"; like prefix/suffix it only applies to strings.
      const expected = requireString(arg, here).toLowerCase();
      return stringOp((s) => s.toLowerCase() === expected);
    }
    case "wildcard":
      return stringOp(compileWildcard(requireString(arg, here), here));
    case "numeric":
      return compileNumeric(arg, here);
    case "exists":
      // Content filtering doc ("Exists matching"): the value is a JSON
      // boolean; event-ruler: "exists match pattern must be either true or
      // false" (the string "false" is rejected).
      if (typeof arg !== "boolean") throw new EventPatternError(here, `exists must be true or false, got ${describe(arg)}`);
      return { kind: "exists", exists: arg };
    case "cidr":
      return compileCidr(arg, here);
    case "anything-but":
      return compileAnythingBut(arg, here);
    default:
      throw new EventPatternError(path, `unrecognized match type "${op}"`);
  }
}

/** Operators that only ever match string values (prefix, suffix, wildcard, equals-ignore-case, cidr). */
function stringOp(test: (s: string) => boolean): ValueMatcher {
  return { kind: "value", test: (v) => typeof v === "string" && test(v) };
}

function requireString(arg: unknown, path: string): string {
  if (typeof arg !== "string") throw new EventPatternError(path, `value must be a string, got ${describe(arg)}`);
  return arg;
}

/**
 * prefix / suffix, plain or case-insensitive.
 * Content filtering doc: "You can use prefix matching for string values"
 * ("time": [{"prefix": "2017-10-02"}]); "Prefix matching while ignoring case":
 * {"prefix": {"equals-ignore-case": "EventB"}} matches EventB, EVENTB, eventb;
 * suffix and {"suffix": {"equals-ignore-case": ".png"}} likewise.
 */
function compileAffix(arg: unknown, path: string, kind: "prefix" | "suffix"): (s: string) => boolean {
  const at = (s: string, affix: string) => (kind === "prefix" ? s.startsWith(affix) : s.endsWith(affix));
  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
      throw new EventPatternError(path, `unsupported ${kind} pattern ${describe(arg)}; only {"equals-ignore-case": "..."} is allowed`);
    }
    const affix = requireString(arg["equals-ignore-case"], join(path, "equals-ignore-case")).toLowerCase();
    return (s) => at(s.toLowerCase(), affix);
  }
  const affix = requireString(arg, path);
  return (s) => at(s, affix);
}

/**
 * Wildcard. Comparison operators doc: "FileName": [{"wildcard": "dir/*.png"}].
 * Escaping and limits follow event-ruler's README: "*" matches any run of
 * characters (including none), "\*" is a literal asterisk, "\\" a literal
 * backslash, any other backslash escape is an error, and consecutive
 * wildcards ("**") are not allowed. The match is anchored at both ends.
 */
function compileWildcard(pattern: string, path: string): (s: string) => boolean {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*")
        throw new EventPatternError(path, `consecutive wildcard characters at position ${i} in ${describe(pattern)}`);
      source += "[\\s\\S]*";
    } else if (c === "\\") {
      const next = pattern[i + 1];
      if (next !== "*" && next !== "\\")
        throw new EventPatternError(path, `invalid escape at position ${i} in ${describe(pattern)}; only \\* and \\\\ are allowed`);
      source += escapeRegExp(next);
      i++;
    } else {
      source += escapeRegExp(c);
    }
  }
  const re = new RegExp(`${source}$`);
  return (s) => re.test(s);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

const LOWER_OPS = new Set([">", ">="]);
const UPPER_OPS = new Set(["<", "<="]);

/**
 * Numeric. Content filtering doc ("Numeric matching"): "Numeric matching works
 * with values that are JSON numbers" - the event string "5" never matches.
 * Allowed shapes (event-ruler processNumericMatchExpression): ["=", n],
 * [op, n] with op in > >= < <=, or a range [">"|">=", lo, "<"|"<=", hi]
 * whose bottom is strictly below its top.
 */
function compileNumeric(arg: unknown, path: string): ValueMatcher {
  if (!Array.isArray(arg)) throw new EventPatternError(path, `numeric must be an array like [">", 0, "<=", 5], got ${describe(arg)}`);
  if (arg.length !== 2 && arg.length !== 4) {
    throw new EventPatternError(path, `numeric takes one comparison or a range of two, got ${describe(arg)}`);
  }
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const operand = arg[i + 1];
    if (typeof op !== "string" || ![...LOWER_OPS, ...UPPER_OPS, "="].includes(op)) {
      throw new EventPatternError(path, `unrecognized numeric operator ${describe(op)}`);
    }
    if (typeof operand !== "number" || !Number.isFinite(operand)) {
      throw new EventPatternError(path, `value of ${op} must be a number, got ${describe(operand)}`);
    }
    checks.push(comparison(op, operand));
  }
  if (arg.length === 4) {
    const [lowOp, low, highOp, high] = arg as [string, number, string, number];
    if (!LOWER_OPS.has(lowOp) || !UPPER_OPS.has(highOp)) {
      throw new EventPatternError(path, `a numeric range must be [">" or ">=", low, "<" or "<=", high], got ${describe(arg)}`);
    }
    if (!(low < high)) throw new EventPatternError(path, `numeric range bottom must be less than top, got ${describe(arg)}`);
  }
  return { kind: "value", test: (v) => typeof v === "number" && checks.every((check) => check(v)) };
}

function comparison(op: string, operand: number): (n: number) => boolean {
  switch (op) {
    case "=":
      return (n) => n === operand;
    case ">":
      return (n) => n > operand;
    case ">=":
      return (n) => n >= operand;
    case "<":
      return (n) => n < operand;
    default:
      return (n) => n <= operand;
  }
}

/**
 * cidr. Content filtering doc ("IP address matching"): {"cidr": "10.0.0.0/24"}
 * matches 10.0.0.0-10.0.0.255; IPv6 blocks work the same. Only string event
 * values that are IP literals of the same family can match.
 */
function compileCidr(arg: unknown, path: string): ValueMatcher {
  let range: CidrRange;
  try {
    range = parseCidr(requireString(arg, path));
  } catch (err) {
    if (err instanceof EventPatternError) throw err;
    throw new EventPatternError(path, (err as Error).message);
  }
  return stringOp((s) => {
    const ip: IpAddress | undefined = parseIp(s);
    return ip !== undefined && cidrContains(range, ip);
  });
}

/**
 * anything-but: anything except a string, a number, a list of only one of them, or a nested
 * prefix/suffix/equals-ignore-case/wildcard. A missing field does not match, null and other
 * types do, any element of an array is enough: docs/emulators.md#anything-but.
 */
function compileAnythingBut(arg: unknown, path: string): ValueMatcher {
  const notAny = (tests: Array<(v: Leaf) => boolean>): ValueMatcher => ({
    kind: "value",
    test: (v) => !tests.some((t) => t(v)),
  });

  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1) throw new EventPatternError(path, `anything-but takes exactly one nested operator, got ${describe(arg)}`);
    const op = keys[0];
    const here = join(path, op);
    if (!["prefix", "suffix", "equals-ignore-case", "wildcard"].includes(op)) {
      throw new EventPatternError(here, `unsupported anything-but pattern "${op}"`);
    }
    const raw = arg[op];
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length === 0) throw new EventPatternError(here, "empty arrays are not allowed");
    const strings = values.map((v) => requireString(v, here));
    switch (op) {
      case "prefix":
      case "suffix":
        // event-ruler: "Null prefix/suffix not allowed" (it would exclude everything).
        if (strings.some((s) => s === "")) throw new EventPatternError(here, `anything-but ${op} must not be empty`);
        return notAny(strings.map((s) => (v) => typeof v === "string" && (op === "prefix" ? v.startsWith(s) : v.endsWith(s))));
      case "equals-ignore-case":
        return notAny(strings.map((s) => (v) => typeof v === "string" && v.toLowerCase() === s.toLowerCase()));
      default: // "wildcard"
        return notAny(
          strings.map((s) => {
            const wildcard = compileWildcard(s, here);
            return (v) => typeof v === "string" && wildcard(v);
          }),
        );
    }
  }

  const values = Array.isArray(arg) ? arg : [arg];
  if (values.length === 0) throw new EventPatternError(path, "empty arrays are not allowed");
  const allStrings = values.every((v) => typeof v === "string");
  const allNumbers = values.every((v) => typeof v === "number" && Number.isFinite(v));
  if (!allStrings && !allNumbers) {
    // event-ruler: "either all values are number or string, mixed type is not
    // supported"; null/booleans/objects are refused too.
    throw new EventPatternError(
      path,
      `anything-but takes a string, a number, or a list of only strings or only numbers, got ${describe(arg)}`,
    );
  }
  const excluded = new Set<Leaf>(values as Leaf[]);
  return { kind: "value", test: (v) => !excluded.has(v) };
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

function matchObject(object: CompiledObject, event: Record<string, unknown>): boolean {
  // Event patterns doc: "the event must contain all the field names listed in
  // the event pattern" - AND across keys.
  for (const { key, node } of object.fields) {
    const value = Object.hasOwn(event, key) ? event[key] : undefined;
    if (!matchNode(node, value)) return false;
  }
  // Comparison operators doc ($or): at least one branch of each $or array.
  return object.ors.every((branches) => branches.some((branch) => matchObject(branch, event)));
}

function matchNode(node: Node, value: unknown): boolean {
  if (node.kind === "object") {
    // event-ruler README ("JSON Array Matching"): arrays of objects are
    // "crushed out", and one element must satisfy the whole sub-pattern
    // (fields from different elements never combine). A missing or scalar
    // value is matched as an empty object so that nested {"exists": false}
    // still holds when the whole branch is absent.
    // Judgement call: {"exists": false} inside such a sub-pattern is judged
    // per element, like every other field of it.
    const candidates = objectsIn(value);
    return (candidates.length ? candidates : [{}]).some((c) => matchObject(node.object, c));
  }
  const leaves = leavesIn(value);
  // Values inside the list are OR'ed (Event patterns doc, "Match Values").
  return node.matchers.some((m) =>
    // Content filtering doc ("Exists matching"): presence or absence of the
    // field; "Exists matching only works on leaf nodes" - an object-valued
    // field has no leaf here, so exists:true fails and exists:false holds.
    m.kind === "exists" ? m.exists === leaves.length > 0 : leaves.some((leaf) => m.test(leaf)),
  );
}

/**
 * The leaf values at a field. Arrays doc: "If the value in the event is an
 * array, then the event pattern matches if the intersection of the event
 * pattern array and the event array is non-empty" - so every element counts
 * on its own, nested arrays included. Objects are not leaves.
 */
// Judgement call: an empty array has no leaves, so it behaves like an absent
// field (exists:true fails, exists:false holds) - event-ruler flattens the
// event and [] yields no field at all.
function leavesIn(value: unknown): Leaf[] {
  if (value === undefined || isPlainObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap(leavesIn);
  return [value as Leaf];
}

function objectsIn(value: unknown): Array<Record<string, unknown>> {
  if (isPlainObject(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  return [];
}
