// async-mutex, instrumented without importing it: everything here works on the objects of
// whichever copy (ESM or CommonJS build) the caller hands in, so `waitgraph/register` can
// instrument the copy an application loads and `waitgraph/adapters/async-mutex` its own.
//
// A Mutex, a Semaphore and a withTimeout / tryAcquire decorator keep their own methods and
// queue; the tracked ones are installed as own properties of the instance, so `instanceof`,
// every other method and the library's FIFO and priorities are untouched.
//
//  * acquire / runExclusive — an acquisition, validated before it blocks: `A` held, then
//    `B.acquire()` adds A → B; `A.acquire()` again is recursive locking (async-mutex #70: not
//    re-entrant, the second acquire never resolves).
//  * waitForUnlock — waits for the lock without taking it: validated like an acquire that is
//    released at once (lockdep's might_lock). Held A, waiting for A to be unlocked, is the
//    self-deadlock of async-mutex #88.
//  * release() / release(weight) — the libraries have no owner token: it releases the running
//    task's hold of the lock if it has one, else the oldest.
//  * withTimeout(lock) shares the lock's class and instance; acquisitions through it are still
//    validated (they may block until the timeout). tryAcquire(lock) acquisitions are trylocks:
//    never validated, held once they succeed.
import type { MutexInterface, SemaphoreInterface } from "async-mutex";
import { lockInit, lockSync, runHolding } from "../../core/seam.js";
import { expected } from "../../core/errors.js";
import { readOptions } from "../../core/arguments.js";
import type { ClassOptions, Skip } from "../../core/lock-class.js";
import {
  acquireVia,
  kTracked,
  lockCore,
  namesAClass,
  releaseTokenless,
  reportingReleaser,
  type Grant,
  type LockCore,
} from "../shared.js";
import {
  copyExports,
  isClassWith,
  standsFor,
  trackSafely,
  unrecognised,
} from "./exports.js";

/** A lock class as in waitgraph: `name`, `key` (the construction site by default). */
export type LockOptions = Pick<ClassOptions, "name" | "key">;

type Releaser = () => void;
type Ticket = [number, Releaser] | Releaser;
type Arg = number | undefined;

/** The surface common to Mutex, Semaphore and their decorators, as called here. */
interface Sync {
  acquire(a?: Arg, b?: Arg): Promise<Ticket>;
  runExclusive(
    fn: (value?: number) => unknown,
    a?: Arg,
    b?: Arg,
  ): Promise<unknown>;
  waitForUnlock(a?: Arg, b?: Arg): Promise<void>;
  release(weight?: Arg): void;
  cancel(): void;
  isLocked(): boolean;
  getValue?: () => number;
  setValue?: (value: number) => void;
}

interface State {
  readonly core: LockCore;
  /** tryAcquire decorators: acquisitions are trylocks (held, never validated). */
  readonly trylock: boolean;
  /** The methods the tracked ones replaced, called with the instance as `this`. */
  readonly raw: Pick<Sync, "acquire" | "waitForUnlock" | "release">;
  /** The user's own track() named its class (see namesAClass). */
  named: boolean;
}

type Tracked = Sync & { [kTracked]: State };

/** The library's own test: a semaphore has getValue (decorators always do). */
const isSemaphore = (sync: Sync): boolean => sync.getValue !== undefined;

function stateOf(sync: Sync): State {
  return (sync as Tracked)[kTracked];
}

/**
 * Tracks `sync` in place and returns it. The class is the construction site of the caller of
 * `skip` unless `opts.key` names one. A lock already tracked is returned as it is.
 */
export function trackSync<T extends object>(
  sync: T,
  opts: LockOptions | undefined,
  skip: Skip,
): T {
  const s = sync as unknown as Sync;
  if (typeof s.acquire !== "function" || typeof s.release !== "function")
    throw expected("lock", "an async-mutex Mutex or Semaphore", sync);
  // A lock class of an adapter takes a name and a key only; read once (arguments.ts).
  opts = readOptions(opts, ["name", "key"]);
  const type = isSemaphore(s) ? "async-mutex.Semaphore" : "async-mutex";
  const tracked = (sync as Partial<Tracked>)[kTracked];
  if (tracked !== undefined) {
    if (namesAClass(opts) && !tracked.named) {
      tracked.named = true;
      tracked.core.map = lockInit(sync, opts, type, skip) ?? tracked.core.map;
    }
    return sync;
  }
  // A Mutex has one unit; a Semaphore's count is not read (its waits are never called stuck).
  const map = lockInit(sync, opts, type, skip, isSemaphore(s) ? undefined : 1);
  attach(s, lockCore(map, sync), false);
  return sync;
}

/** Installs the tracked methods on `sync` (a lock or a decorator of one). */
function attach(sync: Sync, core: LockCore, trylock: boolean): void {
  const raw = {
    acquire: sync.acquire,
    waitForUnlock: sync.waitForUnlock,
    release: sync.release,
  };
  const own = (value: unknown) => ({
    value,
    writable: true,
    configurable: true,
  });
  Object.defineProperties(sync, {
    [kTracked]: { value: { core, trylock, raw, named: false } satisfies State },
    acquire: own(acquire),
    runExclusive: own(runExclusive),
    waitForUnlock: own(waitForUnlock),
    release: own(release),
  });
}

function acquire(this: Sync, a?: Arg, b?: Arg): Promise<Ticket> {
  const t = stateOf(this);
  return acquireVia(
    t.core,
    t.trylock,
    () => t.raw.acquire.call(this, a, b),
    reportingTicket,
  );
}

function reportingTicket(ticket: Ticket, grant: Grant, core: LockCore): Ticket {
  return Array.isArray(ticket)
    ? [ticket[0], reportingReleaser(core, grant, ticket[1])]
    : reportingReleaser(core, grant, ticket);
}

