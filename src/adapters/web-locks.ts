// waitgraph/adapters/web-locks: the Web Locks API (`navigator.locks`, Node 24+, the same object
// as `worker_threads.locks`; browsers, Deno), reporting to waitgraph. `navigator.locks` is one
// lock space for every thread of a process (the first lock shared across worker threads), so
// its classes are named by the lock name alone: the same in every thread and process.
//
//   import { trackWebLocks } from "waitgraph/adapters/web-locks";
//   trackWebLocks(navigator.locks, { classOf: (name) => name.replace(/:\d+$/, ":*") });
//
// `node --import waitgraph/register` tracks `navigator.locks` by itself where it exists.
// `trackWebLocks` changes the manager in place (an own `request` property) and returns it:
// `request` resolves and rejects as before, `query()` is the library's.
//
// How a request maps onto the validator:
//
//  * The class is `web-lock <name>`, or `web-lock <classOf(name)>` — a stable string key, so
//    `account:42` is the same class in every thread and process. The instance is the name
//    within one LockManager: two requests of one name in one manager are the same lock.
//    Names made per entity (`account:${id}`) want one class (`classOf`) and, if they are
//    nested in a fixed order, an `order` over names (as a Mutex's `key` and `order`):
//    `account:1` then `account:2` is then in order, the other way recursive locking.
//  * The hold lasts from the grant until the promise the callback returned settles, and
//    belongs to the callback's flow: it runs as the task that called `request` (from whichever
//    task released the lock), so requests nested inside it add `held → next`. As with
//    runExclusive, the callback is the holder: code after `await request(…)` holds nothing.
//  * `mode: "exclusive"` (the default) is a write hold (read = 0). `mode: "shared"` is a
//    *non-recursive* read (read = 1), from the spec's grant order: a request is grantable only
//    if it is the first of its name's queue (Web Locks, "request is grantable", step 4), so a
//    shared request waits behind a queued exclusive one even while other shared holds are
//    granted. Reader 1 holds N shared, a writer queues for N, reader 1 asks N shared again: it
//    waits for the writer, who waits for reader 1 — lockdep's read = 1 case exactly (Node 24
//    measured the same: the second shared request stays pending).
//  * `ifAvailable: true` is a trylock: never validated (it never waits), held only when the
//    callback gets a Lock; with `null` it holds nothing, so it is the source of no dependency.
//  * `steal: true` never waits either — it takes the lock from its holders — so it cannot be
//    the waiter in a cycle: a trylock that always succeeds (held, so requests under it still
//    add `name → next`). The holds it takes away (in this manager) stop counting at once, and
//    add no dependency: their callbacks run on, without the lock.
//  * `signal`: an abortable wait is still an ordinary acquisition. Whether the signal will ever
//    fire cannot be known here (an AbortController nobody aborts is a hang like any other), so
//    a cycle through it is a circular dependency, and a live cycle of such waits is reported as
//    a deadlock like any other. (A cycle that can only delay — DEPT's timed wait — needs a wait
//    known to end; the one such signal, AbortSignal.timeout, cannot be told apart.)
//  * A request that blocks is a wait in the live wait-for graph, ended by its grant or by the
//    request settling without one (an abort): an ABBA that really hangs is a `deadlock` report
//    when the event loop drains (pending Web Locks do not keep a Node process alive) or when the
//    watchdog sees it.
//
// Limits: holds and waits of other threads and processes are not seen here (only their class
// dependencies, through the shared graph worker threads have under the hook, or a store). A
// live deadlock is reported, not broken, under `throw`: a Web Lock wait can be withdrawn only
// through a signal of the caller's. A request with arguments the
// library will refuse (a name starting with "-", `steal` with `ifAvailable`, an aborted
// signal …) is passed on untracked, so its error is the library's own. A tracked request
// returns a promise that settles with the library's value or error, a few microtasks later:
// the library's own promise is observed through it, never left handled behind the caller's back.
import { KeyClasses, OVERFLOW } from "./key-classes.js";
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
import { submitter, runAsSubmitter } from "../core/flows.js";
import { noteCapacity } from "../core/capacity.js";
import { DeadlockError, expected } from "../core/errors.js";
import { checkFunction, readOptions } from "../core/arguments.js";
import { afterSettling, kTracked } from "./shared.js";
import { trackSafely } from "./instrument/exports.js";

