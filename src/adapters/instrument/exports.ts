// What the instrumentations of `waitgraph/register` share: checking the shape of a library's
// exports before changing anything, and handing out changed exports.
import { internalError } from "../../core/findings.js";

// A library's exports with some of them replaced, as a new object: a CommonJS exports object
// may define its exports as getters that cannot be redefined (TypeScript's re-exports), and an
// ES module namespace is frozen. Non-enumerable marks such as `__esModule` are kept.
export function copyExports(
  original: object,
  replaced: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(original)) {
    const descriptor = Object.getOwnPropertyDescriptor(original, name)!;
    let value: unknown;
    try {
      value = (original as Record<string, unknown>)[name];
    } catch {
      continue;
    }
    Object.defineProperty(out, name, {
      value: Object.hasOwn(replaced, name) ? replaced[name] : value,
      enumerable: descriptor.enumerable ?? true,
      writable: true,
      configurable: true,
    });
  }
  for (const name of Object.keys(replaced))
    if (!Object.hasOwn(out, name)) out[name] = replaced[name];
  return out;
}

/**
 * Makes `instanceof Tracked` true of every instance of `Base`: the subclass register hands out
 * stands for the library's class, and the program may meet instances made elsewhere (the
 * adapter's drop-in classes extend the original).
 */
export function standsFor(
  Tracked: abstract new (...args: never[]) => unknown,
  Base: abstract new (...args: never[]) => unknown,
): void {
  Object.defineProperty(Tracked, Symbol.hasInstance, {
    value: (value: unknown) => value instanceof Base,
    configurable: true,
  });
}

/** Thrown by an instrumentation, before it changes anything, for a shape it does not know. */
export class Unrecognised extends Error {
  constructor(
    readonly expected: string,
    readonly found: string,
  ) {
    super(`expected ${expected}, found ${found}`);
  }
}

export function unrecognised(expected: string, found: unknown): Unrecognised {
  return new Unrecognised(expected, shapeOf(found));
}

/** `a function with properties default, x`, `an object with Pool, Client` — what was found. */
export function shapeOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object" && typeof value !== "function")
    return `${String(value)} (${typeof value})`;
  const skip = new Set(["length", "name", "prototype", "arguments", "caller"]);
  const keys = Object.keys(value).filter((k) => !skip.has(k));
  const kind =
    typeof value === "function"
      ? `a function${value.name === "" ? "" : ` (${value.name})`}`
      : "an object";
  if (keys.length === 0) return `${kind} with no properties`;
  const shown = keys.slice(0, 8).join(", ");
  return `${kind} with ${typeof value === "function" ? "properties " : ""}${shown}${keys.length > 8 ? ", …" : ""}`;
}

/** Is `value` a class whose instances have every method in `methods` (on its prototype chain)? */
export function isClassWith(
  value: unknown,
  methods: readonly string[],
): boolean {
  if (typeof value !== "function") return false;
  const proto = (value as { prototype?: unknown }).prototype;
  if (typeof proto !== "object" || proto === null) return false;
  return methods.every(
    (m) => typeof (proto as Record<string, unknown>)[m] === "function",
  );
}

/**
 * Runs the tracking of one object the library just made. A failure there is a bug in waitgraph
 * (the shape was checked when the module loaded): one internal-error report, and the object
 * stays the library's, untracked. The program's `new Mutex()` never throws because of it.
 */
export function trackSafely(track: () => unknown): void {
  try {
    track();
  } catch (error) {
    internalError(error);
  }
}
