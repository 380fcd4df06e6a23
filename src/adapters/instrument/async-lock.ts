// async-lock, instrumented without importing it (see ./async-mutex.ts for why).
//
// An AsyncLock is many locks, one per key. Each key is a lock class of its own (named
// `<lock>[<key>]`), or keys are grouped into classes by `classOf(key)`: with
// `classOf: (key) => key.replace(/:\d+$/, ":*")`, `user:1` and `user:2` are one class, so
// taking `user:2` while holding `user:1` is recursive locking — another task may take them in
// the other order.
//
// `acquire(key, fn)` runs `fn` once the key is free, from whichever task released it; `fn`
// runs as the task that called acquire, holding the key. A multi-key `acquire([a, b], fn)` is
// the library's nesting of single-key acquires in argument order (it calls `this.acquire`),
// so it records a → b, and a later `acquire([b, a], …)` is the circular dependency of
// redlock #305 / medusa #16284.
//
// Design limits: a key taken again inside a `domainReentrant` lock's own domain is not
// tracked (the library lets it in). A `fn` that outlives `maxExecutionTime` keeps its hold
// until it settles, although the library has moved on.
import { KeyClasses, OVERFLOW } from "../key-classes.js";
import { lockInit, type LockMap } from "../../core/seam.js";
import { DeadlockError } from "../../core/errors.js";
import {
  checkFunction,
  checkString,
  expected,
  readOptions,
} from "../../core/arguments.js";
import type { Skip } from "../../core/lock-class.js";
import { formatSite, stackBelow, userFrames } from "../../core/stack.js";
import {
  endSubmission,
  endingError,
  endingValue,
  enterSubmitted,
  kOriginal,
  kTracked,
  namesAClass,
  runSubmitted,
  submit,
  type Submission,
} from "../shared.js";
import {
  isClassWith,
  standsFor,
  trackSafely,
  unrecognised,
} from "./exports.js";

export interface AsyncLockClassOptions {
  /** Display name of the lock; its key classes print as `name[key]`. */
  name?: string;
  /** A stable class name shared by every lock given it (the construction site by default). */
  key?: string;
  /** Groups keys into classes: keys with the same result are one class. Identity by default. */
  classOf?: (key: string) => string;
}

type Done = (err?: unknown, ret?: unknown) => void;
type Acquire = (
  key: unknown,
  fn: unknown,
  cb?: unknown,
  opts?: unknown,
) => Promise<unknown> | undefined;

interface AsyncLockLike {
  acquire: Acquire;
  isBusy(key?: string): boolean;
  domainReentrant?: boolean;
  domains?: Record<string, unknown>;
}

interface State {
  base: string;
  display: string;
  classOf: ((key: string) => string) | undefined;
  /** The user's own track() named the classes (see namesAClass). */
  named: boolean;
  readonly raw: Acquire;
  /** One class map per key class (created on first use). */
  readonly classes: KeyClasses;
  /** One instance token per key in use, so that "same instance" means the same key. */
  readonly keys: Map<string, { token: object; users: number }>;
}

type Tracked = AsyncLockLike & { [kTracked]: State };

/** Reads and validates the class options of `track(lock, opts)`; returns the copy to use. */
export function checkAsyncLockOptions(
  given: AsyncLockClassOptions | undefined,
): AsyncLockClassOptions | undefined {
  const o = readOptions(given, ["name", "key", "classOf"]);
  if (o === undefined) return undefined;
  checkString("name", o.name);
  if (o.key !== undefined && (typeof o.key !== "string" || o.key.length === 0))
    throw expected("key", "a non-empty string", o.key);
  checkFunction("classOf", o.classOf);
  return o;
}

/** Tracks `lock` in place and returns it; its base class is the caller of `skip`'s site. */
export function trackAsyncLock<T extends object>(
  lock: T,
  opts: AsyncLockClassOptions | undefined,
  skip: Skip,
): T {
  const l = lock as unknown as AsyncLockLike;
  if (typeof l.acquire !== "function" || typeof l.isBusy !== "function")
    throw expected("lock", "an AsyncLock", lock);
  opts = checkAsyncLockOptions(opts);
  const tracked = (lock as Partial<Tracked>)[kTracked];
  if (tracked !== undefined) {
    if ((namesAClass(opts) || opts?.classOf !== undefined) && !tracked.named) {
      tracked.named = true;
      tracked.base = opts?.key ?? tracked.base;
      tracked.display = opts?.name ?? tracked.base;
      tracked.classOf = opts?.classOf ?? tracked.classOf;
      tracked.classes.clear();
    }
    return lock;
  }
  const base = opts?.key ?? `async-lock@${siteOf(skip)}`;
  const state: State = {
    base,
    display: opts?.name ?? base,
    classOf: opts?.classOf,
    named: false,
    raw: l.acquire,
    classes: keyClasses(() => state, lock),
    keys: new Map(),
  };
  Object.defineProperties(lock, {
    [kTracked]: { value: state },
    acquire: { value: acquire, writable: true, configurable: true },
  });
  return lock;
}

