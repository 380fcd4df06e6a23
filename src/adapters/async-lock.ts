// waitgraph/adapters/async-lock: async-lock's AsyncLock, reporting to waitgraph. Drop-in: the
// same constructor (plus lock class options last) and methods, `instanceof` the library's.
//
//   import AsyncLock from "waitgraph/adapters/async-lock";
//   const locks = new AsyncLock({ timeout: 5000 }, {
//     name: "locks",
//     classOf: (key) => key.replace(/:\d+$/, ":*"), // user:1, user:2 … are one class
//   });
//
// Each key (or key class) is a lock class; `acquire([a, b], fn)` takes the keys in order.
// `track(lock, opts)` tracks an AsyncLock made with the library itself, in place.
import Lib from "async-lock";
import { originalOf } from "./shared.js";
import {
  trackAsyncLock,
  type AsyncLockClassOptions,
} from "./instrument/async-lock.js";

export type { AsyncLockClassOptions };

// Under `waitgraph/register` the library's export is already instrumented; extend the original.
const Base: typeof Lib = originalOf(Lib);

export class AsyncLock extends Base {
  constructor(
    options?: Lib.AsyncLockOptions,
    lockOptions?: AsyncLockClassOptions,
  ) {
    super(options);
    trackAsyncLock(this, lockOptions, AsyncLock);
  }
}

export default AsyncLock;

/** Tracks an AsyncLock made with async-lock itself; returns it. */
export function track<T extends Lib>(lock: T, opts?: AsyncLockClassOptions): T {
  return trackAsyncLock(lock, opts, track);
}
