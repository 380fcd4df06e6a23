// node-postgres: a `pg.Pool` is a semaphore class, a checked-out client a held permit.
//
//   const pool = trackPool(new pg.Pool({ max: 2 }));
//   const client = await pool.connect();   // holds a permit of the pool's class …
//   await pool.query("select 1");           // … and waits for a second one: recursive locking
//   client.release();                       // (node-postgres #2927: hangs once enough do this)
//
// `pool.connect()` (promise or callback) is a checkout: validated when called, held by the
// awaiting continuation (or by the callback) from the grant until `client.release()` — from any
// task: a permit released elsewhere stops counting everywhere. `pool.query()` is a checkout of
// its own for the length of one query, validated at the user's call. The pool is returned as it
// was given, with its own `connect`, `query` and clients' `release` reporting through the seam.
//
// Advisory locks (`select pg_advisory_lock($1)` …) on the clients it hands out, and through
// `pool.query`, are lock classes of their own: ./pg-advisory.ts. `trackClient` does the same
// for a `pg.Client` used without a pool.
import {
  tracking,
  lockContended,
  lockAcquired,
  lockRelease,
  type HeldLock,
} from "../core/seam.js";
import { submitter, runAsSubmitter } from "../core/flows.js";
import { DeadlockError, expected } from "../core/errors.js";
import { readOptions } from "../core/arguments.js";
import type { Skip } from "../core/lock-class.js";
import {
  checkPoolOptions,
  defineMethod,
  isTracked,
  markTracked,
  permitsFor,
  POOL_OPTION_KEYS,
  type PoolOptions,
} from "./permits.js";
import {
  ask,
  checkAdvisoryClass,
  failed,
  pending,
  sessionOf,
  type AdvisoryClass,
} from "./pg-advisory.js";
import {
  answering,
  offerRelay,
  poolAdvisory,
  queryParts,
  refuse,
  relayed,
  takeRelay,
  watchClient,
  type Relay,
} from "./pg-client.js";
import {
  isClassWith,
  standsFor,
  trackSafely,
  unrecognised,
} from "./instrument/exports.js";

export type { PoolOptions, AdvisoryClass };

/** trackPool's options: the pool's class (PoolOptions), and how advisory keys make classes. */
export interface PgPoolOptions extends PoolOptions {
  /**
   * Groups advisory lock keys into classes: called with a key as text (`"42"`, or `"1,2"` for
   * the two-int form), it returns the class name (`pg advisory <name>`), or undefined for the
   * key's own class (`pg advisory 42`).
   */
  advisoryClass?: AdvisoryClass;
}

/** trackClient's options. */
export interface PgClientOptions {
  advisoryClass?: AdvisoryClass;
}

/** The advisory class function of each tracked pool (read at each query). */
const advisoryOf = new WeakMap<object, AdvisoryClass | undefined>();

/** Splits trackPool's options into the pool's class options and `advisoryClass`. */
function checkPgOptions(options: PgPoolOptions | undefined): {
  pool: PoolOptions | undefined;
  advisoryClass: AdvisoryClass | undefined;
} {
  const o = readOptions(options, [...POOL_OPTION_KEYS, "advisoryClass"]);
  if (o === undefined) return { pool: undefined, advisoryClass: undefined };
  checkAdvisoryClass(o.advisoryClass);
  const { advisoryClass, ...pool } = o;
  return {
    pool: checkPoolOptions(Object.keys(pool).length === 0 ? undefined : pool),
    advisoryClass,
  };
}

/** What waitgraph needs of a `pg.Pool` (structural: pg itself is an optional peer). */
export interface PgPoolLike {
  connect(...args: never[]): unknown;
  query(...args: never[]): unknown;
}

interface PgClient {
  release: (...args: unknown[]) => void;
}
type ConnectCallback = (
  error: unknown,
  client: PgClient | undefined,
  done: (...args: unknown[]) => void,
) => void;
type Connect = (this: unknown, callback?: ConnectCallback) => unknown;
type Query = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Tracks `pool` and returns it. Its class is the site of this call, or `options.name` /
 * `options.key`. Tracking a pool twice keeps the first class (except that a pool
 * `waitgraph/register` tracked takes the `name` or `key` given here).
 */
