// The options a lock or an event class is made with, and the annotations of one acquisition:
// checked once, where the program passes them, with Node-style errors (arguments.ts). Nothing
// here depends on the tracker, so an untracked build checks them the same way.
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkString,
  expected,
  readOptions,
} from "./arguments.js";
import {
  type ClassOptions,
  LockClassKey,
  MAX_SUBCLASSES,
} from "./lock-class.js";
import { state } from "./process-state.js";

/** The keys a lock's (or event's) class options may have. */
export const CLASS_OPTION_KEYS = [
  "name",
  "key",
  "order",
  "validate",
  "concurrency",
] as const;

/**
 * Validates class options and returns the copy to use from then on (read once; see
 * arguments.ts). `known` widens the keys for a constructor with options of its own (RwLock).
 */
export function checkClassOptions<T extends ClassOptions>(
  opts: T | undefined,
  known: readonly string[] = CLASS_OPTION_KEYS,
): T | undefined {
  const o = readOptions(opts, known);
  if (o === undefined) return undefined;
  checkString("name", o.name);
  if (
    o.key !== undefined &&
    typeof o.key !== "string" &&
    !(o.key instanceof LockClassKey)
  )
    throw expected("key", "a string or a LockClassKey", o.key);
  if (typeof o.key === "string" && o.key.length === 0)
    throw expected("key", "a non-empty string", o.key);
  checkFunction("order", o.order);
  checkBoolean("validate", o.validate);
  checkInteger(
    "concurrency",
    o.concurrency,
    1,
    Number.MAX_SAFE_INTEGER,
    "a positive integer",
  );
  return o;
}

/** lockdep's subclass and nest_lock: how one acquisition says its nesting is intended. */
export interface AcquireAnnotations {
  subclass?: number;
  nestLock?: object;
}

/** Validates the annotations of one acquisition (the caller has read the options once). */
export function checkAnnotations(o: AcquireAnnotations | undefined): void {
  if (o === undefined) return;
  checkInteger(
    "subclass",
    o.subclass,
    0,
    MAX_SUBCLASSES - 1,
    `an integer from 0 to ${MAX_SUBCLASSES - 1}`,
  );
  if (o.nestLock !== undefined && !isLock(o.nestLock))
    throw expected("nestLock", "a waitgraph-tracked lock", o.nestLock);
}

/** A lock some copy of waitgraph made (lockInit ran for it), tracked or not. */
export function isLock(value: unknown): boolean {
  return typeof value === "object" && value !== null && state.locks.has(value);
}
