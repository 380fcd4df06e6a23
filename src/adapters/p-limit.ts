// waitgraph/adapters/p-limit: p-limit's `pLimit` and `limitFunction`, reporting to waitgraph.
// The same signature, plus lock class options last:
//
//   import pLimit from "waitgraph/adapters/p-limit";
//   const limit = pLimit(4, { name: "fetches" });
//
// A limiter is a semaphore class; a limited function that waits for work submitted to the
// same limiter is reported (p-limit #91). `track(limit, opts)` wraps a limiter made with the
// library itself (a function cannot be changed in place: use the returned one).
import realPLimit, { type LimitFunction, type Options } from "p-limit";
import {
  limitFunctionOf,
  pLimitOf,
  trackLimit,
  type LimiterOptions,
} from "./instrument/p-limit.js";

export type { LimitFunction, Options, LimiterOptions };

const tracked = pLimitOf(realPLimit as never);

/** The library's pLimit; the limiter is a lock class (its construction site by default). */
export default function pLimit(
  concurrency: number | Options,
  opts?: LimiterOptions,
): LimitFunction {
  return tracked(concurrency, opts) as unknown as LimitFunction;
}

/** The library's limitFunction, over a tracked limiter. */
export const limitFunction = limitFunctionOf(realPLimit as never) as <
  Arguments extends unknown[],
  ReturnType,
>(
  function_: (...arguments_: Arguments) => PromiseLike<ReturnType>,
  options: Options,
  opts?: LimiterOptions,
) => ((...arguments_: Arguments) => Promise<ReturnType>) &
  Pick<LimitFunction, "clearQueue">;

/** Wraps a limiter made with p-limit itself; use the returned limiter. */
export function track(
  limit: LimitFunction,
  opts?: LimiterOptions,
): LimitFunction {
  return trackLimit(limit as never, opts, track) as unknown as LimitFunction;
}
