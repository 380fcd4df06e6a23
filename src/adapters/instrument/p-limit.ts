// p-limit, instrumented without importing it (see ./async-mutex.ts for why).
//
// A limiter is a semaphore class with `concurrency` permits: calling `limit(fn)` asks for a
// permit, and `fn` holds it while it runs. `fn` runs as the task that called `limit` (whichever
// task's completion started it), so locks it takes are charged to that task. A limited
// function that submits to its own limiter is recursive locking: with every permit held by
// outer calls waiting for inner ones, nothing moves — p-limit #91, where the process simply
// exits with the inner work never run. A limiter of `Infinity` never blocks and holds nothing.
import { lockInit, type LockMap } from "../../core/seam.js";
import { DeadlockError, expected } from "../../core/errors.js";
import type { ClassOptions, Skip } from "../../core/lock-class.js";
import {
  kTracked,
  namesAClass,
  runSubmitted,
  submit,
  type Submission,
} from "../shared.js";
import { copyExports } from "./exports.js";

/** A lock class as in waitgraph: `name`, `key` (the construction site by default). */
export type LimiterOptions = Pick<ClassOptions, "name" | "key">;

type Fn = (...args: unknown[]) => unknown;
export type LimitLike = ((fn: Fn, ...args: unknown[]) => Promise<unknown>) & {
  readonly concurrency?: number;
};
type PLimit = (concurrency: unknown) => LimitLike;

/** A tracked limiter wrapping `inner`: the same call signature and properties. */
/** A tracked limiter's class; replaced once when the user's own track() names one. */
interface LimitState {
  map: LockMap | undefined;
  named: boolean;
}

export function trackLimit<T extends LimitLike>(
  inner: T,
  opts: LimiterOptions | undefined,
  skip: Skip,
): T {
  if (typeof inner !== "function")
    throw expected("limit", "a p-limit function", inner);
  const tracked = (inner as { [kTracked]?: LimitState })[kTracked];
  if (tracked !== undefined) {
    if (namesAClass(opts) && !tracked.named) {
      tracked.named = true;
      tracked.map = lockInit(inner, opts, "p-limit", skip) ?? tracked.map;
    }
    return inner;
  }
  const limit = function limit(fn: Fn, ...args: unknown[]): Promise<unknown> {
    const s = submit(state.map, limit, inner.concurrency !== Infinity, false);
    if (s === undefined) return inner(fn, ...args);
    if (s instanceof DeadlockError) return Promise.reject(s);
    return args.length === 0
      ? inner(runSubmitted as Fn, s, fn)
      : inner(runLimited as Fn, s, fn, args);
  };
  const state: LimitState = {
    map: lockInit(limit, opts, "p-limit", skip),
    named: false,
  };
  for (const name of Reflect.ownKeys(inner)) {
    if (name === "length" || name === "name" || name === "prototype") continue;
    const d = Object.getOwnPropertyDescriptor(inner, name)!;
    const accessor: PropertyDescriptor = {
      enumerable: d.enumerable ?? false,
      configurable: true,
    };
    if (d.get !== undefined) accessor.get = () => Reflect.get(inner, name);
    if (d.set !== undefined)
      accessor.set = (value: unknown) => Reflect.set(inner, name, value);
    Object.defineProperty(
      limit,
      name,
      d.get !== undefined || d.set !== undefined
        ? accessor
        : { ...d, configurable: true },
    );
  }
  if (typeof (inner as { map?: unknown }).map === "function")
    Object.defineProperty(limit, "map", {
      value: mapThrough(limit),
      writable: true,
      configurable: true,
    });
  Object.defineProperty(limit, kTracked, { value: state });
  return limit as unknown as T;
}

function runLimited(s: Submission, fn: Fn, args: unknown[]): unknown {
  return runSubmitted(s, () => fn(...args));
}

/** The library's `limit.map`, submitting through the tracked limiter. */
function mapThrough(limit: LimitLike) {
  return async function map(
    iterable: Iterable<unknown>,
    fn: (value: unknown, index: number) => unknown,
  ): Promise<unknown[]> {
    const promises: Promise<unknown>[] = [];
    try {
      Array.from(iterable, (value, index) => {
        const promise = limit(fn as Fn, value, index);
        promises.push(promise);
        return promise;
      });
    } catch (error) {
      // As the library: the already scheduled calls still run; observe their rejections.
      for (const promise of promises) promise.catch(() => {});
      throw error;
    }
    return Promise.all(promises);
  };
}

/** `pLimit` of the library `realPLimit`, returning tracked limiters. */
export function pLimitOf(realPLimit: PLimit) {
  return function pLimit(
    concurrency: unknown,
    opts?: LimiterOptions,
  ): LimitLike {
    return trackLimit(realPLimit(concurrency), opts, pLimit);
  };
}

/** `limitFunction` of the library, over a tracked limiter. */
export function limitFunctionOf(realPLimit: PLimit) {
  return function limitFunction(
    fn: Fn,
    options: unknown,
    opts?: LimiterOptions,
  ): Fn & { clearQueue: unknown } {
    const limit = trackLimit(realPLimit(options), opts, limitFunction);
    const limited = (...args: unknown[]) => limit(() => fn(...args));
    Object.defineProperty(limited, "clearQueue", {
      value: (limit as unknown as { clearQueue: unknown }).clearQueue,
    });
    return limited as Fn & { clearQueue: unknown };
  };
}

/** The module `waitgraph/register` hands to an application that imports p-limit. */
export function instrumentPLimit(ns: {
  default: PLimit;
}): Record<string, unknown> {
  return copyExports(ns, {
    default: pLimitOf(ns.default),
    limitFunction: limitFunctionOf(ns.default),
  });
}
