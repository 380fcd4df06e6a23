// Checking what callers pass at the public boundary, in one place. Every constructor, method and
// option object of the public API (primitives, tracker.configure, the adapters' options) is
// checked here and nowhere else, so that one rule holds everywhere:
//
//   * a value of the wrong type (or an unknown option key, a string where an enum is expected)
//     is an InvalidArgumentError — a TypeError, as Node's own ERR_INVALID_ARG_TYPE is;
//   * a number outside its range (NaN, a fraction where an integer is expected, past a named
//     limit) is an ArgumentRangeError — a RangeError, as Node's ERR_OUT_OF_RANGE is;
//   * both carry code ERR_WAITGRAPH_INVALID_ARGUMENT (the project's code since 0.1; callers match
//     on it, or on instanceof TypeError / RangeError), and both are `instanceof
//     InvalidArgumentError` and `instanceof WaitgraphError` (see the brand below);
//   * the message is `Expected \`name\` to be …, got …` (the p-limit phrasing), the received
//     value shown as its type and a short, truncated rendering that never runs user code
//     (no toString, no getters: a hostile value cannot make the check itself throw).
//
// Options are read once. `readOptions` copies the known keys of an option object into a fresh
// object (each getter runs once, before anything changes), refuses unknown keys (a typo such as
// `{ timout: 10 }` would otherwise be ignored silently), and everything after the check reads
// the copy. So a getter that throws, or a Proxy, fails the check — with an InvalidArgumentError
// whose `cause` is what it threw — and never a lock half-way through an acquisition.
//
// Nothing here imports the rest of core: errors.ts re-exports the classes.

export const INVALID_ARGUMENT = "ERR_WAITGRAPH_INVALID_ARGUMENT";

/**
 * The longest rendering of a received value in a message, in characters. A 1 MB string passed
 * as a name must not make a 1 MB error message; what is cut is counted: `"abc…"…(+N chars)`.
 */
export const MAX_SHOWN_CHARS = 40;

/**
 * The longest finite timeout, in ms. Waits longer than a timer's 2^31 - 1 ms re-arm
 * (wait-queue.ts), so the bound is where milliseconds stop being exact: 2^53 - 1 (~285,000
 * years). `Infinity` stays allowed and means "no timeout" (documented, and tested by the
 * exclusive-lock suite); NaN, -Infinity and negative numbers are refused.
 */
export const MAX_TIMEOUT_MS = Number.MAX_SAFE_INTEGER;

/**
 * The most permits a Semaphore may have. Permits are counted in plain numbers: past 2^53 an
 * increment is lost (2^60 + 1 === 2^60), so a huge semaphore would silently miscount. 2^31 - 1
 * is far above any real pool and keeps every sum of weights exact.
 */
export const MAX_PERMITS = 2 ** 31 - 1;

/** Marks both argument error classes, across copies of the package (`Symbol.for`). */
const kInvalidArgument: unique symbol = Symbol.for(
  "waitgraph.invalid-argument/v1",
) as never;

/** True for an error made by either class below, by this copy of waitgraph or another. */
export function isInvalidArgument(value: unknown): boolean {
  try {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [kInvalidArgument]?: unknown })[kInvalidArgument] === true
    );
  } catch {
    return false; // a Proxy whose `get` throws is no error of ours
  }
}

/** A wrong type, an unknown option key or an unknown enum value. Nothing was changed. */
export class InvalidArgumentError extends TypeError {
  readonly code: string = INVALID_ARGUMENT;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  // A RangeError cannot also be a TypeError, so ArgumentRangeError is not a subclass: instanceof
  // is answered by the brand. Callers who wrote `instanceof InvalidArgumentError` before the
  // split keep matching both.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInvalidArgument(value);
  }
}

/** A number outside its range (NaN, a fraction, past a named limit). Nothing was changed. */
export class ArgumentRangeError extends RangeError {
  readonly code: string = INVALID_ARGUMENT;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

for (const cls of [InvalidArgumentError, ArgumentRangeError])
  Object.defineProperty(cls.prototype, kInvalidArgument, { value: true });

function cut(text: string, max = MAX_SHOWN_CHARS): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}…(+${text.length - max} chars)`;
}

/**
 * A received value as `<short rendering> (<type>)`: `5 (number)`, `"opts" (string)`, `null`,
 * `an array`, `a function`, `an object (Map)`. Reads no property that could run user code
 * except the prototype's constructor name, and survives that throwing.
 */
export function describe(value: unknown): string {
  try {
    if (value === null) return "null";
    switch (typeof value) {
      case "number":
        return `${Object.is(value, -0) ? "-0" : String(value)} (number)`;
      case "string":
        return value.length <= MAX_SHOWN_CHARS
          ? `${JSON.stringify(value)} (string)`
          : `${JSON.stringify(value.slice(0, MAX_SHOWN_CHARS))}…(+${value.length - MAX_SHOWN_CHARS} chars) (string)`;
      case "bigint":
        return `${cut(String(value))}n (bigint)`;
      case "symbol":
        return `${cut(value.toString())} (symbol)`;
      case "function":
        return "a function";
      case "object": {
        if (Array.isArray(value)) return "an array";
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto === null) return "an object (null prototype)";
        const ctor = Object.getOwnPropertyDescriptor(proto, "constructor");
        const name: unknown =
          typeof ctor?.value === "function"
            ? (ctor.value as { name?: unknown }).name
            : undefined;
        return `an object (${typeof name === "string" && name !== "" ? cut(name) : "unknown class"})`;
      }
      default:
        return `${String(value)} (${typeof value})`;
    }
  } catch {
    // A revoked Proxy, or one whose getPrototypeOf trap throws.
    return "an object that cannot be inspected";
  }
}

/** `Expected \`name\` to be <what>, got <value>` as a TypeError. */
export function expected(
  name: string,
  what: string,
  value: unknown,
): InvalidArgumentError {
  return new InvalidArgumentError(
    `Expected \`${name}\` to be ${what}, got ${describe(value)}`,
  );
}

