// waitgraph/adapters/redlock: Redis distributed locks (the `redlock` package) reporting to
// waitgraph. Each resource is a lock class with a stable string key, `redlock <resource>`, so
// that every process names it the same way (their graphs merge with `waitgraph merge`).
//
//   import Redlock from "redlock";
//   import { track } from "waitgraph/adapters/redlock";
//   const redlock = track(new Redlock([redis]));
//   const lock = await redlock.acquire(["account:1"], 5_000); // holds `redlock account:1`
//   await redlock.acquire(["account:2"], 5_000);               // account:1 → account:2
//
// Both APIs users run are tracked, told apart by shape: redlock 4 (`latest` on npm; callback or
// promise `lock(resource, ttl)` / `acquire`, `lockWithOptions`, `unlock(lock)` / `release`,
// `lock.unlock()`, `extend`) and redlock 5 (the TypeScript rewrite on ioredis; `acquire(
// resources, duration)`, `release(lock)`, `lock.release()`, `extend`, `using(resources,
// duration, fn)` — which acquires and releases through the two tracked methods).
//
// How redlock maps to lockdep:
//
//  * An acquisition is validated when it is asked for, before any retry waits: taking B while
//    holding A records A → B. A resource taken again by the flow that holds it is
//    recursive-locking: redlock is not re-entrant, the second acquisition retries until the
//    first one's TTL runs out, or fails.
//  * Several resources in one acquisition are set by one Lua script, all or none: the flow
//    never holds one of them while waiting for another. So no order is recorded between
//    resources taken together (`acquire([a, b])` and later `acquire([b, a])` is no cycle);
//    each is ordered after what the flow already held, and what the flow takes while holding
//    the lock is ordered after each of them.
//  * The awaiting flow holds every resource from the grant until `release` / `unlock` is
//    called (the release is counted when asked for, as the pools' release is). A failed
//    acquisition — retries exhausted — holds nothing.
//  * TTL: a lease that runs out in Redis is released there: "take a lease and let it expire"
//    (leader election, deduplication) is common. A hold past its lock's `expiration` ends at
//    the next acquisition through the same Redlock (no timer): taking the resource again after
//    it expired is no re-take, and never-released leases do not pile up. `extend` (redlock 5's
//    answers with a new Lock of the same value, and `using` extends through it) moves the
//    expiration on.
//
// Design limits: redlock 4's `disposer` (bluebird `Promise.using`) is not tracked. Redlock 4's
// `lock()` returns a bluebird promise; through the adapter it returns a native one (only a
// native promise can carry the hold to its awaiter), so bluebird-only methods on it are gone.
// A multi-resource hold reaches the flows that await the acquisition before it is granted —
// the usual `await redlock.acquire([...])`; a promise kept and awaited after the grant
// carries only the last resource.
import {
  tracking,
  lockInit,
  lockAcquire,
  lockContended,
  lockRelease,
  type HeldLock,
  type LockMap,
} from "../core/seam.js";
import { submitter, runAsSubmitter, grantTogether } from "../core/flows.js";
import { internalError } from "../core/findings.js";
import { KeyClasses, KeyTokens, OVERFLOW } from "./key-classes.js";
import { DeadlockError } from "../core/errors.js";
import { checkFunction, expected, readOptions } from "../core/arguments.js";
import { defineMethod } from "./permits.js";
import { kOriginal, librarySite } from "./shared.js";
import {
  copyExports,
  isClassWith,
  standsFor,
  trackSafely,
  unrecognised,
} from "./instrument/exports.js";

/** Groups resources into classes; undefined keeps the resource's own class. */
export type ResourceClass = (resource: string) => string | undefined;

export interface RedlockOptions {
  /**
   * Groups resources into classes: `(r) => r.replace(/:\d+$/, ":*")` makes `account:1` and
   * `account:2` one class `redlock account:*` (then nesting two accounts is reported, since
   * another flow may take them in the other order).
   */
  resourceClass?: ResourceClass;
}

/** What waitgraph needs of a Redlock (structural: redlock is an optional peer). */
export interface RedlockLike {
  acquire(...args: never[]): unknown;
  release(...args: never[]): unknown;
}

