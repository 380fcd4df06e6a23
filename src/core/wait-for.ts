// The live wait-for graph over lock instances (DESIGN.md, "When a deadlock really happens").
// The class graph says what can deadlock; this says what is blocked right now: which flow
// waits for which lock, permit or pool, and what that flow holds meanwhile.
//
// It changes only when a wait blocks (lockContended) or ends (lockAcquired, lockRelease "abandoned"), so an
// uncontended acquisition (lockAcquired with its promise) never touches it. Who holds an instance is not
// tracked per instance: a blocked flow's held list (its frame) says what it holds, and the
// instance's capacity says whether those holds are all there are (stuck.ts). Nothing is kept
// for a flow that is not blocked.
import type { Frame, HeldLock } from "./held-lock.js";
import { core } from "./instance.js";
import { state } from "./process-state.js";

/** One blocked wait: the flow whose held list is `frame` waits for `hold.instance`. */
export interface BlockedWait {
  /** The acquisition that waits; its class and instance are what it waits for. */
  readonly hold: HeldLock;
  /** The waiting flow's held list when it blocked (what it holds while it waits). */
  readonly frame: Frame;
  /** performance.now() when it blocked. */
  readonly since: number;
  /** A timeout or an abort signal can end it: never stuck, whoever holds the lock. */
  readonly bounded: boolean;
  /**
   * Rejects this one wait (the waiter leaves the queue, the lock is not taken), when the
   * primitive can; returns false when the wait had ended already. A library's wait that
   * cannot be withdrawn alone has none.
   */
  readonly cancel: ((reason: unknown) => boolean) | undefined;
}

/**
 * Every wait blocked now, keyed by its hold's `since` (unique per acquisition). Insertion order
 * is blocking order. Not keyed by the hold itself: a hold used as a Map key gets an identity
 * hash; a number key leaves the hold as it is.
 */
export const blocked = state.blocked;

/** Called once when the set goes from empty to not empty (the watchdog arms itself). */
export function onFirstBlocked(fn: () => void): void {
  state.onFirstBlocked = fn;
}

/**
 * A contended wait began. A Condition's re-take of its mutex (a suspended hold) is a wait for
 * a notify first — a DEPT event, out of this graph's scope — so it is not recorded.
 */
export function waitBlocked(
  hold: HeldLock,
  frame: Frame,
  bounded: boolean,
  cancel: ((reason: unknown) => boolean) | undefined,
): void {
  if (hold.suspended || hold.released) return;
  blocked.set(hold.since, {
    hold,
    frame,
    since: performance.now(),
    bounded,
    // Kept only where it is used: retaining the waiter's closure for every contended wait cost
    // about 3 µs per handoff (4 flows on one Mutex, measured). A wait that blocked before the
    // policy became `throw` is reported, not broken.
    cancel: core.reporter.policy === "throw" ? cancel : undefined,
  });
  if (blocked.size === 1) state.onFirstBlocked();
}

/** The wait ended: granted, timed out, aborted, or rejected. */
export function waitEnded(hold: HeldLock): void {
  if (blocked.size !== 0) blocked.delete(hold.since);
}
