// The seam: the only way primitives and adapters talk to the validator (lockdep.h of this
// project). Locks report init, acquire (with read/try/nest flags), grant and release; nothing
// else. With tracking off every call is skipped behind one boolean test, and a lock costs
// about one function call more than an untracked one.
//
// Nothing here throws into the program it watches: a bug in waitgraph becomes one
// `internal-error` report and the lock goes on untracked.
import { MAIN_TASK, type AwaitTag } from "./context.js";
import { DeadlockError, ReportError } from "./errors.js";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkString,
  expected,
  readOptions,
} from "./arguments.js";
import type { EventState } from "./events.js";
import {
  type Blocking,
  HeldLock,
  heldOf,
  liveHolds,
  onFrame,
  siteOf,
  type Frame,
} from "./held-lock.js";
import { core } from "./instance.js";
import {
  type ClassOptions,
  type LockClass,
  LockClassKey,
  MAX_SUBCLASSES,
  type LockMap,
  type Skip,
} from "./lock-class.js";
import type { AssertionKind, ReadMode, Report, ReportData } from "./report.js";
import { captureTrace, userFrames, type Trace } from "./stack.js";
import { heldRefs, lockRef } from "./validator.js";
import { noteCapacity, waitBlocked, waitEnded } from "./wait-for.js";
import { state } from "./process-state.js";

export type { LockMap, Frame };
export { HeldLock, onFrame };

/** Read on every lock operation: false means nothing is tracked. */
export const tracking = core.tracking;
const context = core.context;

const locks = state.locks;

/** Validates class options (throws InvalidArgumentError) and resolves the lock's class key. */
export function lockInit(
  instance: object,
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
  /** How many may hold it at once; 1 for a mutex. Unknown (undefined) claims no certainty. */
  capacity?: number,
): LockMap | undefined {
  const map = classMap(opts, type, skip, capacity);
  locks.set(instance, map ?? UNTRACKED);
  if (map !== undefined) noteCapacity(instance, capacity);
  return map;
}

/**
 * The class data of an event object (a completion, a deferred, a task). Unlike a lock it is
 * not registered as one: it can be no nest lock and no assertion's subject, and a deferred is
 * made per use, where a WeakMap entry each costs more than the rest of its tracking.
 */
export function eventInit(
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
): LockMap | undefined {
  return classMap(opts, type, skip, undefined);
}