export function trackPool<P extends PgPoolLike>(
  pool: P,
  options?: PgPoolOptions,
): P {
  return track(pool, options, trackPool, true);
}

/**
 * For `node --import waitgraph/register`: every `new pg.Pool()` made from this module's exports
 * is tracked, its class the construction site. Returns the same exports, changed (pg's exports
 * are one shared object, so every importer of pg gets the tracked Pool).
 */
export function instrumentPg<
  M extends { Pool: abstract new (...args: never[]) => PgPoolLike },
>(pg: M): M {
  if (
    typeof pg !== "object" ||
    pg === null ||
    !isClassWith(pg.Pool, ["connect", "query"])
  )
    throw unrecognised(
      "the pg module's exports, with a Pool class (connect, query)",
      pg,
    );
  if (isTracked(pg.Pool)) return pg;
  const Base = pg.Pool as unknown as new (...args: unknown[]) => PgPoolLike;
  const Pool = class Pool extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      trackSafely(() => track(this, undefined, Pool, false));
    }
  };
  markTracked(Pool);
  standsFor(Pool, Base);
  (pg as { Pool: unknown }).Pool = Pool;
  return pg;
}

function isPgPool(value: unknown): value is PgPoolLike {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PgPoolLike).connect === "function" &&
    typeof (value as PgPoolLike).query === "function" &&
    "waitingCount" in value
  );
}

function track<P extends PgPoolLike>(
  pool: P,
  given: PgPoolOptions | undefined,
  skip: Skip,
  explicit: boolean,
): P {
  if (!isPgPool(pool)) throw expected("pool", "a pg.Pool", pool);
  const { pool: options, advisoryClass } = checkPgOptions(given);
  if (!advisoryOf.has(pool) || advisoryClass !== undefined)
    advisoryOf.set(pool, advisoryClass);
  const made = permitsFor(
    pool,
    options,
    "pg.Pool",
    skip,
    (pool as { options?: { max?: unknown } }).options?.max,
    explicit,
  );
  if (made === undefined) return pool;
  const permits = made;
  const connect = pool.connect as unknown as Connect;
  const query = pool.query as unknown as Query;
  const classOf = (): AdvisoryClass | undefined => advisoryOf.get(pool);

  function connectTracked(this: unknown, callback?: ConnectCallback): unknown {
    const relay = takeRelay();
    if (relay !== undefined && typeof callback === "function")
      callback = relayed(relay, watching(callback));
    const attempt = permits.attempt();
    if (attempt instanceof DeadlockError) {
      if (typeof callback !== "function") return Promise.reject(attempt);
      process.nextTick(callback, attempt, undefined, noop);
      return undefined;
    }
    if (attempt === undefined) return connect.call(this, callback);
    const hold = attempt;
    if (typeof callback === "function") {
      // The callback is the holder: it runs as the task that called connect(), holding the client.
      const frame = submitter();
      // pool.query checks out this way: blocked in the wait-for graph until the callback.
      lockContended(hold, undefined, timesOut(pool));
      connect.call(this, (error, client, done) => {
        if (error !== undefined && error !== null) {
          lockRelease(hold, "abandoned");
          runAsSubmitter(frame, undefined, () => callback(error, client, done));
          return;
        }
        const release = holdUntilRelease(pool, client!, hold, classOf);
        lockAcquired(hold);
        runAsSubmitter(frame, hold, () => callback(error, client, release));
      });
      return undefined;
    }
    const granted = (connect.call(this) as Promise<PgClient>).then(
      (client) => {
        holdUntilRelease(pool, client, hold, classOf);
        lockAcquired(hold);
        return client;
      },
      (error: unknown) => {
        lockRelease(hold, "abandoned");
        throw error;
      },
    );
    // connectionTimeoutMillis ends the wait by itself: never a stuck wait (a pool's own
    // wait cannot be withdrawn alone, so a live deadlock here is reported, not broken).
    lockContended(hold, granted, timesOut(pool));
    return granted;
  }

  /** The client a checkout hands out watches its advisory queries. */
  function watching(callback: ConnectCallback): ConnectCallback {
    return (error, client, done) => {
      if (client !== undefined && client !== null) watchClient(client, classOf);
      callback(error, client, done);
    };
  }

  function queryTracked(this: unknown, ...args: unknown[]): unknown {
    if (typeof args[0] === "function") return query.apply(this, args);
    const attempt = permits.attempt();
    if (attempt instanceof DeadlockError) {
      const callback = args.find((a) => typeof a === "function") as
        ((error: unknown) => void) | undefined;
      if (callback === undefined) return Promise.reject(attempt);
      process.nextTick(callback, attempt);
      return undefined;
    }
    const op = poolAdvisory(args);
    const asked = op === undefined ? undefined : ask(op, undefined, classOf());
    if (asked instanceof DeadlockError) {
      if (attempt !== undefined) lockRelease(attempt, "abandoned");
      return refuse(asked, args, queryParts(args).callbackAt);
    }
    // pg-pool's query checks out through this.connect(), which takes the attempt made here.
    if (asked === undefined)
      return permits.withAttempt(attempt, () => query.apply(this, args));
    // The checkout's client tells the relay which session ran it; the lock is the caller's.
    const relay: Relay = { session: undefined };
    const { callbackAt } = queryParts(args);
    if (callbackAt !== -1)
      args[callbackAt] = answering(
        asked,
        () => relay.session,
        true,
        args[callbackAt] as (error: unknown, result?: unknown) => void,
      );
    let sent: unknown;
    offerRelay(relay);
    try {
      sent = permits.withAttempt(attempt, () => query.apply(this, args));
    } catch (error) {
      failed(asked);
      throw error;
    } finally {
      offerRelay(undefined);
    }
    if (callbackAt !== -1) return sent;
    return pending(asked, sent as Promise<unknown>, () => relay.session, true);
  }

  defineMethod(pool, "connect", connectTracked);
  defineMethod(pool, "query", queryTracked);
  return pool;
}

