// waitgraph/adapters/async-mutex: async-mutex's Mutex, Semaphore, withTimeout and tryAcquire,
// reporting to waitgraph. Drop-in: the same constructors (plus lock class options last), the
// same methods, `instanceof` the library's classes.
//
//   import { Mutex } from "waitgraph/adapters/async-mutex";
//   const accounts = new Mutex(undefined, { name: "accounts" });
//
// `track(lock, opts)` tracks a lock made with the library itself, in place.
import * as lib from "async-mutex";
import type { MutexInterface, SemaphoreInterface } from "async-mutex";
import {
  trackSync,
  tryAcquireOf,
  withTimeoutOf,
  type LockOptions,
} from "./instrument/async-mutex.js";

export {
  E_ALREADY_LOCKED,
  E_CANCELED,
  E_TIMEOUT,
  type MutexInterface,
  type SemaphoreInterface,
} from "async-mutex";
export type { LockOptions };

export class Mutex extends lib.Mutex {
  constructor(cancelError?: Error, opts?: LockOptions) {
    super(cancelError);
    trackSync(this, opts, Mutex);
  }
}

export class Semaphore extends lib.Semaphore {
  constructor(value: number, cancelError?: Error, opts?: LockOptions) {
    super(value, cancelError);
    trackSync(this, opts, Semaphore);
  }
}

/** The library's withTimeout; the decorator shares the lock's class and is tracked too. */
export const withTimeout = withTimeoutOf(
  lib as never,
) as typeof lib.withTimeout;

/** The library's tryAcquire; acquisitions through it are trylocks (held, never validated). */
export const tryAcquire = tryAcquireOf(lib as never) as typeof lib.tryAcquire;

/** Tracks a Mutex, Semaphore or decorator made with async-mutex itself; returns it. */
export function track<T extends MutexInterface | SemaphoreInterface>(
  lock: T,
  opts?: LockOptions,
): T {
  return trackSync(lock, opts, track);
}
