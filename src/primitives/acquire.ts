// The acquire flow every waitgraph lock shares: validate the options, tell the seam about the
// attempt (before blocking, as lockdep does), take the lock now or queue FIFO, and hand out an
// idempotent releaser. The lock algorithms themselves (who may enter) live in each primitive.
import {
  lockAcquire,
  lockAcquired,
  lockContended,
  lockRelease,
  tracking,
  type HeldLock,
  type LockMap,
} from "../core/seam.js";
import {
  checkAnnotations,
  type AcquireAnnotations,
} from "../core/class-options.js";
import { DeadlockError } from "../core/errors.js";
import { readOptions } from "../core/arguments.js";
import type { ReadMode } from "../core/report.js";
import { checkWaitFields, Waiter, type WaitOptions } from "./wait-queue.js";

export type Release = () => void;

export interface AcquireOptions extends AcquireAnnotations, WaitOptions {}

/** What a primitive provides to the shared flow. `want` is a weight or a mode, the primitive's own. */
export interface LockAlgorithm {
  readonly map: LockMap | undefined;
  readonly instance: object;
  /** Take the lock now if the algorithm allows it (FIFO: only when nobody waits ahead). */
  take(want: number): boolean;
  enqueue(waiter: Waiter, o: AcquireOptions | undefined): void;
  /** Give back what `want` took, then grant waiters that may now enter. */
  giveBack(want: number): void;
  /** Rejects one queued waiter (a deadlock broken); false if it had left the queue. */
  withdraw(waiter: Waiter, reason: unknown): boolean;
  readonly what: string;
}

/** Builds a releaser: idempotent; a second call reports bad-unlock-balance and changes nothing. */
export function releaser(
  lock: LockAlgorithm,
  hold: HeldLock | undefined,
  want: number,
): Release {
  let released = false;
  return () => {
    if (released) {
      if (hold !== undefined) lockRelease(hold, "again");
      return;
    }
    released = true;
    if (hold !== undefined) lockRelease(hold);
    lock.giveBack(want);
  };
}

/** The keys of an acquisition's options (a Semaphore adds `weight`). */
export const ACQUIRE_OPTION_KEYS: readonly string[] = [
  "subclass",
  "nestLock",
  "timeout",
  "signal",
];

/**
 * Reads an acquisition's options once and validates them; returns the copy every later step
 * reads. Throws InvalidArgumentError / ArgumentRangeError. A try-acquire checks `timeout` and
 * `signal` too although it never waits: `tryAcquire({ timeout: NaN })` is a caller's mistake
 * either way, and one rule for every acquire is easier to trust than two.
 */
export function readAcquireOptions<T extends AcquireOptions>(
  o: T | undefined,
  known: readonly string[] = ACQUIRE_OPTION_KEYS,
): T | undefined {
  const copy = readOptions(o, known);
  checkAnnotations(copy);
  checkWaitFields(copy);
  return copy;
}

/**
 * Acquire: resolves to `wrap(release, hold)` once granted. The returned promise is tagged so
 * that the caller's continuation — and only it — holds the lock.
 */
export function acquire<T>(
  lock: LockAlgorithm,
  read: ReadMode,
  want: number,
  given: AcquireOptions | undefined,
  wrap: (release: Release, hold: HeldLock | undefined) => T,
): Promise<T> {
  let o: AcquireOptions | undefined;
  try {
    o = readAcquireOptions(given, ACQUIRE_OPTION_KEYS);
  } catch (error) {
    return Promise.reject(error);
  }
  if (o?.signal?.aborted === true) return Promise.reject(o.signal.reason);
  let hold: HeldLock | undefined;
  if (tracking.on) {
    const attempt = lockAcquire(lock.map, lock.instance, read, o, false);
    if (attempt instanceof DeadlockError) return Promise.reject(attempt);
    hold = attempt;
  }
  const release = releaser(lock, hold, want);
  if (lock.take(want)) {
    const granted = Promise.resolve(wrap(release, hold));
    if (hold !== undefined) lockAcquired(hold, granted);
    return granted;
  }
  let waiter!: Waiter;
  const pending = new Promise<T>((resolve, reject) => {
    waiter = new Waiter(
      () => {
        if (hold !== undefined) lockAcquired(hold);
        resolve(wrap(release, hold));
      },
      reject,
      want,
      () => {
        if (hold !== undefined) lockRelease(hold, "abandoned");
      },
    );
  });
  if (hold !== undefined)
    lockContended(hold, pending, bounded(o), (reason) =>
      lock.withdraw(waiter, reason),
    );
  lock.enqueue(waiter, o);
  return pending;
}

/** A timeout or a signal ends the wait by itself: it is never stuck. */
function bounded(o: AcquireOptions | undefined): boolean {
  return (
    o !== undefined &&
    ((o.timeout !== undefined && o.timeout !== Infinity) ||
      o.signal !== undefined)
  );
}

/** Try-acquire: never validated (lockdep), but held from now on when it succeeds. */
export function tryAcquire(
  lock: LockAlgorithm,
  read: ReadMode,
  want: number,
  given: AcquireOptions | undefined,
): Release | undefined {
  const o = readAcquireOptions(given, ACQUIRE_OPTION_KEYS);
  if (!lock.take(want)) return undefined;
  let hold: HeldLock | undefined;
  if (tracking.on) {
    const attempt = lockAcquire(lock.map, lock.instance, read, o, true);
    if (!(attempt instanceof DeadlockError)) hold = attempt;
    if (hold !== undefined) lockAcquired(hold, "sync");
  }
  return releaser(lock, hold, want);
}