interface LockLike {
  value?: unknown;
  /** ms since the epoch when the lock runs out in Redis (redlock 4 and 5 both set it). */
  expiration?: unknown;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
type Callback = (error: unknown, lock?: unknown) => void;

interface State {
  classOf: ResourceClass | undefined;
  /** A user's own track() chose the classes (register's tracking comes first). */
  named: boolean;
  /** Holds of each granted lock, by the lock's value (random per acquisition). */
  readonly granted: Map<string, Granted>;
}

interface Granted {
  holds: HeldLock[];
  resources: string[];
  /** The newest Lock of this value (an extend answers with a new one in redlock 5). */
  lock: LockLike;
}

const kTracked: unique symbol = Symbol.for("waitgraph.redlock/v1") as never;

/**
 * Tracks `redlock` (a redlock 4 or 5 instance) in place and returns it. Tracking twice keeps
 * the first tracking, except that a `resourceClass` given by the user's own call replaces
 * none given before (`waitgraph/register` tracks every Redlock without one).
 */
export function track<R extends RedlockLike>(
  redlock: R,
  options?: RedlockOptions,
): R {
  return trackRedlock(redlock, options, true);
}

function checkOptions(
  options: RedlockOptions | undefined,
): RedlockOptions | undefined {
  const o = readOptions(options, ["resourceClass"]);
  checkFunction("resourceClass", o?.resourceClass);
  return o;
}

function isRedlock(
  value: unknown,
): value is RedlockLike & Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r["acquire"] === "function" &&
    typeof r["release"] === "function" &&
    (typeof r["using"] === "function" || typeof r["lock"] === "function")
  );
}

function trackRedlock<R extends RedlockLike>(
  redlock: R,
  options: RedlockOptions | undefined,
  explicit: boolean,
): R {
  if (!isRedlock(redlock))
    throw expected("redlock", "a Redlock (redlock 4 or 5)", redlock);
  const o = checkOptions(options);
  const known = (redlock as { [kTracked]?: State })[kTracked];
  if (known !== undefined) {
    if (explicit && !known.named && o?.resourceClass !== undefined) {
      known.named = true;
      known.classOf = o.resourceClass;
    }
    return redlock;
  }
  if (!tracking.on) return redlock;
  const state: State = {
    classOf: o?.resourceClass,
    named: explicit && o?.resourceClass !== undefined,
    granted: new Map(),
  };
  Object.defineProperty(redlock, kTracked, { value: state });
  const r = redlock as unknown as Record<string, Method>;
  if (typeof r["using"] === "function") {
    // redlock 5: acquire(resources, duration, settings?) → Promise<Lock>; release(lock, settings?).
    const acquire = r["acquire"]!;
    const release = r["release"]!;
    defineMethod(
      redlock,
      "acquire",
      function (this: unknown, ...args: unknown[]) {
        return acquired(
          state,
          args[0],
          () => acquire.apply(this, args),
          undefined,
          bounded5(this, args[2]),
        );
      },
    );
    defineMethod(
      redlock,
      "release",
      function (this: unknown, ...args: unknown[]) {
        released(state, args[0]);
        return release.apply(this, args);
      },
    );
    trackExtend(redlock, state);
    return redlock;
  }
  trackExtend(redlock, state);
  // redlock 4: lock/acquire(resource, ttl, cb?), lockWithOptions/acquireWithOptions(resource,
  // ttl, options, cb?), unlock/release(lock, cb?). `lock.unlock()` calls `redlock.unlock`.
  for (const name of ["lock", "acquire"] as const) {
    const raw = r[name];
    if (typeof raw !== "function") continue;
    defineMethod(
      redlock,
      name,
      function (this: unknown, resource: unknown, ttl: unknown, cb?: unknown) {
        return acquired(
          state,
          resource,
          () => raw.call(this, resource, ttl),
          cb,
          bounded4(this, undefined),
        );
      },
    );
  }
  for (const name of ["lockWithOptions", "acquireWithOptions"] as const) {
    const raw = r[name];
    if (typeof raw !== "function") continue;
    defineMethod(
      redlock,
      name,
      function (
        this: unknown,
        resource: unknown,
        ttl: unknown,
        opts: unknown,
        cb?: unknown,
      ) {
        return acquired(
          state,
          resource,
          () => raw.call(this, resource, ttl, opts),
          cb,
          bounded4(this, opts),
        );
      },
    );
  }
  for (const name of ["unlock", "release"] as const) {
    const raw = r[name];
    if (typeof raw !== "function") continue;
    defineMethod(
      redlock,
      name,
      function (this: unknown, lock: unknown, ...rest: unknown[]) {
        released(state, lock);
        return raw.call(this, lock, ...rest);
      },
    );
  }
  return redlock;
}

/** Retries end by themselves (retryCount ≠ -1): such a wait is never a stuck one. */
function bounded4(redlock: unknown, opts: unknown): boolean {
  const count =
    (opts as { retryCount?: unknown } | undefined)?.retryCount ??
    (redlock as { retryCount?: unknown }).retryCount;
  return count !== -1;
}

function bounded5(redlock: unknown, settings: unknown): boolean {
  const count =
    (settings as { retryCount?: unknown } | undefined)?.retryCount ??
    (redlock as { settings?: { retryCount?: unknown } }).settings?.retryCount;
  return count !== -1;
}

// ---- classes and instances ---------------------------------------------------------------