/** A granted Web Lock, as the library hands it to the callback. */
export interface WebLock {
  readonly name: string;
  readonly mode: "exclusive" | "shared";
}

/** The options of `request(name, options, callback)` (the library's LockOptions). */
export interface WebLockRequestOptions {
  mode?: "exclusive" | "shared";
  ifAvailable?: boolean;
  steal?: boolean;
  signal?: AbortSignal;
}

/** The part of a LockManager this adapter uses: `navigator.locks`, or one like it. */
export interface WebLockManager {
  request<T>(
    name: string,
    callback: (lock: WebLock | null) => T,
  ): Promise<Awaited<T>>;
  request<T>(
    name: string,
    options: WebLockRequestOptions,
    callback: (lock: WebLock | null) => T,
  ): Promise<Awaited<T>>;
  query(): Promise<unknown>;
}

export interface WebLocksOptions {
  /**
   * Groups names into classes: names with the same result are one class, `undefined` keeps the
   * name's own class. For names made per entity (`account:42`): without it each name is a class
   * of its own, and past 256 names new ones share one overflow class (reported once).
   */
  classOf?: (name: string) => string | undefined;
  /**
   * For two names of one class: `order(held, next) < 0` says `next` may be requested while
   * `held` is held (e.g. ascending ids). Without it, any two names of one class nested are
   * recursive locking: another flow may take them the other way round.
   */
  order?: (held: string, next: string) => number;
}

/** What the validator sees as the lock: one name within one LockManager. */
interface NameToken {
  readonly name: string;
}

interface NameEntry {
  readonly token: NameToken;
  /** Requests of this name in flight (waiting or holding); the entry goes when none is. */
  users: number;
  /** Granted holds not ended yet: what a steal takes away. */
  readonly holds: Set<HeldLock>;
}

type RawRequest = (...args: unknown[]) => Promise<unknown>;

interface State {
  readonly raw: RawRequest;
  classOf: ((name: string) => string | undefined) | undefined;
  order: ((held: string, next: string) => number) | undefined;
  /** The user's own trackWebLocks gave options (they replace register's defaults, once). */
  named: boolean;
  /** One class map per class name, made on first use. */
  readonly classes: KeyClasses;
  readonly names: Map<string, NameEntry>;
}

type Tracked = WebLockManager & { [kTracked]?: State };

/** Classes one LockManager may make before new names share one overflow class. */
const NAME_CLASSES = 256;

function checkOptions(
  given: WebLocksOptions | undefined,
): WebLocksOptions | undefined {
  const o = readOptions(given, ["classOf", "order"]);
  if (o === undefined) return undefined;
  checkFunction("classOf", o.classOf);
  checkFunction("order", o.order);
  return o;
}

function isManager(value: unknown): value is WebLockManager {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<WebLockManager>).request === "function" &&
    typeof (value as Partial<WebLockManager>).query === "function"
  );
}

