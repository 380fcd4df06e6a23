// The seam: the only way primitives and adapters tell the validator what a lock or an event
// does — this project's lockdep.h. Each verb is "if tracking is off or the object is untracked,
// return; else forward" to the file that does the work:
//
//   lock verbs   → acquisition.ts (class map, attempt, wait, grant, release)
//   DEPT verbs   → dept.ts (waits, events, event contexts)
//   findings     → findings.ts (unlock imbalance, failed assertions)
//
// With tracking off every verb is one boolean test, and a lock costs about one function call
// more than an untracked one (bench/untracked/seam-stub.ts is this file compiled out). Nothing
// here throws into the program it watches — but an assertion under `throw` and the argument
// errors of lockInit: a bug in waitgraph becomes one `internal-error` report.
//
// A hold (HeldLock) is the token of one acquisition: made by lockAcquire, passed back to every
// later verb about that acquisition. Callers read `released` on it and nothing else.
import type { AcquireAnnotations } from "./class-options.js";
import * as acquisition from "./acquisition.js";
import * as dept from "./dept.js";
import { DeadlockError } from "./errors.js";
import type { EventState } from "./events.js";
import {
  badUnlockBalance,
  assertionFailed,
  internalError,
} from "./findings.js";
import {
  type Blocking,
  type Frame,
  type HeldLock,
  heldOf,
} from "./held-lock.js";
import { core } from "./instance.js";
import type { ClassOptions, EventKind, LockMap, Skip } from "./lock-class.js";
import { state } from "./process-state.js";
import type { AssertionKind, ReadMode } from "./report.js";
import { capturingAt, type Site } from "./stack.js";

export type { EventKind, EventState, HeldLock, LockMap };
export { newEventState } from "./events.js";

/** Read on every lock operation: false means nothing is tracked. */
export const tracking = core.tracking;
const context = core.context;

/**
 * lockdep_init_map: validates the class options (throws InvalidArgumentError) and gives the
 * lock its class. `capacity` is how many may hold it at once (1 for a mutex); undefined claims
 * no certainty.
 */
export function lockInit(
  instance: object,
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
  capacity?: number,
): LockMap | undefined {
  return acquisition.init(instance, opts, type, skip, capacity);
}

/**
 * The class of an event object (a completion, a deferred, a task), of the kind `event` says
 * (its DEPT point names and the rules that depend on the kind). Unlike a lock it is not
 * registered as one: it can be no nest lock and no assertion's subject, and a deferred is made
 * per use, where a WeakMap entry each costs more than the rest of its tracking.
 */
export function eventInit(
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
  event: EventKind,
): LockMap | undefined {
  return acquisition.classMap(opts, type, skip, event);
}

/**
 * lock_acquire: an attempt, validated now, before the caller blocks. Returns the hold,
 * undefined when untracked, or a DeadlockError under `policy: 'throw'` (then the caller must
 * not take the lock). `at` is where the user asked, for a lock a library takes on the user's
 * behalf later or deeper (a pool's connection under an ORM): a trace captured at the user's
 * call, or a function capturing the running stack without the library's frames. Every stack
 * the validation saves is then `at`, not the running stack.
 */
export function lockAcquire(
  map: LockMap | undefined,
  instance: object,
  read: ReadMode,
  o: AcquireAnnotations | undefined,
  trylock: boolean,
  at?: Site,
): HeldLock | DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  if (at === undefined)
    return acquisition.acquire(map, instance, read, o, trylock, undefined);
  return capturingAt(at, () =>
    acquisition.acquire(map, instance, read, o, trylock, undefined),
  );
}

/**
 * lock_sync: validated as if taken and released at once, without holding it — the caller
 * waits until the lock is free (async-mutex's waitForUnlock) or a Condition's waiter will take
 * its mutex again. `blocking` tells the DEPT history whether that waiter still waits.
 */
export function lockSync(
  map: LockMap | undefined,
  instance: object,
  read: ReadMode,
  blocking?: Blocking,
): DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  const attempt = acquisition.acquire(
    map,
    instance,
    read,
    undefined,
    false,
    blocking,
  );
  if (attempt === undefined || attempt instanceof DeadlockError) return attempt;
  acquisition.release(attempt, "abandoned");
  return undefined;
}

/**
 * lock_contended: the acquisition of `hold` blocks until lockAcquired or lockRelease
 * "abandoned" (the live wait-for graph, wait-for.ts). `promise`, what acquire() returned,
 * carries the hold to its awaiter once granted; `bounded` when a timeout or signal can end the
 * wait; `cancel` rejects this one wait when the lock can.
 */
export function lockContended(
  hold: HeldLock,
  promise?: Promise<unknown>,
  bounded = false,
  cancel?: (reason: unknown) => boolean,
): void {
  acquisition.contended(hold, promise, bounded, cancel);
}

/**
 * lock_acquired: `hold` is held from now on. `how`:
 *  - omitted: granted to a contended waiter (continuations that awaited it receive it), or a
 *    Condition's waiter holding its mutex again;
 *  - a promise: granted at once (uncontended); the promise acquire() returned carries the
 *    hold to its awaiter;
 *  - "sync": a synchronous acquisition (tryAcquire) — the running code holds it now.
 */