function classMap(
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
  capacity: number | undefined,
): LockMap | undefined {
  opts = checkClassOptions(opts);
  if (!tracking.on) return undefined;
  try {
    const key = core.validator.registry.keyFor(opts, type, skip);
    if (key === undefined) {
      core.validator.keysFull();
      return undefined;
    }
    return {
      key,
      type,
      instanceName: opts?.name,
      exclusive: capacity === 1,
      ...(capacity !== undefined && capacity > 1 ? { capacity } : {}),
      ...(opts?.concurrency !== undefined
        ? { concurrency: opts.concurrency }
        : {}),
    };
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

const UNTRACKED: LockMap = Object.freeze({
  key: undefined as never,
  type: "untracked",
  instanceName: undefined,
  exclusive: false,
});

export function isLock(value: unknown): boolean {
  return typeof value === "object" && value !== null && locks.has(value);
}

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
  /** Whose waiting this acquisition is, for the history (default: the hold, until granted). */
  blocking?: Blocking,
): HeldLock | DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  try {
    const v = core.validator;
    const events = core.events;
    if (o === undefined && !trylock && events.outstanding === 0) {
      const frame = context.current();
      if (frame.task.holds === undefined) {
        const hold = v.acquireAlone(map, instance, read, frame);
        if (hold !== undefined) return hold;
      }
    }
    // While some event is awaited, an acquisition is also a wait in the task's DEPT history.
    const inHistory = events.outstanding > 0 && !trylock;
    const frame = inHistory ? context.ensureOwnTask() : context.current();
    const hold = v.acquire(
      map,
      instance,
      read,
      o?.subclass ?? 0,
      trylock,
      o?.nestLock,
      frame,
    );
    if (inHistory && hold !== undefined && !v.merged)
      events.record(
        frame.task,
        hold.cls,
        siteOf(hold),
        false,
        undefined,
        blocking ?? hold,
      );
    const finding = v.finding;
    if (finding !== undefined && core.reporter.throws(finding))
      return new DeadlockError(finding);
    if (hold !== undefined && v.merged) return mergedHold(hold);
    if (hold !== undefined && hold.task.holds !== undefined)
      keep(hold.task.holds, hold);
    return hold;
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

/**
 * An explicit task's holds, checked when it ends. A long-lived task (a worker loop) takes
 * locks forever: released ones are dropped whenever the list doubles, so it stays as long as
 * what the task holds, amortised O(1) per acquisition.
 */
function keep(holds: HeldLock[], hold: HeldLock): void {
  holds.push(hold);
  if (holds.length < 64 || (holds.length & (holds.length - 1)) !== 0) return;
  let live = 0;
  for (const h of holds) if (!h.released) holds[live++] = h;
  holds.length = live;
}

/** A nest-merged acquisition shares the held entry; only its release is its own. */
function mergedHold(hold: HeldLock): HeldLock {
  const token = Object.create(hold) as HeldLock;
  token.mergedInto = hold;
  return token;
}
function mergedInto(hold: HeldLock): HeldLock | undefined {
  return hold.mergedInto;
}

/**
 * `promise` is what acquire() returned for `hold`: its continuation will hold the lock. The
 * wait is blocked until granted or abandoned (the live wait-for graph, wait-for.ts); `bounded`
 * when a timeout or signal can end it, `cancel` rejects this one wait when the lock can.
 */
export function lockPending(
  hold: HeldLock,
  promise: Promise<unknown>,
  bounded = false,
  cancel?: (reason: unknown) => boolean,
): void {
  if (mergedInto(hold) !== undefined) return;
  context.tagAcquire(promise, hold);
  waitBlocked(hold, context.current(), bounded, cancel);
}

/**
 * `instance` has `capacity` units, when it stands in for a lock made elsewhere (knex's tarn pool
 * counts in its knex's class): the wait-for graph can then tell when its holders are all stuck.
 */
export function lockCapacity(
  instance: object,
  capacity: number | undefined,
): void {
  noteCapacity(instance, capacity);
}

/** A callback-style wait (no promise to tag) is blocked until lockGranted or lockAbandoned. */
export function lockWaiting(hold: HeldLock, bounded = false): void {
  if (mergedInto(hold) === undefined)
    waitBlocked(hold, context.current(), bounded, undefined);
}

/** The lock was granted to the waiter that made `hold`. */
export function lockGranted(hold: HeldLock): void {
  if (mergedInto(hold) !== undefined) return;
  waitEnded(hold);
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
    // A nest-merged acquisition shares one entry: whichever release comes last frees it.
    const entry = mergedInto(hold) ?? hold;
    if (entry.references > 1) {
      entry.references--;
      return;
    }
    entry.released = true;
    entry.waiters = null;
    const frame = context.current();
    if (frame.task !== entry.task && !entry.ecxt)
      releasedElsewhere(entry, frame);
    context.dropped(entry, frame);
  } catch (error) {
    internalError(error);
  }
}

/**
 * DEPT's view of a lock released by another task than the one that took it (a permit handed
 * over, the kernel's folio lock): the release is the lock's event, and its event context began
 * when the lock was taken. A lock the releaser holds and took after that was waited for inside
 * the context: a dependency `released class → held class`. Example (dept.rst): Y takes A then
 * B (A → B); X takes B and hands it to Z; Z takes A, then releases B: B → A closes the cycle.
 * Waits the releaser finished before releasing left no hold and are not seen.
 */
function releasedElsewhere(entry: HeldLock, frame: Frame): void {
  if (!entry.cls.key.validate) return;
  let eventTrace: Trace | undefined;
  const event = (): Trace => (eventTrace ??= captureTrace());
  for (const held of liveHolds(frame)) {
    if (held.ecxt || held.since < entry.since || !held.cls.key.validate)
      continue;
    core.validator.dependency(
      entry.cls,
      held.cls,
      frame,
      { wait: siteOf(held), start: siteOf(entry), event },
      false,
    );
  }
}

/** The acquire failed (timeout, abort, rejected): nobody holds it. */
export function lockAbandoned(hold: HeldLock): void {
  waitEnded(hold);
  hold.released = true;
  hold.waiters = null;
}

/**
 * A releaser was called again after it released (bad unlock balance). `_instance` names the
 * lock for adapters whose acquisition was not tracked (reserved; the hold says it all today).
 */
export function lockReleasedTwice(
  hold: HeldLock | undefined,
  _instance: object,
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
      held: heldRefs(frame),
      stack: userFrames(trace),
      lock: lockRef(hold, trace),
    });
  } catch (error) {
    internalError(error);
  }
}

