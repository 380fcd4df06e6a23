// Condition: a condition variable over a waitgraph Mutex. `wait(mutex)` releases the mutex,
// waits for `notify()`/`notifyAll()`, and takes the mutex again before it returns — whatever
// happens (notify, timeout, abort, a refused wait), so the caller's own releaser always has a
// lock to release.
//
// For DEPT it is an event class: the wait happens with the mutex released, so a consumer that
// waits under its mutex adds no mutex → condition edge, and the classic producer/consumer
// (producer takes the mutex, then notifies: condition → mutex) never closes a cycle.
import {
  eventRaise,
  eventWait,
  eventWithdrawn,
  heldBy,
  lockAcquired,
  lockContended,
  lockRelease,
  lockSync,
  eventInit,
  newEventState,
  type EventKind,
  type EventState,
  type LockMap,
} from "../core/seam.js";
import { expected, InvalidArgumentError } from "../core/arguments.js";
import { Mutex, type LockOptions } from "./mutex.js";
import {
  readWaitOptions,
  WaitQueue,
  Waiter,
  type WaitOptions,
} from "./wait-queue.js";

/** A condition variable: its waits sit in predicate loops (see eventRaise's design limit). */
const CONDITION: EventKind = {
  start: "wait",
  wait: "wait",
  event: "notify",
  predicateLoop: true,
};

export class Condition {
  readonly map: LockMap | undefined;
  private readonly queue = new WaitQueue();
  private readonly ev: EventState = newEventState();

  constructor(opts?: LockOptions) {
    this.map = eventInit(opts, "condition", Condition, CONDITION);
  }

  /** The caller holds `mutex`; it is released while waiting and held again on return. */
  wait(mutex: Mutex, o?: WaitOptions): Promise<void> {
    if (!(mutex instanceof Mutex))
      return Promise.reject(expected("mutex", "a waitgraph Mutex", mutex));
    try {
      o = readWaitOptions(o); // read once: later steps see this copy
    } catch (error) {
      return Promise.reject(error);
    }
    // null: the caller certainly does not hold it. Where that cannot be known (untracked, the
    // ALS fallback) only the mutex's own state can be checked.
    const holding = heldBy(mutex);
    if (!mutex.isLocked() || holding === null)
      return Promise.reject(
        new InvalidArgumentError(
          "Expected the caller to hold `mutex` when it calls Condition.wait, got a mutex it does not hold",
        ),
      );

    // The caller's own hold is suspended, not replaced: every frame that holds it — the caller's,
    // and the caller's caller when the wait sits in a helper — holds the mutex again on return.
    const held = holding ?? undefined;
    if (held !== undefined) lockRelease(held, "suspended");
    mutex.giveBack();
    const timed = o?.timeout !== undefined && o.timeout !== Infinity;

    const retake = (settle: () => void): void => {
      const granted = (): void => {
        if (held !== undefined) lockAcquired(held);
        settle();
      };
      if (mutex.take()) granted();
      else
        mutex.enqueue(
          new Waiter(
            granted,
            () => undefined,
            1,
            () => undefined,
          ),
          undefined,
        );
    };
    let resolve!: () => void;
    let reject!: (reason: unknown) => void;
    const pending = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter = new Waiter(
      () => retake(resolve),
      (reason) => retake(() => reject(reason)),
      1,
      () => eventWithdrawn(this.ev, this.queue.length > 0),
    );
    // Aborted already: no wait at all, so no event context either. The wait, and the re-take
    // of the mutex after it, stay blocked while the waiter is queued: no event raised
    // meanwhile depends on them (events.ts).
    let refused: unknown =
      o?.signal?.aborted === true
        ? o.signal.reason
        : eventWait(this.map, this, this.ev, timed, waiter);
    // Taking the mutex again is validated now, with the held list as it is while waiting
    // (lock_sync: checked, not held — the re-take after the wait is the hold).
    if (held !== undefined) {
      const check = lockSync(mutex.map, mutex, 0, waiter);
      refused ??= check;
    }
    if (refused !== undefined) retake(() => reject(refused));
    else this.queue.push(waiter, o, "Condition wait");
    if (held !== undefined) lockContended(held, pending);
    return pending;
  }

  /** Wakes one waiter (it still has to take its mutex again). */
  notify(): void {
    eventRaise(this.map, this.ev, this.queue.length > 1);
    this.queue.shift()?.grant();
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    eventRaise(this.map, this.ev, false);
    for (const waiter of this.queue.drain()) waiter.grant();
  }
}
