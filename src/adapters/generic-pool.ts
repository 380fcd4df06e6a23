// generic-pool: a `Pool` is a semaphore class, a borrowed resource a held permit.
//
//   const pool = trackPool(genericPool.createPool(factory, { max: 2 }));
//   const a = await pool.acquire();   // holds a permit of the pool's class …
//   const b = await pool.acquire();   // … and waits for a second one: recursive locking
//
// `acquire()` is validated when called and held by the awaiting continuation from the grant until
// `release(resource)` or `destroy(resource)`, from any task. `use(fn)` borrows through
// `acquire`, so `fn` holds the resource while it runs. A `release` of a resource already given
// back, which the pool refuses, is reported as a bad unlock balance.
import { DeadlockError, expected } from "../core/errors.js";
import type { Skip } from "../core/lock-class.js";
import {
  checkPoolOptions,
  defineMethod,
  isTracked,
  markTracked,
  permitsFor,
  type PoolOptions,
} from "./permits.js";
import { trackSafely, unrecognised } from "./instrument/exports.js";

export type { PoolOptions };

/** What waitgraph needs of a generic-pool `Pool` (structural: generic-pool is an optional peer). */
export interface GenericPoolLike {
  acquire(...args: never[]): unknown;
  release(...args: never[]): unknown;
  destroy(...args: never[]): unknown;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Tracks `pool` and returns it. Its class is the site of this call, or `options.name` /
 * `options.key`. Tracking a pool twice keeps the first class (except that a pool
 * `waitgraph/register` tracked takes the `name` or `key` given here).
 */
export function trackPool<P extends GenericPoolLike>(
  pool: P,
  options?: PoolOptions,
): P {
  return track(pool, options, trackPool, true);
}

/**
 * For `node --import waitgraph/register`: every pool made by this module's `createPool` is
 * tracked, its class the site that called `createPool`. Returns the same exports, changed.
 */
export function instrumentGenericPool<
  M extends { createPool: (...args: never[]) => GenericPoolLike },
>(genericPool: M): M {
  if (
    typeof genericPool !== "object" ||
    genericPool === null ||
    typeof genericPool.createPool !== "function"
  )
    throw unrecognised(
      "generic-pool 3's exports, with a createPool function",
      genericPool,
    );
  if (isTracked(genericPool.createPool)) return genericPool;
  const create = genericPool.createPool as unknown as Method;
  const createPool = function createPool(this: unknown, ...args: unknown[]) {
    const pool = create.apply(this, args) as GenericPoolLike;
    trackSafely(() => track(pool, undefined, createPool, false));
    return pool;
  };
  markTracked(createPool);
  (genericPool as { createPool: unknown }).createPool = createPool;
  return genericPool;
}

function isGenericPool(value: unknown): value is GenericPoolLike {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as GenericPoolLike).acquire === "function" &&
    typeof (value as GenericPoolLike).release === "function" &&
    typeof (value as GenericPoolLike).destroy === "function"
  );
}

function track<P extends GenericPoolLike>(
  pool: P,
  options: PoolOptions | undefined,
  skip: Skip,
  explicit: boolean,
): P {
  if (!isGenericPool(pool)) throw expected("pool", "a generic-pool Pool", pool);
  options = checkPoolOptions(options);
  const made = permitsFor(
    pool,
    options,
    "generic-pool",
    skip,
    (pool as { max?: unknown }).max,
    explicit,
  );
  if (made === undefined) return pool;
  const permits = made;
  const acquire = pool.acquire as unknown as Method;
  const release = pool.release as unknown as Method;
  const destroy = pool.destroy as unknown as Method;
  const borrowed = (pool as { isBorrowedResource?: Method }).isBorrowedResource;

  defineMethod(pool, "acquire", function (this: unknown, ...args: unknown[]) {
    const attempt = permits.attempt();
    if (attempt instanceof DeadlockError) return Promise.reject(attempt);
    const promise = acquire.apply(this, args) as Promise<unknown>;
    return attempt === undefined ? promise : permits.pending(attempt, promise);
  });

  /** Release and destroy both give the resource back; the pool refuses one it has not lent. */
  const giveBack = (give: Method): Method =>
    function (this: unknown, resource: unknown, ...rest: unknown[]) {
      const lent =
        typeof borrowed === "function" ? borrowed.call(this, resource) : true;
      if (!permits.giveBack(resource) && lent === false)
        permits.refused(resource);
      return give.call(this, resource, ...rest);
    };
  defineMethod(pool, "release", giveBack(release));
  defineMethod(pool, "destroy", giveBack(destroy));
  return pool;
}