function navigatorLocks(): unknown {
  return (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks;
}

/**
 * Tracks a Web Locks LockManager in place and returns it (`navigator.locks` by default).
 * Tracking it again returns it as it is; the first call that gives options replaces the
 * defaults `waitgraph/register` tracked it with (requests made before keep their classes).
 * Throws InvalidArgumentError for anything but a LockManager, or for bad options.
 */
export function trackWebLocks<T extends WebLockManager>(
  locks: T = navigatorLocks() as T,
  options?: WebLocksOptions,
): T {
  if (!isManager(locks))
    throw expected(
      "locks",
      "a Web Locks LockManager (navigator.locks, Node 24 or later)",
      locks,
    );
  const o = checkOptions(options);
  const tracked = (locks as Tracked)[kTracked];
  if (tracked !== undefined) {
    if (o !== undefined && !tracked.named) {
      tracked.named = true;
      tracked.classOf = o.classOf;
      tracked.order = o.order;
      tracked.classes.clear();
    }
    return locks;
  }
  const state: State = {
    raw: locks.request as RawRequest,
    classOf: o?.classOf,
    order: o?.order,
    named: o !== undefined,
    classes: nameClasses(() => state),
    names: new Map(),
  };
  Object.defineProperties(locks, {
    [kTracked]: { value: state },
    request: {
      value: trackedRequest(state),
      writable: true,
      configurable: true,
    },
  });
  return locks;
}

/** `waitgraph/register`: tracks `navigator.locks` where this runtime has it (never throws). */
export function instrumentNavigatorLocks(): void {
  trackSafely(() => {
    const locks = navigatorLocks();
    if (isManager(locks)) trackWebLocks(locks);
  });
}

/**
 * The class name of lock `name`. A classOf that throws, or returns what is not a string, is
 * the caller's error: the request rejects with it (an InvalidArgumentError for a bad result).
 */
function className(state: State, name: string): string {
  if (state.classOf === undefined) return name;
  const named: unknown = state.classOf(name);
  if (named === undefined) return name;
  if (typeof named !== "string")
    throw expected("classOf(name)", "a string or undefined", named);
  return named;
}

function classMap(state: State, name: string): LockMap | undefined {
  return state.classes.mapOf(className(state, name));
}

/**
 * The class table of one LockManager. Capacity 1: an exclusive hold of a name is the only one
 * (a certain self-deadlock when the same name is asked for again; a unit the wait-for graph
 * can count).
 */
function nameClasses(stateOf: () => State): KeyClasses {
  return new KeyClasses(
    NAME_CLASSES,
    () => ({
      id: "web-lock-names",
      className: `web-lock ${OVERFLOW}`,
      limit:
        "Web Lock name classes of one LockManager (past it, new names are not checked; give trackWebLocks a classOf that groups names)",
    }),
    (cls, validate) => {
      const order = stateOf().order;
      return lockInit(
        { cls },
        {
          key: `web-lock ${cls}`,
          ...(validate ? {} : { validate: false }),
          ...(order !== undefined
            ? {
                order: (held: NameToken, next: NameToken) =>
                  order(held.name, next.name),
              }
            : {}),
        },
        "web-lock",
        trackWebLocks,
        1,
      );
    },
  );
}

function nameEntry(state: State, name: string): NameEntry {
  let entry = state.names.get(name);
  if (entry === undefined) {
    entry = { token: { name }, users: 0, holds: new Set() };
    noteCapacity(entry.token, 1);
    state.names.set(name, entry);
  }
  entry.users++;
  return entry;
}

function dropName(state: State, name: string, entry: NameEntry): void {
  if (--entry.users === 0 && state.names.get(name) === entry)
    state.names.delete(name);
}

/** A request as the library will read it, or undefined when it will refuse it (passed on). */
interface Parsed {
  readonly read: 0 | 1;
  readonly ifAvailable: boolean;
  readonly steal: boolean;
  /** The options as read once, handed to the library in place of the caller's object. */
  readonly options: WebLockRequestOptions | undefined;
}

/**
 * Reads the options once, in the order the library's dictionary conversion does (WebIDL:
 * members in lexicographic order), into a plain copy the library then reads. Undefined for
 * whatever the library rejects, so that the rejection is its own.
 */
function parse(name: unknown, options: unknown): Parsed | undefined {
  if (typeof name !== "string" || name.startsWith("-")) return undefined;
  if (options === undefined || options === null)
    return { read: 0, ifAvailable: false, steal: false, options: undefined };
  if (typeof options !== "object") return undefined;
  const given = options as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of ["ifAvailable", "mode", "signal", "steal"]) {
    const value = given[key];
    if (value !== undefined) copy[key] = value;
  }
  const mode = copy["mode"];
  if (mode !== undefined && mode !== "exclusive" && mode !== "shared")
    return undefined;
  const ifAvailable = Boolean(copy["ifAvailable"]);
  const steal = Boolean(copy["steal"]);
  const signal = copy["signal"];
  if (steal && (ifAvailable || mode === "shared")) return undefined;
  if (signal !== undefined) {
    if (!(signal instanceof AbortSignal) || signal.aborted) return undefined;
    if (steal || ifAvailable) return undefined;
  }
  return {
    read: mode === "shared" ? 1 : 0,
    ifAvailable,
    steal,
    options: copy as WebLockRequestOptions,
  };
}

