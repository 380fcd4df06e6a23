// Mutex: a FIFO async mutex (not re-entrant) with timeouts and AbortSignal.
import { lockInit, assertion, type LockMap } from "../core/seam.js";
import { checkCallback } from "../core/arguments.js";
import { brand, isInstance } from "../core/brand.js";
import type { ClassOptions } from "../core/lock-class.js";
import {
  acquire,
  tryAcquire,
  type AcquireOptions,
  type LockAlgorithm,
  type Release,
} from "./acquire.js";
import { guard, pair, runUnder, type Guard } from "./guard.js";
import { WaitQueue, type Waiter } from "./wait-queue.js";

export type LockOptions = ClassOptions;

export class Mutex implements LockAlgorithm {
  readonly map: LockMap | undefined;
  readonly what = "Mutex acquire";
  private locked = false;
  /** A Mutex of any installed copy is a Mutex: a Condition takes it (brand.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
  private readonly queue = new WaitQueue();

  constructor(opts?: LockOptions) {
    this.map = lockInit(this, opts, "mutex", Mutex, 1);
  }

  get instance(): object {
    return this;
  }

  /** Resolves to an idempotent releaser once the mutex is held. */
  acquire(o?: AcquireOptions): Promise<Release> {
    return acquire(this, 0, 1, o, (release) => release);
  }

  /** Takes the mutex if it is free (and nobody waits); never validated, held when it succeeds. */
  tryAcquire(o?: AcquireOptions): Release | undefined {
    return tryAcquire(this, 0, 1, o);
  }

  /** Resolves to a guard for `await using`. */
  lock(o?: AcquireOptions): Promise<Guard> {
    return acquire(this, 0, 1, o, guard);
  }

  runExclusive<T>(fn: () => Promise<T> | T, o?: AcquireOptions): Promise<T> {
    try {
      checkCallback("fn", fn);
    } catch (error) {
      return Promise.reject(error);
    }
    return runUnder(acquire(this, 0, 1, o, pair), fn);
  }

  isLocked(): boolean {
    return this.locked;
  }

  /** lockdep_assert_held / lockdep_assert_not_held for the current task. */
  assertHeld(): void {
    assertion(this, "held");
  }

  // LockAlgorithm --------------------------------------------------------------------------

  take(): boolean {
    if (this.locked) return false;
    this.locked = true;
    return true;
  }

  withdraw(waiter: Waiter, reason: unknown): boolean {
    return this.queue.withdraw(waiter, reason);
  }

  enqueue(waiter: Waiter, o: AcquireOptions | undefined): void {
    this.queue.push(waiter, o, this.what);
  }

  giveBack(): void {
    const next = this.queue.shift();
    if (next === undefined) this.locked = false;
    else next.grant();
  }
}
brand(Mutex.prototype, "Mutex");
