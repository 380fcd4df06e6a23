// Completion: the kernel's `struct completion`. `wait()` blocks until `complete()` (one waiter,
// or the next wait if nobody waits yet) or `completeAll()` (everyone, from now on until
// `reinit()`). For DEPT it is an event class: a wait that really blocks is a wait on it, and
// `complete()` is its event — the completer's waits since the first current waiter started
// waiting are the completion's dependencies.
import {
  eventRaise,
  eventWait,
  eventWithdrawn,
  eventInit,
  newEventState,
  type EventKind,
  type EventState,
  type LockMap,
} from "../core/seam.js";
import type { LockOptions } from "./mutex.js";
import {
  readWaitOptions,
  WaitQueue,
  Waiter,
  type WaitOptions,
} from "./wait-queue.js";

/** A completion's DEPT points (the kernel's names). */
const COMPLETION: EventKind = {
  start: "wait_for_completion",
  wait: "wait_for_completion",
  event: "complete",
};

export class Completion {
  readonly map: LockMap | undefined;
  /** Completions not yet consumed by a wait; Infinity after completeAll(). */
  private done = 0;
  private readonly queue = new WaitQueue();
  private readonly ev: EventState = newEventState();

  constructor(opts?: LockOptions) {
    this.map = eventInit(opts, "completion", Completion, COMPLETION);
  }

  /** Resolves once completed. A completion already done is consumed without waiting. */
  wait(o?: WaitOptions): Promise<void> {
    try {
      o = readWaitOptions(o); // read once: later steps see this copy
    } catch (error) {
      return Promise.reject(error);
    }
    if (o?.signal?.aborted === true) return Promise.reject(o.signal.reason);
    if (this.done > 0) {
      if (this.done !== Infinity) this.done--;
      return Promise.resolve();
    }
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve, reject) => {
      waiter = new Waiter(resolve, reject, 1, () =>
        eventWithdrawn(this.ev, this.queue.length > 0),
      );
    });
    if (this.map !== undefined) {
      const timed = o?.timeout !== undefined && o.timeout !== Infinity;
      // The flow that awaits `promise` while the waiter is queued is the one that blocks (see
      // eventWait); the waiter is queued right below, unless the wait is refused.
      const refused = eventWait(
        this.map,
        this,
        this.ev,
        timed,
        waiter,
        promise,
      );
      if (refused !== undefined) return Promise.reject(refused);
    }
    this.queue.push(waiter, o, "Completion wait");
    return promise;
  }

  /** Wakes one waiter; with none waiting, lets the next wait through. */
  complete(): void {
    eventRaise(this.map, this.ev, this.queue.length > 1);
    const waiter = this.queue.shift();
    if (waiter !== undefined) waiter.grant();
    else if (this.done !== Infinity) this.done++;
  }

  /** Wakes every waiter, and every wait from now on returns at once (until reinit). */
  completeAll(): void {
    eventRaise(this.map, this.ev, false);
    this.done = Infinity;
    for (const waiter of this.queue.drain()) waiter.grant();
  }

  /** Forgets past completions, for reuse. Waiters still waiting keep waiting. */
  reinit(): void {
    this.done = 0;
  }

  isDone(): boolean {
    return this.done > 0;
  }
}