export function lockAcquired(
  hold: HeldLock,
  how?: Promise<unknown> | "sync",
): void {
  try {
    acquisition.acquired(hold, how);
  } catch (error) {
    internalError(error);
  }
}

/**
 * lock_release. Non-LIFO release is legal; a lock released by another flow than its taker
 * stops counting everywhere (and is DEPT's event of that lock). `how`:
 *  - omitted: released;
 *  - "abandoned": the acquisition failed (timeout, abort, rejected): nobody held it;
 *  - "suspended": released for a while by Condition.wait; lockAcquired(hold) takes it back;
 *  - "again": a releaser called after it released — reported as bad-unlock-balance.
 */
export function lockRelease(
  hold: HeldLock,
  how?: "abandoned" | "suspended" | "again",
): void {
  try {
    if (how !== "again") acquisition.release(hold, how);
    else if (tracking.on) badUnlockBalance(hold, context.current());
  } catch (error) {
    internalError(error);
  }
}

/**
 * dept_wait: the caller blocks waiting for an event of `map`'s class on `ev`. Validated now:
 * holding lock A while waiting adds A → class. Returns a DeadlockError under `policy: 'throw'`
 * when the wait closes a cycle (then do not wait).
 *
 * `waiter` is the primitive's queued waiter: the wait blocks while it is still queued.
 * `promise`, when given, is what the wait returns. The flow that blocks is the one that awaits
 * it, and only then does the wait enter that flow's history (with promise hooks; else now):
 * `const reply = answered.wait(); request.complete(); await reply` raised `request` before it
 * blocked on `answered`, so `request` does not depend on `answered`. A waiter no longer queued
 * when awaited blocks nobody. Without `promise` the wait enters the caller's history now (a
 * Condition's waiter, whose flow is the caller's).
 */
export function eventWait(
  map: LockMap | undefined,
  instance: object,
  ev: EventState,
  timeout: boolean,
  waiter: Blocking,
  promise?: Promise<unknown>,
): DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  try {
    return dept.wait(map, instance, ev, timeout, waiter, promise);
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

/**
 * Makes awaiting `promise` a wait for an event of `map`'s class (a deferred's promise, a
 * task's result), validated when it is awaited. `waiting.elsewhere()` says whether awaiting it
 * would still block. Needs promise hooks.
 */
export function awaitIsWait(
  promise: Promise<unknown>,
  map: LockMap | undefined,
  instance: object,
  ev: EventState | undefined,
  waiting: Blocking,
): void {
  if (map === undefined || !tracking.on) return;
  dept.awaitIsWait(promise, map, instance, ev, waiting);
}

/** A waiter stopped waiting without the event (timeout, abort). */
export function eventWithdrawn(ev: EventState, waitersLeft: boolean): void {
  core.events.withdrawn(ev, waitersLeft);
}

/**
 * dept_event: the event of `ev` happens. Every wait the raising task made inside the event
 * context becomes a dependency `class → waited class` (dept.ts). Runs with tracking off too,
 * to end the waits recorded while it was on.
 */
export function eventRaise(
  map: LockMap | undefined,
  ev: EventState,
  waitersLeft: boolean,
): void {
  dept.raise(map, ev, waitersLeft);
}

/**
 * dept_ecxt_enter: until `lockRelease(hold)` (the exit), every wait of this task is a
 * dependency of `map`'s event. A task's whole life is such a context.
 */
export function ecxtEnter(
  map: LockMap | undefined,
  instance: object,
  frame?: Frame,
): HeldLock | undefined {
  if (map === undefined || !tracking.on) return undefined;
  try {
    return dept.ecxtEnter(map, instance, frame);
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

/** lockdep_assert_held / _not_held / _held_read / _held_write, for the current task. */
export function assertion(instance: object, kind: AssertionKind): void {
  if (!tracking.on) return;
  const map = state.locks.get(instance);
  if (map === undefined || map === acquisition.UNTRACKED) return;
  const frame = context.current();
  const holding = heldOf(frame, instance);
  const ok =
    kind === "not-held"
      ? holding === undefined
      : holding !== undefined &&
        (kind === "held" || (kind === "held-read") === (holding.read !== 0));
  if (ok) return;
  const cls = core.validator.classOf(map, 0);
  if (cls !== undefined) assertionFailed(cls, kind, frame);
}

/**
 * The running code's live hold of `instance`; null when it certainly holds none; undefined
 * when that cannot be known (tracking off, an untracked lock, or the AsyncLocalStorage
 * fallback, which cannot see a bare `await m.acquire()`: a hold it does not find proves nothing).
 */
export function heldBy(instance: object): HeldLock | null | undefined {
  if (!tracking.on) return undefined;
  const hold = heldOf(context.current(), instance);
  if (hold !== undefined) return hold;
  const map = state.locks.get(instance);
  const exact =
    context.mode === "promise-hooks" &&
    map !== undefined &&
    map !== acquisition.UNTRACKED;
  return exact ? null : undefined;
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
