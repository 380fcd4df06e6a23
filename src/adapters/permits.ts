// Pools are semaphores. What the pg, generic-pool, tarn and knex adapters share: a pool is one
// lock class (its construction site, or the `name`/`key` given), a checked-out resource is a
// held permit of it from checkout until it is given back, and a checkout is validated when it is
// asked for, before anything waits.
//
// What that proves: a task that holds a resource of a pool and waits for another resource of the
// same pool is recursive locking — the pool-starvation deadlock that needs only as many such
// tasks as the pool has resources (knex #1040, #1909; node-postgres #2927; generic-pool #85).
// The run that shows it need not hang: one request against a pool of two reports it.
// `A.connect(); B.connect()` in one task and `B.connect(); A.connect()` in another is a
// circular dependency between the pools' classes.
//
// Design limits, written where they bite:
//  * A resource is given back by value (`pool.release(resource)`), so the permit is found by
//    the resource: one loan of a resource at a time, as the pools themselves require.
//  * A pool's promise must be a native promise for the holder's continuation to be known (a
//    pool configured with another Promise library is validated but its holders are not seen).
//  * Tracking that is off when a pool is tracked leaves the pool untouched for good, as it
//    leaves a waitgraph lock made then untracked.
//  * The holder is whoever awaits the pool's own promise. An async helper that awaits the
//    checkout and returns the resource (`async getClient() { return pool.connect(); }`) keeps
//    the hold to itself: its caller is not seen holding it (reference/async-context.md §3.1,
//    the helper-wrapper row). A synchronous wrapper (`() => pool.connect()`) is fine.
import {
  tracking,
  lockInit,
  lockAcquire,
  lockContended,
  lockAcquired,
  lockRelease,
  type HeldLock,
  type LockMap,
} from "../core/seam.js";
import { DeadlockError } from "../core/errors.js";
import { readOptions } from "../core/arguments.js";
import type { LockClassKey, Skip } from "../core/lock-class.js";
import type { Frame } from "../core/held-lock.js";
import { stackBelow, type Trace } from "../core/stack.js";
import { state } from "../core/process-state.js";

/** How a tracked pool's class is named. Without either, the class is the tracking call's site. */
export interface PoolOptions {
  /** The class's display name (and the instance's). */
  name?: string;
  /** A stable class: every pool tracked with the same string (or LockClassKey) shares it. */
  key?: string | LockClassKey;
  /**
   * At most this many flows use the pool at once: a flow holding k of its N connections that
   * asks for another is reported only when ⌈N / k⌉ ≤ concurrency (see ClassOptions.concurrency).
   */
  concurrency?: number;
}

/** Validates the options given to a `track…` function (throws InvalidArgumentError). */
export function checkPoolOptions(
  options: PoolOptions | undefined,
): PoolOptions | undefined {
  // Only the keys here; their values are checked with every class's options (lockInit).
  return readOptions(options, POOL_OPTION_KEYS);
}

/** A tracked pool's class takes a name, a key and a concurrency (and not `order` or `validate`). */
export const POOL_OPTION_KEYS = ["name", "key", "concurrency"] as const;

/**
 * Marks a pool (or a constructor, or a module's factory) as instrumented. A global symbol, so
 * that two installed copies of waitgraph, which share one tracker, do not wrap it twice.
 */
const kTrackedPool: unique symbol = Symbol.for("waitgraph.pool/v1") as never;

export function isTracked(target: object): boolean {
  return (target as { [kTrackedPool]?: true })[kTrackedPool] === true;
}

export function markTracked(target: object): void {
  Object.defineProperty(target, kTrackedPool, { value: true });
}

