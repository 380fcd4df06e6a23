// knex: its connection pool (tarn, at `knex.client.pool`) is a semaphore class, and a
// transaction holds one connection for its whole life.
//
//   const knex = trackKnex(Knex({ client: "pg", connection, pool: { max: 2 } }));
//   await knex.transaction(async (trx) => {
//     await trx("t").insert(row);          // on the transaction's connection: fine
//     await knex("t").select();            // a second connection while holding one: reported
//     await knex.transaction(async () => {}); // a nested transaction not on trx: reported
//   });
//
// Both reported cases are recursive locking of the pool's class: with as many such transactions
// as the pool has connections, every one of them waits for a connection another one holds
// (knex #1040, #1909, #1380: "Are you missing a .transacting(trx) call?"). A nested
// `trx.transaction()` is a savepoint on the same connection and takes nothing.
//
// knex takes connections off the user's stack — a transaction acquires in a promise reaction,
// a query when it is awaited — so where the user asked is captured at the user's call:
//  * `knex.transaction()` is validated when called (its first step holds nothing the call did
//    not hold), and `await knex.transaction()` (no handler) holds the connection until commit
//    or rollback;
//  * a query builder made while the task holds a lock keeps its creation site for the
//    validation that happens when it runs (one stack capture). A builder made while holding
//    nothing costs nothing, except the first, whose site stands for every connection taken
//    while holding nothing in the reports that follow.
// Design limits: a `knex.withUserParams()` clone shares the tracking, except that awaiting its
// `transaction()` without a handler does not hold the connection (its handler form does).
import {
  tracking,
  lockInit,
  lockContended,
  lockRelease,
  type HeldLock,
  type LockMap,
} from "../core/seam.js";
import { submitter } from "../core/flows.js";
import { DeadlockError, expected } from "../core/errors.js";
import type { Skip } from "../core/lock-class.js";
import type { Trace } from "../core/stack.js";
import {
  checkPoolOptions,
  defineMethod,
  holdsAny,
  isTracked,
  markTracked,
  permitsOf,
  callSite,
  sizeOf,
  type Attempt,
  type PoolOptions,
} from "./permits.js";
import { trackInClass, type TarnPoolLike } from "./tarn.js";
import { trackSafely, unrecognised } from "./instrument/exports.js";

export type { PoolOptions };

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** What waitgraph needs of a knex instance (structural: knex is an optional peer). */
export interface KnexLike {
  (...args: never[]): unknown;
  client: unknown;
}

interface Client {
  pool?: TarnPoolLike;
  acquireConnection: Method;
  transaction: Method;
  queryBuilder: Method;
  raw: Method;
  schemaBuilder: Method;
  runner: Method;
  initializePool: Method;
}

interface TransactionConfig {
  connection?: unknown;
}

/**
 * Tracks the connection pool of `knex` and returns `knex`. The pool's class is the site of this
 * call, or `options.name` / `options.key`; a pool knex makes again (`destroy()` then
 * `initialize()`) keeps it. Tracking a knex twice keeps the first class (except that a knex
 * `waitgraph/register` tracked takes the `name` or `key` given here).
 */
export function trackKnex<K extends KnexLike>(
  knex: K,
  options?: PoolOptions,
): K {
  return track(knex, options, trackKnex);
}

/**
 * For `node --import waitgraph/register`: every knex made by this module's `knex(config)` is
 * tracked, its class the site of that call. Returns new exports: the knex function with its
 * static members, `knex.knex` and `knex.default` the tracked function too.
 */
export function instrumentKnex<M extends (config: never) => unknown>(
  original: M,
): M {
  if (typeof original !== "function")
    throw unrecognised("the knex function (module.exports)", original);
  if (isTracked(original)) return original;
  const make = original as unknown as (
    this: unknown,
    ...args: unknown[]
  ) => unknown;
  const knex = function knex(this: unknown, ...args: unknown[]): unknown {
    const made = make.apply(this, args);
    if (typeof made === "function" && isClient((made as KnexLike).client))
      trackSafely(() => track(made as KnexLike, undefined, knex, false));
    return made;
  };
  for (const name of Object.getOwnPropertyNames(original)) {
    if (["length", "name", "prototype", "arguments", "caller"].includes(name))
      continue;
    const descriptor = Object.getOwnPropertyDescriptor(original, name);
    if (descriptor !== undefined) Object.defineProperty(knex, name, descriptor);
  }
  defineMethod(knex, "knex", knex);
  defineMethod(knex, "default", knex);
  markTracked(knex);
  return knex as unknown as M;
}