const RESOURCE_CLASSES = 256;
const classes = new KeyClasses(
  RESOURCE_CLASSES,
  () => ({
    id: "redlock-resources",
    className: `redlock ${OVERFLOW}`,
    limit:
      "redlock resource classes (past it, new resources are not checked; give track() a resourceClass that groups resources)",
  }),
  (cls, validate) => {
    const name = `redlock ${cls}`;
    return lockInit(
      { redlock: cls },
      { key: name, name, ...(validate ? {} : { validate: false }) },
      "redlock",
      classMap,
      1,
    );
  },
);
/** One instance per resource in use: "same instance" means the same resource. */
const tokens = new KeyTokens((resource) => ({ redlock: resource }));

function classMap(
  resource: string,
  classOf: ResourceClass | undefined,
): LockMap | undefined {
  let cls = resource;
  if (classOf !== undefined) {
    let named: unknown;
    try {
      named = classOf(resource);
    } catch (error) {
      // The user's function failed: this resource is left untracked, the acquisition goes on.
      internalError(
        new Error(
          `resourceClass(${JSON.stringify(resource)}) threw: ${String(error)}`,
        ),
      );
      return undefined;
    }
    if (named !== undefined) {
      if (typeof named !== "string" || named.length === 0) {
        internalError(
          expected(
            "resourceClass(resource)",
            "a non-empty string or undefined",
            named,
          ),
        );
        return undefined;
      }
      cls = named;
    }
  }
  return classes.mapOf(cls);
}

// ---- acquire and release -----------------------------------------------------------------

/** The resources of an acquisition, each once; undefined when one is not a string. */
function resourcesOf(given: unknown): string[] | undefined {
  const list: unknown[] = Array.isArray(given) ? given : [given];
  if (list.length === 0 || list.some((r) => typeof r !== "string"))
    return undefined;
  return [...new Set(list as string[])];
}

/**
 * One acquisition of `given` resources: validated now (each after what the flow holds, none
 * after another of the same call), granted when redlock resolves, abandoned when it rejects.
 * With `callback` (redlock 4's callback form) the callback is the holder.
 */
function acquired(
  state: State,
  given: unknown,
  start: () => unknown,
  callback: unknown,
  bounded: boolean,
): unknown {
  const cb =
    typeof callback === "function" ? (callback as Callback) : undefined;
  const resources = tracking.on ? resourcesOf(given) : undefined;
  if (resources === undefined) return passThrough(start, cb);
  expire(state);
  const holds: HeldLock[] = [];
  const taken: string[] = [];
  const abandon = (): void => {
    for (const h of holds) lockRelease(h, "abandoned");
    for (const r of taken) tokens.drop(r);
  };
  const refused = (error: DeadlockError): unknown => {
    abandon();
    if (cb === undefined) return Promise.reject(error);
    process.nextTick(cb, error);
    return Promise.reject(error).catch(noop);
  };
  // Each is validated against what the flow holds now: none of them is held before the grant,
  // so none is ordered after another taken with it.
  const maps: (LockMap | undefined)[] = [];
  for (const resource of resources) {
    const map = classMap(resource, state.classOf);
    if (map === undefined) continue;
    const token = tokens.take(resource);
    const attempt = lockAcquire(map, token, 0, undefined, false, librarySite);
    if (attempt instanceof DeadlockError) {
      tokens.drop(resource);
      return refused(attempt);
    }
    if (attempt === undefined) {
      tokens.drop(resource);
      continue;
    }
    holds.push(attempt);
    taken.push(resource);
    maps.push(map);
  }
  // Held, all but the last are trylocks (taken without waiting, never validated again): lockdep
  // records an edge from the nearest ordinary held lock and from every trylock above it, so a
  // lock taken while holding the set is ordered after each of its resources — and none of
  // them after another.
  for (let i = 0; i < holds.length - 1; i++) {
    const normal = holds[i]!;
    const token = normal.instance;
    lockRelease(normal, "abandoned");
    const held = lockAcquire(maps[i], token, 0, undefined, true, librarySite);
    if (held instanceof DeadlockError) {
      holds.splice(i, 1);
      tokens.drop(taken.splice(i, 1)[0]!);
      return refused(held);
    }
    if (held === undefined) {
      holds.splice(i, 1);
      maps.splice(i, 1);
      tokens.drop(taken.splice(i, 1)[0]!);
      i--;
      continue;
    }
    holds[i] = held;
  }
  if (holds.length === 0) return passThrough(start, cb);
  let asked: Promise<unknown>;
  try {
    // redlock 4 answers with a bluebird promise: adopted into a native one.
    asked = Promise.resolve(start());
  } catch (error) {
    abandon();
    throw error;
  }
  const frame = cb !== undefined ? submitter() : undefined;
  const last = holds[holds.length - 1]!;
  const granted = asked.then(
    (lock) => {
      grantTogether(holds, last);
      const value = (lock as LockLike | undefined)?.value;
      if (typeof value === "string")
        state.granted.set(value, {
          holds,
          resources: taken,
          lock: lock as LockLike,
        });
      // Outside the promise chain, as redlock 4's bluebird `nodeify` calls it: what the
      // callback throws is the program's uncaught exception, not a rejection nobody sees.
      if (cb !== undefined)
        process.nextTick(() => holding(frame, holds, () => cb(null, lock)));
      return lock;
    },
    (error: unknown) => {
      abandon();
      if (cb !== undefined)
        process.nextTick(() => holding(frame, [], () => cb(error)));
      throw error;
    },
  );
  for (const h of holds) if (h !== last) lockContended(h, undefined, bounded);
  lockContended(last, granted, bounded);
  if (cb !== undefined) granted.catch(noop); // the callback has the error
  return granted;
}

