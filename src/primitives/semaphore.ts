// Semaphore: weighted permits, FIFO (a heavy waiter at the head is not overtaken by light ones,
// so it cannot starve). As a lock class it is exclusive: a task that waits for a permit while it
// holds a permit of the same class is reported as recursive locking — the pool-starvation
// deadlock that needs only enough concurrent tasks to happen.
import { lockInit, type LockMap } from "../core/seam.js";
import { expected } from "../core/errors.js";
import {
  acquire,
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

export class Semaphore implements LockAlgorithm {
  readonly map: LockMap | undefined;
  readonly what = "Semaphore acquire";
  readonly permits: number;
  private free: number;
  private readonly queue = new WaitQueue(() => this.grantWaiters());

  constructor(permits: number, opts?: LockOptions) {
    if (
      typeof permits !== "number" ||
      !Number.isInteger(permits) ||
      permits < 1
    )
      throw expected("permits", "a positive integer", permits);
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
    const weight = this.weight(o);
    if (typeof weight !== "number") return Promise.reject(weight);
    return acquire(this, 0, weight, o, (release) => release);
  }

  tryAcquire(o?: SemaphoreAcquireOptions): Release | undefined {
    const weight = this.weight(o);
    if (typeof weight !== "number") throw weight;
    return tryAcquire(this, 0, weight, o);
  }

  lock(o?: SemaphoreAcquireOptions): Promise<Guard> {
    const weight = this.weight(o);
    if (typeof weight !== "number") return Promise.reject(weight);
    return acquire(this, 0, weight, o, guard);
  }

  runExclusive<T>(
    fn: () => Promise<T> | T,
    o?: SemaphoreAcquireOptions,
  ): Promise<T> {
    if (typeof fn !== "function")
      return Promise.reject(expected("fn", "a function", fn));
    const weight = this.weight(o);
    if (typeof weight !== "number") return Promise.reject(weight);
    return runUnder(acquire(this, 0, weight, o, pair), fn);
  }

  private weight(o: SemaphoreAcquireOptions | undefined): number | Error {
    const given: unknown = o?.weight;
    const w = given === undefined ? 1 : given;
    if (
      typeof w !== "number" ||
      !Number.isInteger(w) ||
      w < 1 ||
      w > this.permits
    )
      return expected(
        "weight",
        `an integer from 1 to ${this.permits} (the permits)`,
        w,
      );
    return w;
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
