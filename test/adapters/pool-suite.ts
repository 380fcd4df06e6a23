// What every pool adapter owes its users, as one suite parameterised by a factory (the
// async-mutex `test/mutex.ts` pattern): pg, generic-pool, tarn and knex each run it against the
// real library. A pool is a semaphore class; a checked-out resource is a held permit.
//
//   scenario                                                  expected
//   checkout … release                                        held in between, nothing after
//   hold one, wait for another of the same pool (max 2)       recursive-locking, no hang
//   the same under policy 'throw'                             DeadlockError at the caller's line
//   hold one, work through it, give it back, then wait        nothing
//   Promise.all siblings, each holding one at the same time   no edge, no report
//   A then B, later B then A                                  circular-dependency
//   given back from another task, then wait                   nothing
import assert from "node:assert/strict";
import { afterEach, beforeEach, it } from "node:test";
import { DeadlockError, heldLocks, tracker } from "../../src/index.js";
import { assertGraph, deferred, fresh, macrotask } from "../helpers/edges.js";

/**
 * A tracked pool, driven the library's way. `checkout` must hand back the library's own promise
 * (a synchronous wrapper): an async helper that awaits the checkout and returns the resource
 * loses the hold in its caller (reference/async-context.md §3.1, design G).
 */
export interface PoolUnderTest<R = unknown> {
  /** The library's checkout (`pool.connect()`, `pool.acquire()`, `knex.transaction()`). */
  checkout(): Promise<R>;
  /** Some work through the held resource itself (a query on the held client). */
  use(resource: R): Promise<unknown>;
  /** Gives the resource back the library's way. */
  release(resource: R): Promise<unknown> | void;
  /**
   * The library's own wait for a resource, held for one short piece of work (`pool.query`,
   * `pool.use`, a knex query). Called synchronously from the line that awaits it.
   */
  brief(): Promise<unknown>;
}

export interface PoolFactory<R = unknown> {
  /** A tracked pool of `max` resources whose class is the string key `name`. */
  make(name: string, max: number): Promise<PoolUnderTest<R>> | PoolUnderTest<R>;
  /** Ends every pool made so far. */
  endAll(): Promise<void>;
}

/** The line of the code that calls this (for asserting where a report points). */
export function lineHere(): number {
  const caller = new Error().stack?.split("\n")[2] ?? "";
  const match = /:(\d+):\d+\)?$/.exec(caller);
  assert.ok(match !== null, `no line in ${caller}`);
  return Number(match[1]);
}

export function poolSuite<R>(factory: PoolFactory<R>): void {
  beforeEach(() => fresh());
  afterEach(() => factory.endAll());

  it("holds a checked-out resource from the checkout until it is given back", async () => {
    const pool = await factory.make("pool", 2);
    assert.deepEqual(heldLocks(), []);
    const r = await pool.checkout();
    try {
      assert.deepEqual(heldLocks(), [{ name: "pool", read: 0 }]);
      await pool.use(r);
      assert.deepEqual(heldLocks(), [{ name: "pool", read: 0 }]);
    } finally {
      await pool.release(r);
    }
    assert.deepEqual(heldLocks(), []);
    assertGraph([]);
  });

  it("reports a wait for a second resource while holding one, from a run that does not hang", async () => {
    const pool = await factory.make("pool", 2);
    const r = await pool.checkout();
    try {
      await pool.brief(); // two resources: this run gets its second one and goes on
    } finally {
      await pool.release(r);
    }
    assertGraph([], ["recursive-locking"]);
    const [report] = tracker.reports();
    assert.equal(report?.kind, "recursive-locking");
    assert.deepEqual(report.classes, ["pool"]);
  });

  it("rejects that wait under policy 'throw' with a DeadlockError that points at the caller", async () => {
    fresh("throw");
    const pool = await factory.make("pool", 2);
    const r = await pool.checkout();
    let error: unknown;
    let line: number;
    try {
      line = lineHere() + 1;
      error = await pool.brief().then(
        () => new Error("the second checkout was not refused"),
        (e: unknown) => e,
      );
      // Nothing was taken for the refused checkout: the held resource still works.
      await pool.use(r);
    } finally {
      await pool.release(r);
    }
    assert.ok(error instanceof DeadlockError, String(error));
    assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
    assert.equal(error.report.kind, "recursive-locking");
    assert.ok(
      error.report.stack.some(
        (f) =>
          f.file.endsWith("/test/adapters/pool-suite.ts") && f.line === line,
      ),
      `the report's stack names pool-suite.ts:${line}: ${JSON.stringify(error.report.stack)}`,
    );
    assert.deepEqual(heldLocks(), []);
    await pool.brief();
  });

  it("reports nothing for a program that works through the resource it holds", async () => {
    const pool = await factory.make("pool", 2);
    const r = await pool.checkout();
    try {
      await pool.use(r);
      await pool.use(r);
    } finally {
      await pool.release(r);
    }
    await pool.brief();
    assertGraph([]);
  });

  it("adds no edge between Promise.all siblings that each hold a resource at the same time", async () => {
    const pool = await factory.make("pool", 2);
    const firstHolds = deferred();
    const secondHolds = deferred();
    await Promise.all([
      (async () => {
        const r = await pool.checkout();
        firstHolds.resolve();
        await secondHolds.promise;
        await pool.use(r);
        await pool.release(r);
      })(),
      (async () => {
        await firstHolds.promise;
        const r = await pool.checkout(); // while the sibling holds its resource
        secondHolds.resolve();
        await pool.use(r);
        await pool.release(r);
      })(),
    ]);
    assertGraph([]);
  });

  it("reports an ABBA between two pools taken in opposite orders, in a run that does not hang", async () => {
    const a = await factory.make("pool-A", 2);
    const b = await factory.make("pool-B", 2);
    const ra = await a.checkout();
    try {
      await b.brief();
    } finally {
      await a.release(ra);
    }
    const rb = await b.checkout();
    try {
      await a.brief();
    } finally {
      await b.release(rb);
    }
    assertGraph(["pool-A -> pool-B"], ["circular-dependency"]);
  });

  it("stops counting a resource given back by another task", async () => {
    const pool = await factory.make("pool", 2);
    const r = await pool.checkout();
    const given = deferred();
    setImmediate(() => {
      void Promise.resolve(pool.release(r)).then(() => given.resolve());
    });
    await given.promise;
    await macrotask();
    assert.deepEqual(heldLocks(), []);
    await pool.brief();
    assertGraph([]);
  });
}

/**
 * For the lock and limiter compliance suite (./compliance.ts), which expects a lock to let
 * `permits` holders in as soon as they ask: a pool of real connections opens them one by one,
 * slower than the suite's work runs. `run` waits, the first time, until `warmUp` (checking out
 * every resource at once, then giving them back) has opened them all; later runs go straight in,
 * from the caller's own stack.
 */
export function afterWarmUp<T>(
  warmUp: () => Promise<unknown>,
  go: (fn: () => Promise<T> | T) => Promise<T>,
): (fn: () => Promise<T> | T) => Promise<T> {
  let warm = false;
  const ready = warmUp().then(() => {
    warm = true;
  });
  return (fn) => (warm ? go(fn) : ready.then(() => go(fn)));
}