/** Runs a callback as the flow that asked, holding `holds`. */
function holding(
  frame: ReturnType<typeof submitter>,
  holds: HeldLock[],
  fn: () => void,
): void {
  if (holds.length === 0) return runAsSubmitter(frame, undefined, fn);
  const [first, ...rest] = holds;
  runAsSubmitter(frame, first, () => holding(submitter(), rest, fn));
}

function passThrough(start: () => unknown, cb: Callback | undefined): unknown {
  const result = start();
  if (cb === undefined) return result;
  // redlock 4's callback form: its promise also settles; the callback is the caller's.
  const settled = Promise.resolve(result).then(
    (lock) => cb(null, lock),
    (error: unknown) => cb(error),
  );
  void settled;
  return result;
}

/** `extend(lock, …)` (both versions; `lock.extend()` and redlock 5's `using` call it). */
function trackExtend(redlock: object, state: State): void {
  const extend = (redlock as Record<string, unknown>)["extend"];
  if (typeof extend !== "function") return;
  defineMethod(redlock, "extend", function (this: unknown, ...args: unknown[]) {
    const result = (extend as Method).apply(this, args);
    if (result instanceof Promise || isThenable(result))
      void Promise.resolve(result).then((lock) => extended(state, lock), noop);
    return result;
  });
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as { then?: unknown }).then === "function"
  );
}

/** Ends the holds of leases that ran out in Redis: released there, so here too. */
function expire(state: State): void {
  const now = Date.now();
  for (const [value, entry] of state.granted) {
    const at = entry.lock.expiration;
    if (typeof at === "number" && at <= now) releaseEntry(state, value, entry);
  }
}

/** `extend` answered with the lock's next lease: its expiration is the one that counts. */
function extended(state: State, lock: unknown): void {
  const value = (lock as LockLike | null | undefined)?.value;
  if (typeof value !== "string") return;
  const entry = state.granted.get(value);
  if (entry !== undefined) entry.lock = lock as LockLike;
}

function releaseEntry(state: State, value: string, entry: Granted): void {
  state.granted.delete(value);
  for (const h of entry.holds) if (!h.released) lockRelease(h);
  for (const r of entry.resources) tokens.drop(r);
}

/** `release(lock)` / `unlock(lock)` / `lock.release()`: every resource of it is given back. */
function released(state: State, lock: unknown): void {
  const value = (lock as LockLike | null | undefined)?.value;
  if (typeof value !== "string") return;
  const entry = state.granted.get(value);
  if (entry === undefined) return; // released before, or never tracked: redlock says it is safe
  releaseEntry(state, value, entry);
}

function noop(): void {}

// ---- waitgraph/register --------------------------------------------------------------------

/**
 * For `node --import waitgraph/register`: every Redlock made from these exports is tracked.
 * redlock 4's module is the Redlock constructor; redlock 5's (CommonJS and ES module) has it
 * as `default`.
 */
export function instrumentRedlock(exports: unknown): unknown {
  const isV4 = isClassWith(exports, ["lock", "unlock", "acquire", "release"]);
  const Base = isV4
    ? exports
    : (exports as { default?: unknown } | null)?.default;
  if (
    !isClassWith(Base, ["acquire", "release"]) ||
    (!isV4 && !isClassWith(Base, ["using"]))
  )
    throw unrecognised(
      "redlock 4's Redlock constructor, or redlock 5's exports with a default Redlock class (acquire, release, using)",
      exports,
    );
  const Original = Base as new (...args: unknown[]) => RedlockLike;
  const Tracked = class Redlock extends Original {
    constructor(...args: unknown[]) {
      super(...args);
      trackSafely(() => trackRedlock(this, undefined, false));
    }
  };
  Object.defineProperty(Tracked, kOriginal, { value: Original });
  standsFor(Tracked, Original);
  if (isV4) return Tracked;
  return copyExports(exports as object, { default: Tracked });
}