function trackedRequest(state: State): RawRequest {
  return function request(this: unknown, ...args: unknown[]): Promise<unknown> {
    // The library's overloads: (name, callback) and (name, options, callback).
    const [name, second, third] = args;
    const callback = third === undefined ? second : third;
    const parsed =
      tracking.on && typeof callback === "function"
        ? parse(name, third === undefined ? undefined : second)
        : undefined;
    if (parsed === undefined) return state.raw.apply(this, args);
    let map: LockMap | undefined;
    try {
      map = classMap(state, name as string);
    } catch (error) {
      // The user's classOf failed: said at the request, as an error of the program.
      return Promise.reject(error);
    }
    if (map === undefined) return state.raw.apply(this, args);
    return acquire(
      state,
      this,
      map,
      name as string,
      parsed,
      callback as (...a: unknown[]) => unknown,
    );
  };
}

function acquire(
  state: State,
  manager: unknown,
  map: LockMap,
  name: string,
  parsed: Parsed,
  callback: (...a: unknown[]) => unknown,
): Promise<unknown> {
  const entry = nameEntry(state, name);
  const trylock = parsed.ifAvailable || parsed.steal;
  const attempt = lockAcquire(
    map,
    entry.token,
    parsed.read,
    undefined,
    trylock,
  );
  if (attempt instanceof DeadlockError || attempt === undefined) {
    dropName(state, name, entry);
    return attempt === undefined
      ? state.raw.call(manager, name, parsed.options ?? {}, callback)
      : Promise.reject(attempt);
  }
  const hold = attempt;
  const frame = submitter();
  let called = false;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    entry.holds.delete(hold);
    if (!hold.released) lockRelease(hold);
    dropName(state, name, entry);
  };

  function granted(this: unknown, ...given: unknown[]): unknown {
    called = true;
    const lock = given[0];
    if (lock === null || hold.released) {
      // ifAvailable and not available: nothing held, nothing depends on it.
      if (!hold.released) lockRelease(hold, "abandoned");
      end();
      return runAsSubmitter(frame, undefined, () =>
        callback.apply(this, given),
      );
    }
    lockAcquired(hold);
    if (parsed.steal) for (const victim of entry.holds) stolen(victim);
    entry.holds.add(hold);
    // The callback runs as the requester, holding the lock; its result is observed from
    // inside that flow, so the release is the holder's own (no release "by another task").
    return runAsSubmitter(frame, hold, () => {
      let result: unknown;
      try {
        result = callback.apply(this, given);
      } catch (error) {
        end();
        throw error;
      }
      return afterSettling(result, end);
    });
  }

  let asked: Promise<unknown>;
  try {
    asked = state.raw.call(manager, name, parsed.options ?? {}, granted);
  } catch (error) {
    lockRelease(hold, "abandoned");
    end();
    throw error;
  }
  // Node grants a free lock synchronously, inside request(): no wait then.
  if (!called && !trylock) lockContended(hold);
  // Settled without a grant (aborted, or refused), or stolen from: the hold is over.
  const settled = (): void => {
    if (!called && !hold.released) lockRelease(hold, "abandoned");
    end();
  };
  return asked.then(
    (value) => {
      settled();
      return value;
    },
    (error: unknown) => {
      settled();
      throw error;
    },
  );
}

/** A hold a steal took away: nobody holds it any more, and nobody released it by waiting. */
function stolen(hold: HeldLock): void {
  if (!hold.released) lockRelease(hold, "abandoned");
}