/**
 * As the library's: acquire, run `fn` (with the semaphore's value), release whatever happens.
 * The callback runs holding the lock in both context modes (promise hooks and ALS).
 */
function runExclusive(
  this: Sync,
  fn: (value?: number) => unknown,
  a?: Arg,
  b?: Arg,
): Promise<unknown> {
  const t = stateOf(this);
  let grant: Grant | undefined;
  let acquired: Promise<Ticket>;
  try {
    acquired = acquireVia(
      t.core,
      t.trylock,
      () => t.raw.acquire.call(this, a, b),
      (ticket, g, core) => {
        grant = g;
        return reportingTicket(ticket, g, core);
      },
    );
  } catch (error) {
    // The library's runExclusive is async: a bad weight rejects, it does not throw.
    return Promise.reject(error);
  }
  return runTicket(acquired, fn, () => grant);
}

async function runTicket(
  acquired: Promise<Ticket>,
  fn: (value?: number) => unknown,
  grant: () => Grant | undefined,
): Promise<unknown> {
  const ticket = await acquired;
  const release = Array.isArray(ticket) ? ticket[1] : ticket;
  try {
    return await runHolding(
      grant()?.hold,
      Array.isArray(ticket) ? () => fn(ticket[0]) : () => fn(),
    );
  } finally {
    release();
  }
}

function waitForUnlock(this: Sync, a?: Arg, b?: Arg): Promise<void> {
  const t = stateOf(this);
  const core = t.core;
  if (!t.trylock) {
    const refused = lockSync(core.map, core.instance, 0);
    if (refused !== undefined) return Promise.reject(refused);
  }
  return t.raw.waitForUnlock.call(this, a, b);
}

function release(this: Sync, weight?: Arg): void {
  const t = stateOf(this);
  releaseTokenless(t.core);
  t.raw.release.call(this, weight);
}

/**
 * The untracked view of a tracked lock that the library's decorators wrap: the decorator is
 * tracked itself, so what it calls underneath must not report a second time.
 */
function rawView(sync: Sync): Sync {
  const t = stateOf(sync);
  const view: Sync = {
    acquire: (a, b) => t.raw.acquire.call(sync, a, b),
    runExclusive: (fn, a, b) => sync.runExclusive(fn, a, b),
    waitForUnlock: (a, b) => t.raw.waitForUnlock.call(sync, a, b),
    release: (weight) => t.raw.release.call(sync, weight),
    cancel: () => sync.cancel(),
    isLocked: () => sync.isLocked(),
  };
  if (isSemaphore(sync)) {
    view.getValue = () => sync.getValue!();
    view.setValue = (value) => sync.setValue!(value);
  }
  return view;
}

type Lib = {
  Mutex: new (cancelError?: Error) => MutexInterface;
  Semaphore: new (value: number, cancelError?: Error) => SemaphoreInterface;
  withTimeout: (sync: Sync, timeout: number, timeoutError?: Error) => Sync;
  tryAcquire: (sync: Sync, alreadyAcquiredError?: Error) => Sync;
};

/** `withTimeout` of `lib`, returning a tracked decorator that shares the lock's class. */
export function withTimeoutOf(lib: Lib) {
  return function withTimeout(
    sync: Sync,
    timeout: number,
    timeoutError?: Error,
  ): Sync {
    trackSync(sync, undefined, withTimeout);
    const decorator = lib.withTimeout(rawView(sync), timeout, timeoutError);
    attach(decorator, stateOf(sync).core, false);
    return decorator;
  };
}

/** `tryAcquire` of `lib`: acquisitions through the decorator are trylocks. */
export function tryAcquireOf(lib: Lib) {
  return function tryAcquire(sync: Sync, alreadyAcquiredError?: Error): Sync {
    trackSync(sync, undefined, tryAcquire);
    const decorator = lib.tryAcquire(rawView(sync), alreadyAcquiredError);
    attach(decorator, stateOf(sync).core, true);
    return decorator;
  };
}

/**
 * The module `waitgraph/register` hands to an application that imports or requires
 * async-mutex: the library's exports, with Mutex and Semaphore tracked from construction and
 * the decorators tracked. The same shape from 0.3 to 0.5, CommonJS (lib/index.js) and ES module
 * (index.mjs) alike.
 */
export function instrumentAsyncMutex(
  exports: unknown,
): Record<string, unknown> {
  const lib = exports as Partial<Lib>;
  if (
    typeof exports !== "object" ||
    exports === null ||
    !isClassWith(lib.Mutex, ["acquire", "release", "runExclusive"]) ||
    !isClassWith(lib.Semaphore, ["acquire", "release", "runExclusive"]) ||
    typeof lib.withTimeout !== "function" ||
    typeof lib.tryAcquire !== "function"
  )
    throw unrecognised(
      "exports with the Mutex and Semaphore classes (acquire, release, runExclusive) and the withTimeout and tryAcquire functions",
      exports,
    );
  return instrumentLib(lib as Lib);
}

function instrumentLib(lib: Lib): Record<string, unknown> {
  class Mutex extends lib.Mutex {
    constructor(cancelError?: Error) {
      super(cancelError);
      trackSafely(() => trackSync(this, undefined, Mutex));
    }
  }
  class Semaphore extends lib.Semaphore {
    constructor(value: number, cancelError?: Error) {
      super(value, cancelError);
      trackSafely(() => trackSync(this, undefined, Semaphore));
    }
  }
  standsFor(Mutex, lib.Mutex);
  standsFor(Semaphore, lib.Semaphore);
  return copyExports(lib, {
    Mutex,
    Semaphore,
    withTimeout: withTimeoutOf(lib),
    tryAcquire: tryAcquireOf(lib),
  });
}
