// A lock's life behind the seam: its class map, each acquisition attempt (validated before the
// caller blocks, as lockdep does), its contended wait, its grant and its release. The seam
// (seam.ts) forwards here once tracking is on and the lock is tracked.
import { DeadlockError } from "./errors.js";
import type { AcquireAnnotations } from "./class-options.js";
import { checkClassOptions } from "./class-options.js";
import { internalError } from "./findings.js";
import { type Blocking, type Frame, HeldLock, siteOf } from "./held-lock.js";
import { core } from "./instance.js";
import type { ClassOptions, EventKind, LockMap, Skip } from "./lock-class.js";
import { releasedElsewhere } from "./dept.js";
import { state } from "./process-state.js";
import type { ReadMode } from "./report.js";
import { noteCapacity } from "./capacity.js";
import { waitBlocked, waitEnded } from "./wait-for.js";
import { findingOf } from "./validator.js";

const context = core.context;
const tracking = core.tracking;
const locks = state.locks;

/** An instance made while tracking was off, or whose class could not be had: never checked. */
export const UNTRACKED: LockMap = Object.freeze({
  key: undefined as never,
  type: "untracked",
  instanceName: undefined,
});

/** seam.lockInit: validates the options (throws) and registers the lock with its class. */
export function init(
  instance: object,
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
  capacity: number | undefined,
): LockMap | undefined {
  const map = classMap(opts, type, skip, undefined);
  locks.set(instance, map ?? UNTRACKED);
  if (map !== undefined) noteCapacity(instance, capacity);
  return map;
}

/** The class data of a lock or an event object (seam.eventInit: not registered as a lock). */
export function classMap(
  opts: ClassOptions | undefined,
  type: string,
  skip: Skip,
  event: EventKind | undefined,
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
      ...(event !== undefined ? { event } : {}),
      ...(opts?.concurrency !== undefined
        ? { concurrency: opts.concurrency }
        : {}),
    };
  } catch (error) {
    internalError(error);
    return undefined;
  }
}

/** seam.lockAcquire, once tracking is on and `map` is tracked. */
export function acquire(
  map: LockMap,
  instance: object,
  read: ReadMode,
  o: AcquireAnnotations | undefined,
  trylock: boolean,
  blocking: Blocking | undefined,
): HeldLock | DeadlockError | undefined {
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
    if (hold === undefined) return undefined;
    const merged = hold.mergedInto !== undefined;
    if (inHistory && !merged)
      events.record(
        frame.task,
        hold.cls,
        siteOf(hold),
        false,
        undefined,
        blocking ?? hold,
      );
    const finding = findingOf(hold);
    if (finding !== undefined && core.reporter.throws(finding))
      return new DeadlockError(finding);
    if (!merged && hold.task.holds !== undefined) keep(hold.task.holds, hold);
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

/** seam.lockContended: the wait for `hold` blocks (the live wait-for graph, wait-for.ts). */
export function contended(
  hold: HeldLock,
  promise: Promise<unknown> | undefined,
  bounded: boolean,
  cancel: ((reason: unknown) => boolean) | undefined,
): void {
  if (hold.mergedInto !== undefined) return;
  if (promise !== undefined) context.tagAcquire(promise, hold);
  waitBlocked(hold, context.current(), bounded, cancel);
}

/** seam.lockAcquired: see there for `how`. */
export function acquired(
  hold: HeldLock,
  how: Promise<unknown> | "sync" | undefined,
): void {
  if (hold.mergedInto !== undefined) return;
  if (how === undefined) {
    if (hold.suspended) {
      hold.suspended = false;
      hold.resumed = true;
      hold.released = false;
    }
    waitEnded(hold);
    context.granted(hold);
  } else if (how === "sync") {
    context.holdNow(hold);
  } else {
    hold.granted = true;
    context.tagAcquire(how, hold);
  }
}

/** seam.lockRelease: see there for `how`. */
export function release(
  hold: HeldLock,
  how: "abandoned" | "suspended" | undefined,
): void {
  if (how === "abandoned") {
    waitEnded(hold);
    hold.released = true;
    hold.waiters = null;
    return;
  }
  if (how === "suspended") {
    if (hold.mergedInto !== undefined) return;
    // Marked, not dropped from any frame: the frames that hold it now are the ones that must
    // hold it again (a helper's caller included); meanwhile `released` hides it everywhere.
    hold.suspended = true;
    hold.granted = false;
    hold.released = true;
    hold.waiters = null;
    return;
  }
  // A nest-merged acquisition shares one entry: whichever release comes last frees it.
  const entry = hold.mergedInto ?? hold;
  if (entry.references > 1) {
    entry.references--;
    return;
  }
  entry.released = true;
  entry.waiters = null;
  const frame: Frame = context.current();
  if (frame.task !== entry.task && !entry.ecxt) releasedElsewhere(entry, frame);
  context.dropped(entry, frame);
}