/**
 * Wraps this checkout's `client.release` (pg-pool sets a new one per checkout). Releasing ends
 * the client's transaction-level advisory locks; a release with an error (or `true`) destroys
 * the connection and ends its session-level locks too — a plain release leaves those on the
 * pooled connection, as PostgreSQL does, and the flow that took them keeps holding them.
 */
function holdUntilRelease(
  pool: object,
  client: PgClient,
  hold: HeldLock,
  classOf: () => AdvisoryClass | undefined,
): (...args: unknown[]) => void {
  watchClient(client, classOf);
  const release = client.release;
  let released = false;
  const tracked = function (this: unknown, ...args: unknown[]): void {
    if (released) lockRelease(hold, "again");
    else {
      released = true;
      lockRelease(hold);
      const session = sessionOf(client);
      // pg-pool destroys the connection on a truthy argument (`_release`: `if (err || …)`);
      // pool.query releases with its query's error, null on success.
      if (args[0]) session.close();
      else session.endTransaction();
    }
    release.apply(this, args);
  };
  client.release = tracked;
  return tracked;
}

function noop(): void {}

/** What waitgraph needs of a `pg.Client`. */
export interface PgClientLike {
  query(...args: never[]): unknown;
  connect(...args: never[]): unknown;
  end(...args: never[]): unknown;
}

/**
 * Tracks the advisory locks of a `pg.Client` used without a pool and returns it. Its session
 * ends (every advisory lock it holds) at `client.end()` or when its connection closes.
 */
export function trackClient<C extends PgClientLike>(
  client: C,
  options?: PgClientOptions,
): C {
  if (
    typeof client !== "object" ||
    client === null ||
    typeof client.query !== "function" ||
    typeof client.connect !== "function" ||
    typeof client.end !== "function" ||
    "waitingCount" in client
  )
    throw expected("client", "a pg.Client", client);
  const o = readOptions(options, ["advisoryClass"]);
  checkAdvisoryClass(o?.advisoryClass);
  const classOf = o?.advisoryClass;
  if (!tracking.on) return client;
  watchClient(client, () => classOf);
  const end = client.end as unknown as (...args: unknown[]) => unknown;
  defineMethod(client, "end", function (this: unknown, ...args: unknown[]) {
    sessionOf(client).close();
    return end.apply(this, args);
  });
  return client;
}

/** The pool gives up a checkout after `connectionTimeoutMillis` (0 or unset: never). */
function timesOut(pool: unknown): boolean {
  const ms = (pool as { options?: { connectionTimeoutMillis?: unknown } })
    .options?.connectionTimeoutMillis;
  return typeof ms === "number" && ms > 0;
}