/** Shadows a library method on one object; non-enumerable, so the object prints as before. */
export function defineMethod(
  target: object,
  name: string,
  value: unknown,
): void {
  Object.defineProperty(target, name, {
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/**
 * The running stack, for a lock a library will take later, off this stack (a knex builder runs
 * when it is awaited). Formatting is deferred until a report needs it; the report then shows
 * the user's frames first, as for every other trace.
 */
export function callSite(): Trace {
  return stackBelow(callSite, 32);
}

/** A pool's configured size, when it is one. */
export function sizeOf(max: unknown): number | undefined {
  return typeof max === "number" && Number.isInteger(max) && max > 0
    ? max
    : undefined;
}

/** Does this held list hold anything? (Cheap: a few frames, walked only to the first live hold.) */
export function holdsAny(frame: Frame | undefined): boolean {
  for (let f: Frame | null = frame ?? null; f !== null; f = f.next)
    if (f.hold !== null && !f.hold.released) return true;
  return false;
}

export type Attempt = HeldLock | DeadlockError | undefined;

// Shared by every copy: a pool tracked by one is tracked (its Permits known) to all.
const byPool = state.pools as WeakMap<object, Permits>;

/** The permits of a pool waitgraph tracks. */
export function permitsOf(pool: object): Permits | undefined {
  return byPool.get(pool);
}

/**
 * Tracks `pool` as a class of its own (`skip`: the tracking function, for the site), and returns
 * the Permits the caller instruments it with — or undefined when there is nothing to instrument:
 * tracking is off, or the pool is tracked already. A pool that `waitgraph/register` tracked (its
 * class the construction site) and that the user now tracks with a `name` or `key` takes the
 * user's class. `capacity`, the pool's size when known: a pool of one asked for a second resource
 * by its holder hangs for certain, a larger one once every resource is held that way.
 */
export function permitsFor(
  pool: object,
  options: PoolOptions | undefined,
  type: string,
  skip: Skip,
  capacity: unknown,
  explicit: boolean,
): Permits | undefined {
  const known = byPool.get(pool);
  if (known !== undefined || isTracked(pool)) {
    if (known !== undefined && explicit && !known.explicit) {
      known.explicit = true;
      if (options !== undefined) {
        const map = lockInit(pool, options, type, skip, sizeOf(capacity));
        if (map !== undefined) known.map = map;
      }
    }
    return undefined;
  }
  const map = lockInit(pool, options, type, skip, sizeOf(capacity));
  if (map === undefined) return undefined;
  const permits = new Permits(pool, map);
  permits.explicit = explicit;
  return permits;
}

/** One tracked pool: its class, its loans, and the checkout an outer entry point validated. */
export class Permits {
  private readonly loans = new Map<unknown, HeldLock>();
  /** The last permit of each returned resource, to tell a double release from a stranger. */
  private readonly returned = new WeakMap<object, HeldLock>();
  private validated: Attempt = undefined;
  private hasValidated = false;
  /** Tracked by the user's own call (`track…`), not only by `waitgraph/register`. */
  explicit = false;

  constructor(
    readonly pool: object,
    /** The pool's class; a user's `track…(pool, { name })` may replace register's. */
    public map: LockMap,
  ) {
    markTracked(pool);
    byPool.set(pool, this);
  }

  /**
   * A checkout is asked for: validated now, with the running stack, or with `at` (where the user
   * asked, when the library checks out later, off the user's stack). Inside `withAttempt`, the
   * attempt an outer entry point already validated is used instead — `pool.query` validates once
   * although it checks out through `pool.connect`.
   */
  attempt(at?: Trace): Attempt {
    if (this.hasValidated) {
      const taken = this.validated;
      this.hasValidated = false;
      this.validated = undefined;
      return taken;
    }
    if (!tracking.on) return undefined;
    return at === undefined
      ? lockAcquire(this.map, this.pool, 0, undefined, false)
      : lockAcquire(this.map, this.pool, 0, undefined, false, at);
  }

  /**
   * Runs `fn`, whose first checkout of this pool (made synchronously, inside the library) is
   * the attempt `attempt` the caller validated. An attempt `fn` never used is abandoned.
   */
  withAttempt<T>(attempt: Attempt, fn: () => T): T {
    const outer = this.validated;
    const hadOuter = this.hasValidated;
    this.validated = attempt;
    this.hasValidated = true;
    try {
      return fn();
    } finally {
      const unused = this.hasValidated ? this.validated : undefined;
      this.validated = outer;
      this.hasValidated = hadOuter;
      if (unused !== undefined && !(unused instanceof DeadlockError))
        lockRelease(unused, "abandoned");
    }
  }

  /**
   * `promise` settles with a checked-out resource: the continuation of whoever awaits it holds
   * the permit from the grant on. The grant is recorded before the promise settles, so the
   * holder's first step already holds it.
   */
  pending<R>(hold: HeldLock, promise: Promise<R>): Promise<R> {
    const granted = promise.then(
      (resource) => {
        this.granted(hold, resource);
        return resource;
      },
      (error: unknown) => {
        lockRelease(hold, "abandoned");
        throw error;
      },
    );
    lockContended(hold, granted);
    return granted;
  }

  /** The pool handed `resource` to the checkout that made `hold`. */
  granted(hold: HeldLock, resource: unknown): void {
    lockAcquired(hold);
    this.loans.set(resource, hold);
  }

  /**
   * `resource` is being given back (release or destroy). Call before the pool sees it: a pool
   * may hand it to the next waiter synchronously. Returns false when it was not on loan.
   */
  giveBack(resource: unknown): boolean {
    const hold = this.loans.get(resource);
    if (hold === undefined) return false;
    this.loans.delete(resource);
    if (typeof resource === "object" && resource !== null)
      this.returned.set(resource, hold);
    if (!hold.released) lockRelease(hold);
    return true;
  }

  /** The pool refused `resource`: a second release of a resource already given back is reported. */
  refused(resource: unknown): void {
    if (typeof resource !== "object" || resource === null) return;
    const hold = this.returned.get(resource);
    if (hold !== undefined) lockRelease(hold, "again");
  }
}