/** lockdep_assert_held / _not_held / _held_read / _held_write, for the current task. */
export function assertion(instance: object, kind: AssertionKind): void {
  if (!tracking.on) return;
  const map = locks.get(instance);
  if (map === undefined || map === UNTRACKED) return;
  const frame = context.current();
  const holding = heldOf(frame, instance);
  const ok =
    kind === "not-held"
      ? holding === undefined
      : holding !== undefined &&
        (kind === "held" || (kind === "held-read") === (holding.read !== 0));
  if (ok) return;
  const cls = core.validator.classOf(map, 0);
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
    held: heldRefs(frame),
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

/** The running code's held list, captured when work is submitted to a queue (limiters, pools). */
export function submitter(): Frame | undefined {
  return tracking.on ? context.current() : undefined;
}

/**
 * Runs queued work as the task that submitted it, holding `hold` (a limiter's permit): the work
 * is charged to its submitter, not to whichever task happened to drain the queue (p-queue #200).
 */
export function runAsSubmitter<T>(
  frame: Frame | undefined,
  hold: HeldLock | undefined,
  fn: () => T,
): T {
  if (frame === undefined || !tracking.on) return fn();
  if (hold !== undefined) hold.granted = true;
  const run =
    hold === undefined || hold.released
      ? frame
      : { task: frame.task, hold, next: frame };
  return context.runInFrame(run, fn);
}

// ---- DEPT: waits, events, event contexts -----------------------------------------------
//
// Every primitive that is not a lock is built on these: a wait on an event class (it blocks
// until an event of that class happens), the event itself, and event contexts. A wait is
// reported only when the waiter really blocks — a completion already done is no wait (DEPT
// commits a staged wait only when the task sleeps).

export type { EventState } from "./events.js";
export { newEventState } from "./events.js";

/**
 * The caller blocks waiting for an event of `map`'s class on `ev` (dept_request_event +
 * dept_wait). Validated now: holding lock A while waiting adds A → class. Returns a
 * DeadlockError under `policy: 'throw'` when the wait closes a cycle (then do not wait).
 *
 * `pending` is the promise the wait returns and its queued waiter. The flow that blocks is the
 * one that awaits the promise, and only then does the wait enter that flow's history (with
 * promise hooks; else now): `const reply = answered.wait(); request.complete(); await reply`
 * raised `request` before it blocked on `answered`, so `request` does not depend on
 * `answered`. A waiter no longer queued when awaited blocks nobody (DEPT commits a staged wait
 * only when the task sleeps). Without `pending`, `blocking` tells the history whether the
 * waiter still waits.
 */
export function eventWait(
  map: LockMap | undefined,
  instance: object,
  ev: EventState,
  timeout: boolean,
  pending?: Pending,
  /** Without `pending`: tells whether the waiter still waits (a Condition's queued waiter). */
  blocking?: Blocking,
): DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  try {
    return waitIn(
      context.current(),
      map,
      instance,
      ev,
      timeout,
      true,
      pending,
      blocking ?? pending?.waiter,
    );
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

/**
 * `refusable`: the caller does not wait when this returns a DeadlockError (a primitive's
 * wait). An `await` cannot be refused: it waits whatever the verdict, and under `throw` its
 * finding is logged instead. A refused wait is no wait: it starts no event context and stays
 * out of the history — else the refused waiter's own later `complete()` would find its own
 * wait inside the context and report `C → C`.
 */
function waitIn(
  awaiter: Frame,
  map: LockMap,
  instance: object,
  ev: EventState | undefined,
  timeout: boolean,
  refusable: boolean,
  pending?: Pending,
  blocking?: Blocking,
): DeadlockError | undefined {
  const v = core.validator;
  const seen = v.wait(map, instance, awaiter, timeout);
  if (seen === undefined) return undefined;
  const finding = v.finding;
  if (finding !== undefined && core.reporter.throws(finding)) {
    if (refusable) return new DeadlockError(finding);
    core.reporter.unthrown(finding);
  }
  if (ev !== undefined) core.events.request(ev, seen.trace);
  if (pending === undefined || context.mode !== "promise-hooks") {
    record(awaiter, seen.cls, seen.trace, timeout, ev, blocking);
    return undefined;
  }
  context.tagAwait(
    pending.promise,
    new AwaitedWait(pending.waiter, seen.cls, seen.trace, timeout, ev),
  );
  return undefined;
}

/** A primitive's wait that returned `promise`; it blocks while `waiter` is still queued. */
export interface Pending {
  readonly promise: Promise<unknown>;
  readonly waiter: Blocking;
}

/**
 * The tag of a primitive's pending wait: whoever awaits the promise while the waiter is still
 * queued is the flow that blocks, and the wait enters its history then. One object per wait
 * (this runs on every Completion.wait that blocks).
 */
class AwaitedWait implements AwaitTag {
  declare readonly awaitTag: true;
  constructor(
    private readonly waiter: Blocking,
    private readonly cls: LockClass,
    private readonly trace: Trace,
    private readonly timeout: boolean,
    private readonly ev: EventState | undefined,
  ) {}

  awaited(frame: Frame): void {
    if (!this.waiter.elsewhere(frame) || !tracking.on) return;
    try {
      record(frame, this.cls, this.trace, this.timeout, this.ev, this.waiter);
    } catch (error) {
      internalError(error);
    }
  }
}
(AwaitedWait.prototype as { awaitTag: true }).awaitTag = true;

/** The wait enters the history of the flow that blocks on it, while some event is awaited. */
function record(
  frame: Frame,
  cls: LockClass,
  trace: Trace,
  timeout: boolean,
  ev: EventState | undefined,
  blocking: Blocking | undefined,
): void {
  if (core.events.outstanding === 0) return;
  const own = frame === context.current() ? context.ensureOwnTask() : frame;
  if (own.task !== MAIN_TASK)
    core.events.record(own.task, cls, trace, timeout, ev, blocking);
}

/** A waiter stopped waiting without the event (timeout, abort). */
export function eventWithdrawn(ev: EventState, waitersLeft: boolean): void {
  core.events.withdrawn(ev, waitersLeft);
}

/**
 * The event of `ev` happens (dept_event): every wait the raising task made inside the event
 * context — after the first current waiter started waiting — becomes a dependency
 * `class → waited class`. An event nobody waits for has no context and adds nothing.
 *
 * Design limit, chosen against false positives: a Condition's notify never depends on a wait
 * on a Condition. Condition waits sit in predicate loops over state their mutex guards, and
 * DEPT cannot see predicates. The textbook bounded buffer (capacity 1, two producers, two
 * consumers) gives, in one legal run, a consumer that waited on notEmpty and then notified
 * notFull (notFull → notEmpty) and a producer that waited on notFull and then notified
 * notEmpty (notEmpty → notFull): a cycle, yet both cannot block at once — the buffer is never
 * full and empty together. The price: a deadlock made only of Condition waits is not reported;
 * one through a lock, a completion, a deferred or a task still is (`done → cv → done`).
 */
export function eventRaise(
  map: LockMap | undefined,
  ev: EventState,
  waitersLeft: boolean,
): void {
  if (ev.watch !== 0) unwatch(ev);
  if (ev.once) ev.happened = true;
  if (ev.requestGen === 0) return;
  if (map === undefined || !tracking.on) {
    core.events.raised(ev, waitersLeft, undefined);
    return;
  }
  try {
    const frame = context.current();
    const waits = core.events.contextWaits(
      frame.task,
      ev,
      heldListsExact() ? frame : undefined,
    );
    if (waits.length > 0) {
      const cls = core.validator.classOf(map, 0);
      let eventTrace: Trace | undefined;
      const event = (): Trace => (eventTrace ??= captureTrace());
      if (cls !== undefined)
        for (const w of waits) {
          if (cls.type === "condition" && w.cls.type === "condition") continue;
          const finding = core.validator.dependency(
            cls,
            w.cls,
            frame,
            { wait: w.trace, start: ev.requestTrace, event },
            w.timeout,
          );
          // An event cannot refuse to happen: under `throw` its finding is logged.
          if (finding !== undefined) core.reporter.unthrown(finding);
        }
    }
    core.events.raised(ev, waitersLeft, ev.requestTrace);
  } catch (error) {
    internalError(error);
  }
}

/**
 * Makes awaiting `promise` a wait for an event of `map`'s class (a deferred's promise, a
 * task's result). `waiting.elsewhere()` says whether awaiting it would still block. Needs
 * promise hooks.
 */
export function awaitIsWait(
  promise: Promise<unknown>,
  map: LockMap | undefined,
  instance: object,
  ev: EventState | undefined,
  waiting: Blocking,
): void {
  if (map === undefined || !tracking.on) return;
  // A once-event's history entries say by themselves whether it happened (events.ts), and
  // must keep nothing else: a deferred nobody can settle is collected and withdrawn. Without
  // an event state (a task's result) `waiting` answers; it must refer to no result.
  const blocking = ev === undefined ? waiting : undefined;
  const tag: AwaitTag = {
    awaitTag: true,
    awaited(frame: Frame): void {
      if (!waiting.elsewhere(frame) || !tracking.on) return;
      try {
        waitIn(frame, map, instance, ev, false, false, undefined, blocking);
        if (ev !== undefined && ev.watch === 0 && ev.requestGen !== 0)
          watchSoon(promise, ev);
      } catch (error) {
        internalError(error);
      }
    },
  };
  context.tagAwait(promise, tag);
}

/**
 * A promise nobody can settle any more (its resolvers are garbage, as with a deferred raced
 * against a timeout and dropped) will never raise its event: withdraw the request. Otherwise
 * "some event is awaited" would stay true for good, and every acquisition would keep paying
 * for the wait history.
 *
 * Most awaited deferreds settle within microtasks, and a registration (with its weak cell, and
 * the unregistration when the event happens) costs as much as the rest of the wait. So an
 * awaited promise is only queued, and registered at the next macrotask if it is still
 * pending — or when 64 are queued, in a loop that never yields to a macrotask: the queue
 * keeps at most 64 promises alive, for at most one macrotask. A registration left behind
 * after the event would live until a collection and a cleanup task, piling up one weak cell
 * per deferred, so the event unregisters it.
 */
const unsettleable = state.unsettleable;
state.onUnsettled = (ev) => {
  if (ev.requestGen !== 0) core.events.withdrawn(ev, false);
};
const queued = state.watchQueue;

function watchSoon(promise: Promise<unknown>, ev: EventState): void {
  ev.watch = 1;
  queued.push({ promise, ev });
  if (!state.watchQueued) {
    state.watchQueued = true;
    setImmediate(atMacrotask).unref();
  } else if (queued.length >= WATCH_BATCH) registerStillPending();
}
const WATCH_BATCH = 64;

function atMacrotask(): void {
  state.watchQueued = false;
  try {
    registerStillPending();
  } catch (error) {
    // Runs on its own (an immediate): nothing above it would catch, and it must not crash.
    queued.length = 0;
    internalError(error);
  }
}

function registerStillPending(): void {
  for (const { promise, ev } of queued) {
    if (ev.watch !== 1) continue;
    ev.watch = 2;
    unsettleable.register(promise, ev, ev);
  }
  queued.length = 0;
}

/** The event happened: its promise needs no watching any more. */
function unwatch(ev: EventState): void {
  if (ev.watch === 2) unsettleable.unregister(ev);
  ev.watch = 0;
}

/**
 * Enters the event context of `map`'s class (dept_ecxt_enter): until `lockRelease(hold)`, every
 * wait of this task is a dependency of that event. A task's whole life is such a context.
 */
export function ecxtEnter(
  map: LockMap | undefined,
  instance: object,
  frame?: Frame,
): HeldLock | undefined {
  if (map === undefined || !tracking.on) return undefined;
  try {
    const at = frame ?? context.current();
    const cls = core.validator.classOf(map, 0);
    if (cls === undefined) return undefined;
    const hold = new HeldLock(cls, instance, 0, false, undefined, at.task);
    hold.ecxt = true;
    hold.granted = true;
    hold.chain = {
      hash: 0,
      ids: new Int32Array(0),
      trace: captureTrace(),
      bad: undefined,
      validated: true,
      alt: undefined,
    };
    if (frame === undefined) context.holdNow(hold);
    return hold;
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

// ---- acquisitions a library makes on the user's behalf ---------------------------------

import { capturingAt, type Site } from "./stack.js";

/**
 * lockAcquire for a lock a library takes for the user: a pool's connection under an ORM or a
 * pool's own `query`. `at` is where the user asked for it — a trace captured at the user's call
 * when the library takes the lock later, off the user's stack (knex acquires in a promise
 * reaction), or a function that captures the running stack without the library's frames. Every
 * stack this validation saves (the chain's, a report's) is `at`, not the running stack.
 */
export function lockAcquireAt(
  map: LockMap | undefined,
  instance: object,
  read: ReadMode,
  o: AcquireAnnotations | undefined,
  trylock: boolean,
  at: Site,
): HeldLock | DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  return capturingAt(at, () => lockAcquire(map, instance, read, o, trylock));
}

/**
 * Whether held lists are exact: with promise hooks they are; the AsyncLocalStorage fallback
 * cannot see a bare `await m.acquire()` (context.ts), so a hold it does not find proves nothing.
 */
export function heldListsExact(): boolean {
  return context.mode === "promise-hooks";
}

/** The current task's live hold of `instance`, if it holds it. */
export function heldBy(instance: object): HeldLock | undefined {
  if (!tracking.on) return undefined;
  return heldOf(context.current(), instance);
}

/** Granted at once (uncontended): `promise`, what acquire() returned, carries the hold to its awaiter. */
export function lockGrantedNow(
  hold: HeldLock,
  promise: Promise<unknown>,
): void {
  if (hold.mergedInto !== undefined) return;
  hold.granted = true;
  context.tagAcquire(promise, hold);
}

/** Condition.wait: the caller's hold is released while it waits (it counts nowhere). */
export function lockSuspend(hold: HeldLock): void {
  if (hold.mergedInto !== undefined) return;
  // Marked, not dropped from any frame: the frames that hold it now are the ones that must
  // hold it again (a helper's caller included); meanwhile `released` hides it everywhere.
  hold.suspended = true;
  hold.granted = false;
  hold.released = true;
  hold.waiters = null;
}

/** …and held again when the waiter has the mutex back: every frame holding it sees it again. */
export function lockResume(hold: HeldLock): void {
  if (!hold.suspended) return;
  hold.suspended = false;
  hold.resumed = true;
  hold.released = false;
  lockGranted(hold);
}