/** `Expected \`name\` to be <what>, got <value>` as a RangeError. */
export function outOfRange(
  name: string,
  what: string,
  value: unknown,
): ArgumentRangeError {
  return new ArgumentRangeError(
    `Expected \`${name}\` to be ${what}, got ${describe(value)}`,
  );
}

/** A non-array object (not null, not a function): what an options argument must be. */
function isOptionsObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads an options argument once. Undefined stays undefined (every option has a default).
 * Otherwise it must be a plain object whose own enumerable keys are all in `known`; the result
 * is a copy of the known keys that are present and not undefined.
 *
 * `{ kye: "x" }` → Expected `options.kye` to be one of the known options (name, key, …), got "kye" (string)
 */
export function readOptions<T extends object>(
  value: T | undefined,
  known: readonly string[],
  name = "options",
): T | undefined {
  if (value === undefined) return undefined;
  let ok: boolean;
  try {
    ok = isOptionsObject(value);
  } catch (error) {
    throw unreadable(name, error); // Array.isArray of a revoked Proxy
  }
  if (!ok) throw expected(name, "an object", value);
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch (error) {
    throw unreadable(name, error);
  }
  for (const key of keys)
    if (!known.includes(key))
      throw expected(
        `${name}.${key}`,
        `one of the known options (${known.join(", ")})`,
        key,
      );
  const copy: Record<string, unknown> = {};
  for (const key of known) {
    let v: unknown;
    try {
      v = (value as Record<string, unknown>)[key];
    } catch (error) {
      throw unreadable(`${name}.${key}`, error);
    }
    if (v !== undefined) copy[key] = v;
  }
  return copy as T;
}

function unreadable(name: string, error: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `Expected \`${name}\` to be readable, got a getter or Proxy trap that threw ${describe(error)}`,
    { cause: error },
  );
}

// One check per kind of value. Each passes `undefined` (the option is absent) unless noted.

export function checkBoolean(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean")
    throw expected(name, "a boolean", value);
}

export function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function")
    throw expected(name, "a function", value);
}

/** Required: `fn` arguments (runExclusive, task, bind, detach). */
export function checkCallback(name: string, value: unknown): void {
  if (typeof value !== "function") throw expected(name, "a function", value);
}

export function checkString(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "string")
    throw expected(name, "a string", value);
}

/** One of a closed set of strings, e.g. a policy name. */
export function checkOneOf(
  name: string,
  value: unknown,
  allowed: readonly string[],
  what = allowed.map((a) => `'${a}'`).join(" or "),
): void {
  if (value !== undefined && !allowed.includes(value as string))
    throw expected(name, what, value);
}

/**
 * An integer from `min` to `max`. A non-number is a TypeError; NaN, a fraction or a number
 * outside the range a RangeError. `required` refuses undefined too.
 */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
  what = `an integer from ${min} to ${max}`,
  required = false,
): void {
  if (value === undefined && !required) return;
  if (typeof value !== "number") throw expected(name, what, value);
  if (!Number.isInteger(value) || value < min || value > max)
    throw outOfRange(name, what, value);
}

/** A timeout in ms: 0 to MAX_TIMEOUT_MS, or Infinity (never). NaN and -Infinity are refused. */
export function checkTimeout(name: string, value: unknown): void {
  if (value === undefined || value === Infinity) return;
  const what =
    "a number of milliseconds from 0 to Number.MAX_SAFE_INTEGER (MAX_TIMEOUT_MS), or Infinity";
  if (typeof value !== "number") throw expected(name, what, value);
  if (!(value >= 0 && value <= MAX_TIMEOUT_MS))
    throw outOfRange(name, what, value);
}

export function checkSignal(name: string, value: unknown): void {
  if (value !== undefined && !(value instanceof AbortSignal))
    throw expected(name, "an AbortSignal", value);
}
