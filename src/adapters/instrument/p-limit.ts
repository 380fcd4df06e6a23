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
import { readOptions } from "../../core/arguments.js";
import type { ClassOptions, Skip } from "../../core/lock-class.js";
import {
  kTracked,
  namesAClass,
  runSubmitted,
  submit,
  type Submission,
} from "../shared.js";
import { copyExports, unrecognised } from "./exports.js";

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
  concurrency?: unknown,
): T {
  if (typeof inner !== "function")
    throw expected("limit", "a p-limit function", inner);
  // A lock class of an adapter takes a name and a key only; read once (arguments.ts).
  opts = readOptions(opts, ["name", "key"]);
  const tracked = (inner as { [kTracked]?: LimitState })[kTracked];
  if (tracked !== undefined) {
    if (namesAClass(opts) && !tracked.named) {
      tracked.named = true;
      tracked.map = lockInit(inner, opts, "p-limit", skip) ?? tracked.map;
    }
    return inner;
  }
  // p-limit 6 and later have a (settable) `concurrency`; before that, it is what the limiter
  // was made with, for good.
  const made = concurrencyOf(concurrency);
  const limit = function limit(fn: Fn, ...args: unknown[]): Promise<unknown> {
    const blocks = (inner.concurrency ?? made) !== Infinity;
    const s = submit(state.map, limit, blocks, false);
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

/** `pLimit(n)` or `pLimit({ concurrency: n })`; undefined when not known. */
function concurrencyOf(given: unknown): unknown {
  return typeof given === "object" && given !== null
    ? (given as { concurrency?: unknown }).concurrency
    : given;
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
    const made = realPLimit(concurrency);
    // A limiter that is not a function is no shape known here: the library's, untouched.
    if (typeof made !== "function") return made;
    return trackLimit(made, opts, pLimit, concurrency);
  };
}

const optionsTaken = new WeakMap<PLimit, boolean>();

/**
 * Does this pLimit take `{ concurrency }` (p-limit 7), or only a number (6.2, whose
 * limitFunction passes `options.concurrency`)? Asked once per loaded copy: making a limiter
 * has no effect beyond the object made.
 */
function takesOptions(realPLimit: PLimit): boolean {
  let known = optionsTaken.get(realPLimit);
  if (known === undefined) {
    try {
      realPLimit({ concurrency: 1 });
      known = true;
    } catch {
      known = false;
    }
    optionsTaken.set(realPLimit, known);
  }
  return known;
}

/** `limitFunction` of the library, over a tracked limiter. */
export function limitFunctionOf(realPLimit: PLimit) {
  return function limitFunction(
    fn: Fn,
    options: unknown,
    opts?: LimiterOptions,
  ): Fn & { clearQueue: unknown } {
    const concurrency = takesOptions(realPLimit)
      ? options
      : (options as { concurrency?: unknown } | undefined)?.concurrency;
    const limit = trackLimit(
      realPLimit(concurrency),
      opts,
      limitFunction,
      concurrency,
    );
    const limited = (...args: unknown[]) => limit(() => fn(...args));
    Object.defineProperty(limited, "clearQueue", {
      value: (limit as unknown as { clearQueue: unknown }).clearQueue,
    });
    return limited as Fn & { clearQueue: unknown };
  };
}

/**
 * The module `waitgraph/register` hands to an application that imports or requires p-limit.
 * Two shapes: p-limit 1–3 are CommonJS and the module is the pLimit function itself (2.x also
 * sets `pLimit.default = pLimit`); p-limit 4 and later are ES modules with a default pLimit
 * and, from 6.2, a named limitFunction.
 */
export function instrumentPLimit(lib: unknown): unknown {
  if (typeof lib === "function") return trackedFunctionModule(lib as PLimit);
  const ns = lib as { default?: unknown; limitFunction?: unknown };
  if (
    typeof lib !== "object" ||
    lib === null ||
    typeof ns.default !== "function"
  )
    throw unrecognised(
      "the pLimit function (p-limit 1–3, CommonJS) or a module with a default pLimit function (p-limit 4 and later)",
      lib,
    );
  const real = ns.default as PLimit;
  const replaced: Record<string, unknown> = { default: pLimitOf(real) };
  if (typeof ns.limitFunction === "function")
    replaced["limitFunction"] = limitFunctionOf(real);
  return copyExports(ns, replaced);
}

/** p-limit 1–3: a tracked pLimit with the library's own properties (`default` is itself). */
function trackedFunctionModule(real: PLimit): PLimit {
  const tracked = pLimitOf(real);
  for (const name of Reflect.ownKeys(real)) {
    if (name === "length" || name === "name" || name === "prototype") continue;
    const d = Object.getOwnPropertyDescriptor(real, name)!;
    if ("value" in d && d.value === real) d.value = tracked;
    Object.defineProperty(tracked, name, { ...d, configurable: true });
  }
  return tracked as PLimit;
}
