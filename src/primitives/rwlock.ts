// RwLock: many readers or one writer, FIFO with writer preference: a reader arriving while a
// writer waits queues behind it, so writers never starve. That is exactly why its readers are
// lockdep's *non-recursive* readers (read = 1): `read(A)` in task 1, `write(A)` queued by task
// 2, then `read(A)` again in task 1 deadlocks. With `recursiveRead: true` a reader enters
// whenever no writer holds the lock (readers may overtake waiting writers), and its readers are
// recursive (read = 2): re-reading under a read hold is then allowed.
import { lockInit, assertion, type LockMap } from "../core/seam.js";
import { checkClassOptions, CLASS_OPTION_KEYS } from "../core/class-options.js";
import { checkBoolean, checkCallback } from "../core/arguments.js";
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

const RWLOCK_OPTION_KEYS = [...CLASS_OPTION_KEYS, "recursiveRead"];

const READ = 1;
const WRITE = 0;

export interface RwLockOptions extends LockOptions {
  recursiveRead?: boolean;
}

export class RwLock implements LockAlgorithm {
  readonly map: LockMap | undefined;
  readonly what = "RwLock acquire";
  readonly recursiveRead: boolean;
  private readers = 0;
  private writer = false;
  private readonly queue = new WaitQueue(() => this.grantWaiters());

  constructor(opts?: RwLockOptions) {
    // Read once, as a copy (arguments.ts); the class options are the copy without recursiveRead.
    const copy = checkClassOptions(opts, RWLOCK_OPTION_KEYS);
    checkBoolean("recursiveRead", copy?.recursiveRead);
    const recursiveRead = copy?.recursiveRead ?? false;
    if (copy !== undefined) delete copy.recursiveRead;
    this.map = lockInit(this, copy, "rwlock", RwLock, 1);
    this.recursiveRead = recursiveRead;
  }

  get instance(): object {
    return this;
  }

  private get readMode(): 1 | 2 {
    return this.recursiveRead ? 2 : 1;
  }

  acquireRead(o?: AcquireOptions): Promise<Release> {
    return acquire(this, this.readMode, READ, o, (release) => release);
  }

  acquireWrite(o?: AcquireOptions): Promise<Release> {
    return acquire(this, 0, WRITE, o, (release) => release);
  }

  tryAcquireRead(o?: AcquireOptions): Release | undefined {
    return tryAcquire(this, this.readMode, READ, o);
  }

  tryAcquireWrite(o?: AcquireOptions): Release | undefined {
    return tryAcquire(this, 0, WRITE, o);
  }

  lockRead(o?: AcquireOptions): Promise<Guard> {
    return acquire(this, this.readMode, READ, o, guard);
  }

  lockWrite(o?: AcquireOptions): Promise<Guard> {
    return acquire(this, 0, WRITE, o, guard);
  }

  runRead<T>(fn: () => Promise<T> | T, o?: AcquireOptions): Promise<T> {
    try {
      checkCallback("fn", fn);
    } catch (error) {
      return Promise.reject(error);
    }
    return runUnder(acquire(this, this.readMode, READ, o, pair), fn);
  }

  runWrite<T>(fn: () => Promise<T> | T, o?: AcquireOptions): Promise<T> {
    try {
      checkCallback("fn", fn);
    } catch (error) {
      return Promise.reject(error);
    }
    return runUnder(acquire(this, 0, WRITE, o, pair), fn);
  }

  isLocked(): boolean {
    return this.writer || this.readers > 0;
  }

  isWriteLocked(): boolean {
    return this.writer;
  }

  assertHeld(mode?: "read" | "write"): void {
    assertion(
      this,
      mode === "read" ? "held-read" : mode === "write" ? "held-write" : "held",
    );
  }

  take(want: number): boolean {
    if (want === WRITE) {
      if (this.writer || this.readers > 0 || this.queue.length > 0)
        return false;
      this.writer = true;
      return true;
    }
    if (this.writer || (!this.recursiveRead && this.queue.length > 0))
      return false;
    this.readers++;
    return true;
  }

  withdraw(waiter: Waiter, reason: unknown): boolean {
    return this.queue.withdraw(waiter, reason);
  }

  enqueue(waiter: Waiter, o: AcquireOptions | undefined): void {
    this.queue.push(waiter, o, this.what);
  }

  giveBack(want: number): void {
    if (want === WRITE) this.writer = false;
    else this.readers--;
    this.grantWaiters();
  }

  private grantWaiters(): void {
    for (let w = this.queue.first; w !== undefined; w = this.queue.first) {
      if (w.want === WRITE) {
        if (this.writer || this.readers > 0) return;
        this.writer = true;
        this.queue.shift();
        w.grant();
        return;
      }
      if (this.writer) return;
      this.readers++;
      this.queue.shift();
      w.grant();
    }
  }
}
