// DEPT: waits, events and event contexts (reference §2). Every primitive that is not a lock is
// built on these: a wait on an event class (it blocks until an event of that class happens),
// the event itself, and event contexts. A wait is reported only when the waiter really
// blocks — a completion already done is no wait (DEPT commits a staged wait only when the task
// sleeps). The seam (seam.ts) forwards here once tracking is on and the class is tracked.
import { MAIN_TASK, type AwaitTag } from "./context.js";
import { DeadlockError } from "./errors.js";
import type { EventState } from "./events.js";
import { internalError } from "./findings.js";
import {
  type Blocking,
  type Frame,
  HeldLock,
  type WaitEntry,
  liveHolds,
  siteOf,
} from "./held-lock.js";
import { core } from "./instance.js";
import type { LockClass, LockMap } from "./lock-class.js";
import { captureTrace, type Trace } from "./stack.js";
import { unwatch, watchSoon } from "./unsettled.js";

const context = core.context;

/** seam.eventWait, once tracking is on and `map` is tracked. */
export function wait(
  map: LockMap,
  instance: object,
  ev: EventState,
  timeout: boolean,
  waiter: Blocking,
  promise: Promise<unknown> | undefined,
): DeadlockError | undefined {
  return waitIn(
    context.current(),
    map,
    instance,
    ev,
    timeout,
    true,
    waiter,
    promise,
  );
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
  blocking: Blocking | undefined,
  /** What a primitive's wait returned: the flow that awaits it is the one that blocks. */
  promise?: Promise<unknown>,
): DeadlockError | undefined {
  const v = core.validator;
  const seen = v.wait(map, instance, awaiter, timeout);
  if (seen === undefined) return undefined;
  const finding = seen.bad;
  if (finding !== undefined && core.reporter.throws(finding)) {
    if (refusable) return new DeadlockError(finding);
    core.reporter.unthrown(finding);
  }
  const cls = seen.waited!;
  if (ev !== undefined) core.events.request(ev, seen.trace);
  if (
    promise === undefined ||
    blocking === undefined ||
    context.mode !== "promise-hooks"
  ) {
    record(awaiter, cls, seen.trace, timeout, ev, blocking);
    return undefined;
  }
  context.tagAwait(
    promise,
    new AwaitedWait(blocking, cls, seen.trace, timeout, ev),
  );
  return undefined;
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
    if (!this.waiter.elsewhere(frame) || !core.tracking.on) return;
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

/**
 * seam.eventRaise: every wait the raising task made inside the event context — after the
 * first current waiter started waiting — becomes a dependency `class → waited class`. An
 * event nobody waits for has no context and adds nothing; an untracked one (or one raised
 * with tracking off) only ends the waits it had.
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
export function raise(
  map: LockMap | undefined,
  ev: EventState,
  waitersLeft: boolean,
): void {
  if (ev.watch !== 0) unwatch(ev);
  if (ev.once) ev.happened = true;
  if (ev.requestGen === 0) return;
  if (map === undefined || !core.tracking.on) {
    core.events.raised(ev, waitersLeft, undefined);
    return;
  }
  try {
    const frame = context.current();
    const exact = context.mode === "promise-hooks";
    const waits = core.events.contextWaits(
      frame.task,
      ev,
      exact ? frame : undefined,
    );
    if (waits.length > 0) dependOnWaits(map, ev, frame, waits);
    core.events.raised(ev, waitersLeft, ev.requestTrace);
  } catch (error) {
    internalError(error);
  }
}

function dependOnWaits(
  map: LockMap,
  ev: EventState,
  frame: Frame,
  waits: readonly WaitEntry[],
): void {
  const cls = core.validator.classOf(map, 0);
  if (cls === undefined) return;
  let eventTrace: Trace | undefined;
  const event = (): Trace => (eventTrace ??= captureTrace());
  for (const w of waits) {
    if (
      cls.event?.predicateLoop === true &&
      w.cls.event?.predicateLoop === true
    )
      continue;
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

/** seam.awaitIsWait, once tracking is on and `map` is tracked. */
export function awaitIsWait(
  promise: Promise<unknown>,
  map: LockMap,
  instance: object,
  ev: EventState | undefined,
  waiting: Blocking,
): void {
  // A once-event's history entries say by themselves whether it happened (events.ts), and
  // must keep nothing else: a deferred nobody can settle is collected and withdrawn. Without
  // an event state (a task's result) `waiting` answers; it must refer to no result.
  const blocking = ev === undefined ? waiting : undefined;
  const tag: AwaitTag = {
    awaitTag: true,
    awaited(frame: Frame): void {
      if (!waiting.elsewhere(frame) || !core.tracking.on) return;
      try {
        waitIn(frame, map, instance, ev, false, false, blocking);
        if (ev !== undefined && ev.watch === 0 && ev.requestGen !== 0)
          watchSoon(promise, ev);
      } catch (error) {
        internalError(error);
      }
    },
  };
  context.tagAwait(promise, tag);
}

/** seam.ecxtEnter, once tracking is on and `map` is tracked. */
export function ecxtEnter(
  map: LockMap,
  instance: object,
  frame: Frame | undefined,
): HeldLock | undefined {
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
    waited: undefined,
  };
  if (frame === undefined) context.holdNow(hold);
  return hold;
}

/**
 * DEPT's view of a lock released by another task than the one that took it (a permit handed
 * over, the kernel's folio lock): the release is the lock's event, and its event context began
 * when the lock was taken. A lock the releaser holds and took after that was waited for inside
 * the context: a dependency `released class → held class`. Example (dept.rst): Y takes A then
 * B (A → B); X takes B and hands it to Z; Z takes A, then releases B: B → A closes the cycle.
 * Waits the releaser finished before releasing left no hold and are not seen.
 */
export function releasedElsewhere(entry: HeldLock, frame: Frame): void {
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
