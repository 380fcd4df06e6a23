// A FIFO of waiters with O(1) removal, shared by every primitive. A waiter leaves the queue
// exactly once: granted, timed out or aborted — whichever comes first wins, so a timeout that
// fires after the grant changes nothing (no lost or double wake-ups).
//
// A waiter that gives up can unblock the ones behind it: a semaphore's heavy head waiter, or
// an RwLock writer with readers queued behind it while other readers hold. Permits 2, one
// taken, queue [weight 2, weight 1]: when the head times out the weight-1 waiter fits now and
// must not wait for the next release. So the queue tells its owner (`onLeave`) and the owner
// grants again.
import { TimeoutError } from "../core/errors.js";
import { checkSignal, checkTimeout, readOptions } from "../core/arguments.js";

/** Node runs a longer timer after 1 ms (TimeoutOverflowWarning); longer waits re-arm. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

export interface WaitOptions {
  timeout?: number;
  signal?: AbortSignal;
}

export class Waiter {
  prev: Waiter | undefined;
  next: Waiter | undefined;
  queued = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
  constructor(
    /** Hands the lock (or event) to the waiter; called once, after it left the queue. */
    readonly grant: () => void,
    readonly reject: (reason: unknown) => void,
    /** What the waiter asks for: a weight, a read/write mode … */
    readonly want: number,
    /** Called when the waiter leaves without being granted. */
    readonly abandon: () => void,
  ) {}

  /** The DEPT history entry recording this wait (Blocking.recordedIn); let go on leaving. */
  private recorded: { blocking: unknown } | undefined = undefined;

  /** Still waiting — neither granted nor given up — so not the flow that is running now. */
  elsewhere(): boolean {
    return this.queued;
  }

  recordedIn(entry: { blocking: unknown }): void {
    this.recorded = entry;
  }

  /** Left the queue: the history entry that records this wait stops keeping it. */
  left(): void {
    const entry = this.recorded;
    if (entry === undefined) return;
    if (entry.blocking === this) entry.blocking = undefined;
    this.recorded = undefined;
  }
}

export class WaitQueue {
  private head: Waiter | undefined;
  private tail: Waiter | undefined;
  length = 0;

  /** `onLeave` runs after a waiter gave up (timeout, abort) and left the queue. */
  constructor(private readonly onLeave?: () => void) {}

  get first(): Waiter | undefined {
    return this.head;
  }

  push(w: Waiter, o: WaitOptions | undefined, what: string): void {
    w.queued = true;
    w.prev = this.tail;
    if (this.tail !== undefined) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    this.length++;
    if (o === undefined) return;
    if (o.timeout !== undefined && o.timeout !== Infinity)
      this.arm(w, o.timeout, o.timeout, what);
    if (o.signal !== undefined) {
      const signal = o.signal;
      w.signal = signal;
      w.onAbort = () => this.fail(w, signal.reason);
      // Aborted since the caller checked it (a report handler may run in between): an abort
      // listener added now would never fire.
      if (signal.aborted) w.onAbort();
      else signal.addEventListener("abort", w.onAbort, { once: true });
    }
  }

  private arm(w: Waiter, left: number, ms: number, what: string): void {
    if (left <= MAX_TIMER_DELAY) {
      w.timer = setTimeout(
        () => this.fail(w, new TimeoutError(what, ms)),
        left,
      );
      return;
    }
    w.timer = setTimeout(
      () => this.arm(w, left - MAX_TIMER_DELAY, ms, what),
      MAX_TIMER_DELAY,
    );
  }

  /** Removes the first waiter to grant it. */
  shift(): Waiter | undefined {
    const w = this.head;
    if (w !== undefined) this.remove(w);
    return w;
  }

  private remove(w: Waiter): void {
    if (!w.queued) return;
    w.queued = false;
    if (w.prev !== undefined) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next !== undefined) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = undefined;
    w.left();
    this.length--;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.onAbort !== undefined)
      w.signal!.removeEventListener("abort", w.onAbort);
  }

  /** The waiter gives up (timeout or abort) if it is still waiting. */
  private fail(w: Waiter, reason: unknown): void {
    if (!w.queued) return;
    this.remove(w);
    w.abandon();
    w.reject(reason);
    this.onLeave?.();
  }

  /** Rejects one waiter that still waits (a deadlock broken); false if it had left already. */
  withdraw(w: Waiter, reason: unknown): boolean {
    if (!w.queued) return false;
    this.fail(w, reason);
    return true;
  }

  /** Rejects every waiter (a lock torn down). */
  *drain(): Iterable<Waiter> {
    for (let w = this.shift(); w !== undefined; w = this.shift()) yield w;
  }
}

/** The keys of a wait's options (Completion.wait, Condition.wait). */
export const WAIT_OPTION_KEYS = ["timeout", "signal"] as const;

/** Validates `timeout` and `signal` of options already read once (see readWaitOptions). */
export function checkWaitFields(o: WaitOptions | undefined): void {
  if (o === undefined) return;
  checkTimeout("timeout", o.timeout);
  checkSignal("signal", o.signal);
}

/** Reads and validates a wait's options; returns the copy to use. Throws InvalidArgumentError. */
export function readWaitOptions(
  o: WaitOptions | undefined,
): WaitOptions | undefined {
  const copy = readOptions(o, WAIT_OPTION_KEYS);
  checkWaitFields(copy);
  return copy;
}