/** `file:line:col` of the first user frame below `skip` (once per lock, not per acquire). */
function siteOf(skip: Skip): string {
  return formatSite(userFrames(stackBelow(skip, 16), 1)[0]);
}

/** Key classes one AsyncLock may make before new keys share one overflow class. */
const KEY_CLASSES = 256;

function classMap(
  state: State,
  lock: object,
  key: string,
): LockMap | undefined {
  let cls = key;
  if (state.classOf !== undefined) {
    const named = state.classOf(key);
    if (typeof named !== "string")
      throw expected("classOf(key)", "a string", named);
    cls = named;
  }
  return state.classes.mapOf(cls);
}

/**
 * The key classes of one AsyncLock. A map belongs to its key class, not to the AsyncLock (which
 * has many); the instance is the lock, so one lock's key classes are never another's.
 */
function keyClasses(stateOf: () => State, lock: object): KeyClasses {
  const state = (): State => stateOf();
  return new KeyClasses(
    KEY_CLASSES,
    () => ({
      id: `async-lock-keys:${state().base}`,
      className: `${state().display}[${OVERFLOW}]`,
      limit: `async-lock key classes of ${state().display} (give it a classOf that groups keys)`,
    }),
    (cls, validate) =>
      lockInit(
        { lock, cls },
        {
          key: `${state().base}[${cls}]`,
          name: `${state().display}[${cls}]`,
          ...(validate ? {} : { validate: false }),
        },
        "async-lock",
        acquire,
      ),
  );
}

function keyToken(state: State, key: string): object {
  let entry = state.keys.get(key);
  if (entry === undefined) {
    entry = { token: { key }, users: 0 };
    state.keys.set(key, entry);
  }
  entry.users++;
  return entry.token;
}

function dropKey(state: State, key: string): void {
  const entry = state.keys.get(key);
  if (entry !== undefined && --entry.users === 0) state.keys.delete(key);
}

/** The library's reentrancy test for `domainReentrant` locks (process.domain is deprecated). */
function reentersDomain(lock: AsyncLockLike, key: string): boolean {
  if (lock.domainReentrant !== true) return false;
  const domain = (process as { domain?: unknown }).domain;
  return (
    domain !== undefined && domain !== null && lock.domains?.[key] === domain
  );
}

function acquire(
  this: AsyncLockLike,
  key: unknown,
  fn: unknown,
  cb?: unknown,
  opts?: unknown,
): Promise<unknown> | undefined {
  const state = (this as Tracked)[kTracked];
  // Arrays: the library nests single-key acquires through `this.acquire`, i.e. through here.
  if (Array.isArray(key) || typeof fn !== "function")
    return state.raw.call(this, key, fn, cb, opts);
  const name = String(key);
  if (reentersDomain(this, name))
    return state.raw.call(this, key, fn, cb, opts);
  const map = classMap(state, this, name);
  const s = submit(map, keyToken(state, name), true, true);
  if (s instanceof DeadlockError) {
    dropKey(state, name);
    if (typeof cb === "function") {
      (cb as Done)(s);
      return undefined;
    }
    return Promise.reject(s);
  }
  if (s === undefined) {
    dropKey(state, name);
    return state.raw.call(this, key, fn, cb, opts);
  }
  s.onEnd = () => dropKey(state, name);
  const work = runner(s, fn as (done?: Done) => unknown);
  if (typeof cb === "function")
    return state.raw.call(this, key, work, endingCallback(s, cb as Done), opts);
  // Timeouts and a full queue settle the promise without running `fn`: end it there too.
  return state.raw
    .call(this, key, work, cb, opts)
    ?.then(endingValue(s), endingError(s));
}

function endingCallback(s: Submission, cb: Done): Done {
  return (err, ret) => {
    endSubmission(s);
    cb(err, ret);
  };
}

/**
 * `fn` as the library will call it: callback mode when it takes `done` (the library tests
 * `fn.length === 1`), promise mode otherwise; it runs as its submitter, holding the key.
 */
function runner(
  s: Submission,
  fn: (done?: Done) => unknown,
): (done?: Done) => unknown {
  if (fn.length === 1)
    return function (done?: Done) {
      try {
        return enterSubmitted(s, () => fn(endingCallback(s, done!)));
      } catch (error) {
        endSubmission(s);
        throw error;
      }
    };
  return () => runSubmitted(s, () => fn());
}

/**
 * The module `waitgraph/register` hands to an application that requires or imports
 * async-lock: an AsyncLock subclass whose locks are tracked from construction.
 */
export function instrumentAsyncLock(
  exports: unknown,
): new (options?: object) => object {
  if (!isClassWith(exports, ["acquire", "isBusy"]))
    throw unrecognised(
      "the AsyncLock class (module.exports, with acquire and isBusy)",
      exports,
    );
  const Base = exports as new (options?: object) => object;
  const Tracked = class AsyncLock extends Base {
    constructor(options?: object) {
      super(options);
      trackSafely(() => trackAsyncLock(this, undefined, Tracked));
    }
  };
  Object.defineProperty(Tracked, kOriginal, { value: Base });
  standsFor(Tracked, Base);
  return Tracked;
}
