// tarn (the pool under knex): a `Pool` is a semaphore class, an acquired resource a held permit.
//
//   const pool = trackPool(new tarn.Pool({ create, destroy, min: 0, max: 2 }));
//   const a = await pool.acquire().promise;   // holds a permit of the pool's class …
//   const b = await pool.acquire().promise;   // … and waits for a second one: recursive locking
//
// `acquire()` is validated when called; its `.promise` is replaced by one that records the grant,
// so whoever awaits it holds the resource until `release(resource)`, from any task. A `release`
// of a resource already given back, which the pool refuses, is reported as a bad unlock balance.
import { DeadlockError, expected } from "../core/errors.js";
import { type LockMap } from "../core/seam.js";
import { noteCapacity } from "../core/capacity.js";
import {
  checkPoolOptions,
  defineMethod,
  sizeOf,
  isTracked,
  markTracked,
  Permits,
  permitsFor,
  permitsOf,
  type PoolOptions,
} from "./permits.js";
import {
  isClassWith,
  standsFor,
  trackSafely,
  unrecognised,
} from "./instrument/exports.js";

export type { PoolOptions };

/** What waitgraph needs of a tarn `Pool` (structural: tarn is an optional peer). */
export interface TarnPoolLike {
  acquire(): { promise: Promise<unknown> };
  release(...args: never[]): unknown;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
interface Operation {
  promise: Promise<unknown>;
}

/**
 * Tracks `pool` and returns it. Its class is the site of this call, or `options.name` /
 * `options.key`. Tracking a pool twice keeps the first class (except that a pool
 * `waitgraph/register` tracked takes the `name` or `key` given here).
 */
export function trackPool<P extends TarnPoolLike>(
  pool: P,
  options?: PoolOptions,
): P {
  if (!isTarnPool(pool)) throw expected("pool", "a tarn Pool", pool);
  options = checkPoolOptions(options);
  const permits = permitsFor(
    pool,
    options,
    "tarn",
    trackPool,
    (pool as { max?: unknown }).max,
    true,
  );
  if (permits !== undefined) instrumentPool(pool, permits);
  return pool;
}

/**
 * For `node --import waitgraph/register`: every `new tarn.Pool()` made from this module's
 * exports is tracked, its class the construction site. Returns the same exports, changed.
 * A subclass a library makes of it (knex's `KnexPool`) is left to that library's adapter, which
 * knows the user's site: tracking it here would put every knex of the program in one class.
 */
export function instrumentTarn<
  M extends { Pool: abstract new (...args: never[]) => TarnPoolLike },
>(tarn: M): M {
  if (
    typeof tarn !== "object" ||
    tarn === null ||
    !isClassWith(tarn.Pool, ["acquire", "release"])
  )
    throw unrecognised(
      "tarn's exports, with a Pool class (acquire, release)",
      tarn,
    );
  if (isTracked(tarn.Pool)) return tarn;
  const Base = tarn.Pool as unknown as new (...args: unknown[]) => TarnPoolLike;
  const Pool = class Pool extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      if (new.target !== Pool) return;
      trackSafely(() => {
        const permits = permitsFor(
          this,
          undefined,
          "tarn",
          Pool,
          (this as { max?: unknown }).max,
          false,
        );
        if (permits !== undefined) instrumentPool(this, permits);
      });
    }
  };
  markTracked(Pool);
  standsFor(Pool, Base);
  (tarn as { Pool: unknown }).Pool = Pool;
  return tarn;
}

/**
 * @internal Tracks `pool` in the class `map` (knex: one class per knex, which keeps it when
 * `initialize()` makes a new pool). A pool already tracked keeps its own.
 */
export function trackInClass(pool: TarnPoolLike, map: LockMap): void {
  if (permitsOf(pool) !== undefined || isTracked(pool)) return;
  noteCapacity(pool, sizeOf((pool as { max?: unknown }).max));
  instrumentPool(pool, new Permits(pool, map));
}

function isTarnPool(value: unknown): value is TarnPoolLike {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as TarnPoolLike).acquire === "function" &&
    typeof (value as TarnPoolLike).release === "function" &&
    typeof (value as { numPendingAcquires?: unknown }).numPendingAcquires ===
      "function"
  );
}

function instrumentPool(pool: TarnPoolLike, permits: Permits): void {
  const acquire = pool.acquire as unknown as Method;
  const release = pool.release as unknown as Method;

  defineMethod(pool, "acquire", function (this: unknown) {
    const attempt = permits.attempt();
    if (attempt instanceof DeadlockError) return refused(attempt);
    const operation = acquire.call(this) as Operation;
    if (attempt !== undefined)
      operation.promise = permits.pending(attempt, operation.promise);
    return operation;
  });

  defineMethod(pool, "release", function (this: unknown, resource: unknown) {
    const known = permits.giveBack(resource);
    const accepted = release.call(this, resource);
    if (!known && accepted === false) permits.refused(resource);
    return accepted;
  });
}

/**
 * What `acquire()` returns when `policy: 'throw'` refuses it: nothing was asked of the pool, the
 * operation is already rejected with the DeadlockError, and aborting it does nothing.
 */
function refused(error: DeadlockError): Operation {
  return {
    promise: Promise.reject(error),
    isRejected: true,
    possibleTimeoutCause: null,
    abort(): void {},
    reject(): void {},
    resolve(): void {},
  } as Operation;
}
