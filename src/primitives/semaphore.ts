// Semaphore: weighted permits, FIFO (a heavy waiter at the head is not overtaken by light ones,
// so it cannot starve). As a lock class it is exclusive: a task that waits for a permit while it
// holds a permit of the same class is reported as recursive locking — the pool-starvation
// deadlock that needs only enough concurrent tasks to happen.
import { lockInit, type LockMap } from "../core/seam.js";
import { checkCallback, checkInteger, MAX_PERMITS } from "../core/arguments.js";
import {
  ACQUIRE_OPTION_KEYS,
  acquire,
  readAcquireOptions,
  tryAcquire,
  type AcquireOptions,
  type LockAlgorithm,
  type Release,
} from "./acquire.js";
import { guard, pair, runUnder, type Guard } from "./guard.js";
import type { LockOptions } from "./mutex.js";
import { WaitQueue, type Waiter } from "./wait-queue.js";

export interface SemaphoreAcquireOptions extends AcquireOptions {
  weight?: number;
}

const SEMAPHORE_ACQUIRE_KEYS = [...ACQUIRE_OPTION_KEYS, "weight"];

/** What a Semaphore's acquire needs: the weight, and the other options (read once). */
interface Checked {
  weight: number;
  rest: AcquireOptions | undefined;
}

export class Semaphore implements LockAlgorithm {
  readonly map: LockMap | undefined;
  readonly what = "Semaphore acquire";
  readonly permits: number;
  private free: number;
  private readonly queue = new WaitQueue(() => this.grantWaiters());

  constructor(permits: number, opts?: LockOptions) {
    checkInteger(
      "permits",
      permits,
      1,
      MAX_PERMITS,
      `an integer from 1 to ${MAX_PERMITS} (MAX_PERMITS)`,
      true,
    );
    this.map = lockInit(this, opts, "semaphore", Semaphore, permits);
    this.permits = permits;
    this.free = permits;
  }

  get instance(): object {
    return this;
  }

  /** Permits not taken right now. */
  get available(): number {
    return this.free;
  }

  /** True when an acquire of one permit would wait now: none is free, or others wait ahead. */
  isLocked(): boolean {
    return this.free === 0 || this.queue.length > 0;
  }

  acquire(o?: SemaphoreAcquireOptions): Promise<Release> {
    const c = this.check(o);
    if (c instanceof Error) return Promise.reject(c);
    return acquire(this, 0, c.weight, c.rest, (release) => release);
  }

  tryAcquire(o?: SemaphoreAcquireOptions): Release | undefined {
    const c = this.check(o);
    if (c instanceof Error) throw c;
    return tryAcquire(this, 0, c.weight, c.rest);
  }

  lock(o?: SemaphoreAcquireOptions): Promise<Guard> {
    const c = this.check(o);
    if (c instanceof Error) return Promise.reject(c);
    return acquire(this, 0, c.weight, c.rest, guard);
  }

  runExclusive<T>(
    fn: () => Promise<T> | T,
    o?: SemaphoreAcquireOptions,
  ): Promise<T> {
    let c: Checked | Error;
    try {
      checkCallback("fn", fn);
      c = this.check(o);
    } catch (error) {
      return Promise.reject(error);
    }
    if (c instanceof Error) return Promise.reject(c);
    return runUnder(acquire(this, 0, c.weight, c.rest, pair), fn);
  }

  /** Reads the options once; the weight apart, the rest for the shared acquire flow. */
  private check(o: SemaphoreAcquireOptions | undefined): Checked | Error {
    try {
      const copy = readAcquireOptions(o, SEMAPHORE_ACQUIRE_KEYS);
      const weight: unknown = copy?.weight === undefined ? 1 : copy.weight;
      checkInteger(
        "weight",
        weight,
        1,
        this.permits,
        `an integer from 1 to ${this.permits} (the permits)`,
      );
      if (copy !== undefined) delete copy.weight;
      return { weight: weight as number, rest: copy };
    } catch (error) {
      return error as Error;
    }
  }

  take(weight: number): boolean {
    if (this.queue.length > 0 || this.free < weight) return false;
    this.free -= weight;
    return true;
  }

  withdraw(waiter: Waiter, reason: unknown): boolean {
    return this.queue.withdraw(waiter, reason);
  }

  enqueue(waiter: Waiter, o: AcquireOptions | undefined): void {
    this.queue.push(waiter, o, this.what);
  }

  giveBack(weight: number): void {
    this.free += weight;
    this.grantWaiters();
  }

  /** Grants from the head while the head fits: FIFO, a heavy head is never overtaken. */
  private grantWaiters(): void {
    for (
      let w = this.queue.first;
      w !== undefined && w.want <= this.free;
      w = this.queue.first
    ) {
      this.free -= w.want;
      this.queue.shift();
      w.grant();
    }
  }
}