/** The class of one tracked knex: every pool it makes is tracked in it. */
interface KnexClass {
  map: LockMap;
  explicit: boolean;
}
const classes = new WeakMap<object, KnexClass>();

function classMap(
  client: Client,
  options: PoolOptions | undefined,
  skip: Skip,
): LockMap | undefined {
  return lockInit(
    client,
    options,
    "knex",
    skip,
    sizeOf((client.pool as { max?: unknown } | undefined)?.max),
  );
}

function track<K extends KnexLike>(
  knex: K,
  options: PoolOptions | undefined,
  skip: Skip,
  explicit = true,
): K {
  if (typeof knex !== "function" || !isClient(knex.client))
    throw expected("knex", "a knex instance", knex);
  options = checkPoolOptions(options);
  const client = knex.client;
  const known = classes.get(client);
  if (known !== undefined || isTracked(client)) {
    // Tracked by `waitgraph/register` (the site of knex()): the user's `name` or `key` wins.
    if (known !== undefined && explicit && !known.explicit) {
      known.explicit = true;
      const map =
        options === undefined ? undefined : classMap(client, options, skip);
      if (map !== undefined) {
        known.map = map;
        const permits =
          client.pool === undefined ? undefined : permitsOf(client.pool);
        if (permits !== undefined && !permits.explicit) permits.map = map;
      }
    }
    return knex;
  }
  const map = classMap(client, options, skip);
  if (map === undefined) return knex;
  const cls: KnexClass = { map, explicit };
  classes.set(client, cls);
  markTracked(client);
  if (client.pool !== undefined) trackInClass(client.pool, map);

  const initializePool = client.initializePool;
  defineMethod(
    client,
    "initializePool",
    function (this: Client, ...args: unknown[]) {
      const result = initializePool.apply(this, args);
      if (this.pool !== undefined) trackInClass(this.pool, cls.map);
      return result;
    },
  );

  // The attempt a transaction validated at the user's call, for its own acquisition; the site
  // of the builder being run. Both are set only around one synchronous call into knex.
  let entry: { attempt: Attempt } | undefined;
  let site: Trace | undefined;
  // The attempt the last `client.transaction()` made, for `_transaction` to tag its promise.
  let lastTransaction: Attempt;
  // A connection was taken while holding nothing, validated with the user's stack.
  let freeSited = false;

  const acquireConnection = client.acquireConnection;
  defineMethod(client, "acquireConnection", function (this: Client) {
    const pool = this.pool;
    const permits = pool === undefined ? undefined : permitsOf(pool);
    let attempt: Attempt;
    if (entry !== undefined) {
      attempt = entry.attempt;
      entry = undefined;
    } else if (permits !== undefined) {
      if (site !== undefined && !holdsAny(submitter())) freeSited = true;
      attempt = permits.attempt(site);
    }
    if (attempt instanceof DeadlockError) return Promise.reject(attempt);
    if (attempt === undefined) return acquireConnection.call(this);
    if (permits === undefined) {
      lockRelease(attempt, "abandoned");
      return acquireConnection.call(this);
    }
    // The tarn pool's acquire() (called synchronously inside) takes this attempt.
    const hold = attempt;
    const promise = permits.withAttempt(hold, () =>
      acquireConnection.call(this),
    ) as Promise<unknown>;
    lockContended(hold, promise);
    return promise;
  });

  const transaction = client.transaction;
  defineMethod(
    client,
    "transaction",
    function (
      this: Client,
      container: unknown,
      config: TransactionConfig | undefined,
      outerTx: unknown,
      ...rest: unknown[]
    ) {
      lastTransaction = undefined;
      const pool = this.pool;
      const permits = pool === undefined ? undefined : permitsOf(pool);
      // A savepoint (outerTx) or a transaction on a connection the user gave takes nothing.
      const savepoint = outerTx !== undefined && outerTx !== null;
      if (
        savepoint ||
        config?.connection !== undefined ||
        permits === undefined ||
        !tracking.on
      )
        return transaction.call(this, container, config, outerTx, ...rest);
      if (!holdsAny(submitter())) freeSited = true;
      const attempt = permits.attempt();
      lastTransaction = attempt;
      const trx = transaction.call(this, container, config, outerTx, ...rest);
      if (attempt === undefined || typeof trx !== "object" || trx === null)
        return trx;
      const own = (trx as { acquireConnection?: Method }).acquireConnection;
      if (typeof own !== "function") {
        if (!(attempt instanceof DeadlockError))
          lockRelease(attempt, "abandoned");
        return trx;
      }
      defineMethod(
        trx,
        "acquireConnection",
        function (this: unknown, ...args: unknown[]) {
          if (attempt instanceof DeadlockError) return Promise.reject(attempt);
          entry = { attempt };
          try {
            return own.apply(this, args);
          } finally {
            if (entry !== undefined) {
              entry = undefined;
              lockRelease(attempt, "abandoned");
            }
          }
        },
      );
      return trx;
    },
  );

  // `await knex.transaction()` without a handler: the promise of the transaction object is made
  // here, and its awaiter holds the connection from the grant until commit or rollback.
  const context = (knex as { context?: { _transaction?: Method } }).context;
  const _transaction = context?._transaction;
  if (context !== undefined && typeof _transaction === "function")
    defineMethod(
      context,
      "_transaction",
      function (this: unknown, container: unknown, ...args: unknown[]) {
        lastTransaction = undefined;
        const result = _transaction.call(this, container, ...args);
        const attempt = lastTransaction;
        lastTransaction = undefined;
        if (
          (container === undefined || container === null) &&
          result instanceof Promise &&
          isHold(attempt)
        ) {
          lockContended(attempt, result);
          // Once committed or rolled back, the awaiter holds nothing: knex gives the connection
          // back a few steps later on its own, without waiting for anything the awaiter holds.
          const hold = attempt;
          const ended = (): void => endHold(hold);
          result.then((transactor: unknown) => {
            const done = (transactor as { executionPromise?: unknown })
              .executionPromise;
            if (done instanceof Promise) done.then(ended, ended);
          }, ended);
        }
        return result;
      },
    );

  // Builders made while holding a lock remember where; running one validates with that site.
  // So does the first builder made while holding nothing: the stack saved for "a connection
  // taken while holding nothing" is where every later transaction's connection was taken in a
  // report, and knex's own frames would say nothing.
  const sites = new WeakMap<object, Trace>();
  for (const name of ["queryBuilder", "raw", "schemaBuilder"] as const) {
    const make = client[name];
    defineMethod(client, name, function (this: unknown, ...args: unknown[]) {
      const builder = make.apply(this, args);
      if (tracking.on && typeof builder === "object" && builder !== null) {
        const holding = holdsAny(submitter());
        if (holding || !freeSited) sites.set(builder, callSite());
      }
      return builder;
    });
  }
  const runner = client.runner;
  defineMethod(client, "runner", function (this: unknown, builder: unknown) {
    const made = runner.call(this, builder);
    const at =
      typeof builder === "object" && builder !== null
        ? sites.get(builder)
        : undefined;
    const ensure = (made as { ensureConnection?: Method } | null)
      ?.ensureConnection;
    if (at === undefined || typeof ensure !== "function") return made;
    defineMethod(
      made as object,
      "ensureConnection",
      function (this: unknown, ...args: unknown[]) {
        const outer = site;
        site = at;
        try {
          return ensure.apply(this, args);
        } finally {
          site = outer;
        }
      },
    );
    return made;
  });

  return knex;
}

function isClient(value: unknown): value is Client {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Partial<Record<keyof Client, unknown>>;
  return (
    typeof c.acquireConnection === "function" &&
    typeof c.transaction === "function" &&
    typeof c.queryBuilder === "function" &&
    typeof c.raw === "function" &&
    typeof c.schemaBuilder === "function" &&
    typeof c.runner === "function" &&
    typeof c.initializePool === "function"
  );
}

function isHold(attempt: Attempt): attempt is HeldLock {
  return attempt !== undefined && !(attempt instanceof DeadlockError);
}

/** Ends a hold before its resource goes back to the pool (the pool's release then skips it). */
function endHold(hold: HeldLock): void {
  if (!hold.released) lockRelease(hold);
}
