// The seam: the only way primitives and adapters talk to the validator (lockdep.h of this
// project). Locks report init, acquire (with read/try/nest flags), grant and release; nothing
// else. With tracking off every call is skipped behind one boolean test, and a lock costs
// about one function call more than an untracked one.
//
// Nothing here throws into the program it watches: a bug in waitgraph becomes one
// `internal-error` report and the lock goes on untracked.
import { captureTrace, userFrames } from "./stack.js";
import { newTask } from "./context.js";
import { DeadlockError, ReportError, expected } from "./errors.js";
import {
  type ClassOptions,
  LockClassKey,
  MAX_SUBCLASSES,
  type LockMap,
  type Skip,
} from "./lock-class.js";
import type { Frame, HeldLock } from "./held-lock.js";
import type { AssertionKind, ReadMode, Report, ReportData } from "./report.js";
import { core } from "./instance.js";
import { liveHolds } from "./held-lock.js";
import { lockRef } from "./validator.js";

export type { LockMap, HeldLock, Frame };

/** Read on every lock operation: false means nothing is tracked. */
export const tracking = core.tracking;
const context = core.context;

const locks = new WeakMap<object, LockMap>();

/** Validates class options (throws InvalidArgumentError) and resolves the lock's class key. */
export function lockInit(
  instance: object,
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
): LockMap | undefined {
  checkClassOptions(opts);
  if (!tracking.on) {
    locks.set(instance, UNTRACKED);
    return undefined;
  }
  try {
    const map: LockMap = {
      key: core.validator.registry.keyFor(opts, type, skip),
      type,
      instanceName: opts?.name,
    };
    locks.set(instance, map);
    return map;
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

const UNTRACKED: LockMap = Object.freeze({
  key: undefined as never,
  type: "untracked",
  instanceName: undefined,
});

export function isLock(value: unknown): boolean {
  return typeof value === "object" && value !== null && locks.has(value);
}

export function checkClassOptions(opts: ClassOptions | undefined): void {
  if (opts === undefined) return;
  if (typeof opts !== "object" || opts === null)
    throw expected("options", "an object", opts);
  if (opts.name !== undefined && typeof opts.name !== "string")
    throw expected("name", "a string", opts.name);
  if (
    opts.key !== undefined &&
    typeof opts.key !== "string" &&
    !(opts.key instanceof LockClassKey)
  )
    throw expected("key", "a string or a LockClassKey", opts.key);
  if (typeof opts.key === "string" && opts.key.length === 0)
    throw expected("key", "a non-empty string", opts.key);
  if (opts.order !== undefined && typeof opts.order !== "function")
    throw expected("order", "a function", opts.order);
  if (opts.validate !== undefined && typeof opts.validate !== "boolean")
    throw expected("validate", "a boolean", opts.validate);
}

export interface AcquireAnnotations {
  subclass?: number;
  nestLock?: object;
}

/** Validates the annotations of one acquisition; throws InvalidArgumentError. */
export function checkAnnotations(o: AcquireAnnotations | undefined): void {
  if (o === undefined) return;
  if (typeof o !== "object" || o === null)
    throw expected("options", "an object", o);
  const s = o.subclass;
  if (s !== undefined && (!Number.isInteger(s) || s < 0 || s >= MAX_SUBCLASSES))
    throw expected("subclass", `an integer from 0 to ${MAX_SUBCLASSES - 1}`, s);
  if (o.nestLock !== undefined && !isLock(o.nestLock))
    throw expected("nestLock", "a waitgraph-tracked lock", o.nestLock);
}

/**
 * An acquisition attempt (lock_acquire). Validated now, before the caller blocks. Returns the
 * hold, undefined when untracked, or a DeadlockError under `policy: 'throw'` (then the caller
 * must not take the lock).
 */
export function lockAcquire(
  map: LockMap | undefined,
  instance: object,
  read: ReadMode,
  o: AcquireAnnotations | undefined,
  trylock: boolean,
): HeldLock | DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  try {
    const v = core.validator;
    const hold = v.acquire(
      map,
      instance,
      read,
      o?.subclass ?? 0,
      trylock,
      o?.nestLock,
      context.current(),
    );
    const finding = v.finding;
    if (finding !== undefined && core.reporter.throws(finding))
      return new DeadlockError(finding);
    if (hold !== undefined && v.merged) return mergedHold(hold);
    if (hold !== undefined && hold.task.holds !== undefined)
      hold.task.holds.push(hold);
    return hold;
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

/** A nest-merged acquisition shares the held entry; only its release is its own. */
const kMerged = Symbol("waitgraph.merged");
function mergedHold(hold: HeldLock): HeldLock {
  return Object.assign(Object.create(hold) as HeldLock, { [kMerged]: hold });
}
function mergedInto(hold: HeldLock): HeldLock | undefined {
  return (hold as { [kMerged]?: HeldLock })[kMerged];
}

/** `promise` is what acquire() returned for `hold`: its continuation will hold the lock. */
export function lockPending(hold: HeldLock, promise: Promise<unknown>): void {
  if (mergedInto(hold) !== undefined) return;
  context.tagAcquire(promise, hold);
}

/** The lock was granted to the waiter that made `hold`. */
export function lockGranted(hold: HeldLock): void {
  if (mergedInto(hold) !== undefined) return;
  try {
    context.granted(hold);
  } catch (error) {
    internalError(error);
  }
}

/** A synchronous acquisition succeeded (tryAcquire): the running code holds it now. */
export function lockTaken(hold: HeldLock): void {
  if (mergedInto(hold) !== undefined) return;
  try {
    context.holdNow(hold);
  } catch (error) {
    internalError(error);
  }
}

/** Released (lock_release). Non-LIFO release is legal. A lock released elsewhere stops counting everywhere. */
export function lockRelease(hold: HeldLock): void {
  try {
    const merged = mergedInto(hold);
    if (merged !== undefined) {
      merged.references--;
      return;
    }
    if (hold.references > 1) {
      hold.references--;
      return;
    }
    hold.released = true;
    hold.waiters = null;
    context.dropped(hold);
  } catch (error) {
    internalError(error);
  }
}

/** The acquire failed (timeout, abort, rejected): nobody holds it. */
export function lockAbandoned(hold: HeldLock): void {
  hold.released = true;
  hold.waiters = null;
}

/** A releaser was called again after it released (bad unlock balance). */
export function lockReleasedTwice(
  hold: HeldLock | undefined,
  instance: object,
): void {
  if (!tracking.on || hold === undefined) return;
  try {
    const frame = context.current();
    const trace = captureTrace();
    const at = userFrames(trace, 3);
    const site = at[0] !== undefined ? `${at[0].file}:${at[0].line}` : "";
    report({
      kind: "bad-unlock-balance",
      id: `bad-unlock-balance:${hold.cls.id}:${site}`,
      classes: [hold.cls.name],
      task: frame.task.name,
      held: liveHolds(frame).map(lockRef),
      stack: userFrames(trace),
      lock: { ...lockRef(hold), at },
    });
    void instance;
  } catch (error) {
    internalError(error);
  }
}

/** lockdep_assert_held / _not_held / _held_read / _held_write, for the current task. */
export function assertion(instance: object, kind: AssertionKind): void {
  if (!tracking.on) return;
  const map = locks.get(instance);
  if (map === undefined || map === UNTRACKED) return;
  let holding: HeldLock | undefined;
  const frame = context.current();
  for (const h of liveHolds(frame)) if (h.instance === instance) holding = h;
  const ok =
    kind === "not-held"
      ? holding === undefined
      : holding !== undefined &&
        (kind === "held" || (kind === "held-read") === (holding.read !== 0));
  if (ok) return;
  const cls = core.validator.registry.classOf(map, 0);
  if (cls === undefined) return;
  const trace = captureTrace();
  const stack = userFrames(trace);
  const site =
    stack[0] !== undefined ? `${stack[0].file}:${stack[0].line}` : "";
  const r = report({
    kind: "assertion-failed",
    id: `assertion-failed:${kind}:${cls.id}:${site}`,
    classes: [cls.name],
    task: frame.task.name,
    held: liveHolds(frame).map(lockRef),
    stack,
    assertion: kind,
    lock: cls.ref(),
  });
  if (core.reporter.policy === "throw") throw new ReportError(r);
}

/** Runs `fn` holding `hold` (callback style; matters only where promise hooks are missing). */
export function runHolding<T>(hold: HeldLock | undefined, fn: () => T): T {
  return hold === undefined || !tracking.on
    ? fn()
    : context.runHolding(hold, fn);
}

/** The running code takes ownership of a granted hold (`enter()`, `await using` without promise hooks). */
export function adopt(hold: HeldLock | undefined): void {
  if (hold !== undefined && tracking.on) context.adopt(hold);
}

export function report(data: ReportData): Report {
  return core.reporter.emit(data);
}

/** A bug in waitgraph: one report, never an exception in the program. */
export function internalError(error: unknown): void {
  try {
    const message = error instanceof Error ? error.message : String(error);
    report({
      kind: "internal-error",
      id: `internal-error:${message}`,
      classes: [],
      task: "main",
      held: [],
      stack: [],
      message,
      error: error instanceof Error ? (error.stack ?? message) : message,
    });
  } catch {
    // The reporter itself failed; there is nothing safe left to do.
  }
}

export { newTask };

/** The running code's held list, captured when work is submitted to a queue (limiters, pools). */
export function submitter(): Frame | undefined {
  return tracking.on ? context.current() : undefined;
}

/**
 * Runs queued work as the task that submitted it, holding `hold` (a limiter's permit): the work
 * is charged to its submitter, not to whichever task happened to drain the queue (p-queue #200).
 */
export function runAsSubmitter<T>(frame: Frame | undefined, hold: HeldLock | undefined, fn: () => T): T {
  if (frame === undefined || !tracking.on) return fn();
  if (hold !== undefined) hold.granted = true;
  const run = hold === undefined || hold.released ? frame : { task: frame.task, hold, next: frame };
  return context.runInFrame(run, fn);
}
