// async-mutex through waitgraph/adapters/async-mutex, against the real library: the shared
// compliance suite in every shape the library offers, then what is particular to it.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import * as lib from "async-mutex";
import {
  E_ALREADY_LOCKED,
  E_CANCELED,
  E_TIMEOUT,
  Mutex,
  Semaphore,
  track,
  tryAcquire,
  withTimeout,
  type MutexInterface,
  type SemaphoreInterface,
} from "../../src/adapters/async-mutex.js";
import { DeadlockError, detach, heldLocks, tracker } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  reportKinds,
} from "../helpers/edges.js";
import { complianceSuite, type LockUnderTest } from "./compliance.js";

const names = (): string[] => heldLocks().map((h) => h.name);

/** The callback style: runExclusive. */
function exclusive(
  name: string,
  m: MutexInterface | SemaphoreInterface,
): LockUnderTest {
  return {
    name,
    run: (fn) => (m as MutexInterface).runExclusive(fn),
  };
}

/** The acquire/release style, releasing in `finally`. */
function acquired(name: string, m: MutexInterface): LockUnderTest {
  return {
    name,
    run: async (fn) => {
      const release = await m.acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}

describe("Mutex, runExclusive", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => exclusive(cls, new Mutex(undefined, { key: cls })),
  }));

describe("Mutex, acquire and release", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => acquired(cls, new Mutex(undefined, { key: cls })),
  }));

describe("Mutex, acquire and mutex.release() (no token)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const m = new Mutex(undefined, { key: cls });
      return {
        name: cls,
        run: async (fn) => {
          await m.acquire();
          try {
            return await fn();
          } finally {
            m.release();
          }
        },
      };
    },
  }));

describe("Semaphore(2), acquire and release", () =>
  complianceSuite({
    permits: 2,
    make: (cls) => {
      const s = new Semaphore(2, undefined, { key: cls });
      return {
        name: cls,
        run: async (fn) => {
          const [, release] = await s.acquire();
          try {
            return await fn();
          } finally {
            release();
          }
        },
      };
    },
  }));

describe("Semaphore(2), runExclusive", () =>
  complianceSuite({
    permits: 2,
    make: (cls) => exclusive(cls, new Semaphore(2, undefined, { key: cls })),
  }));

describe("withTimeout(Mutex)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) =>
      exclusive(cls, withTimeout(new Mutex(undefined, { key: cls }), 60_000)),
  }));

describe("track(a Mutex made by the library)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => exclusive(cls, track(new lib.Mutex(), { key: cls })),
  }));

describe("async-mutex specifics", () => {
  beforeEach(() => fresh());

  it("returns the library's own classes and interface", () => {
    const m = new Mutex();
    const s = new Semaphore(3);
    assert.ok(m instanceof lib.Mutex);
    assert.ok(s instanceof lib.Semaphore);
    assert.equal(s.getValue(), 3);
    s.setValue(4);
    assert.equal(s.getValue(), 4);
    assert.equal(m.isLocked(), false);
    assert.deepEqual(Object.keys(m), Object.keys(new lib.Mutex()));
  });

  it("names a class after its construction site unless given a name or key", async () => {
    const m = new Mutex();
    const n = new Mutex(undefined, { name: "accounts" });
    await m.runExclusive(() => n.runExclusive(() => {}));
    const [edge] = tracker.snapshot().edges;
    assert.match(
      edge!.from,
      /^async-mutex@test\/adapters\/async-mutex\.test\.ts:\d+:\d+$/,
    );
    assert.equal(edge!.to, "accounts");
  });

  it("validates lock class options", () => {
    assert.throws(
      () => new Mutex(undefined, { key: 42 as never }),
      (e: unknown) =>
        (e as { code?: string }).code === "ERR_WAITGRAPH_INVALID_ARGUMENT",
    );
  });

  it("keeps priorities: a higher-priority waiter goes first", async () => {
    const m = new Mutex(undefined, { key: "M" });
    const release = await m.acquire();
    const order: string[] = [];
    const low = m.runExclusive(() => void order.push("low"), 0);
    const high = m.runExclusive(() => void order.push("high"), 5);
    release();
    await Promise.all([low, high]);
    assert.deepEqual(order, ["high", "low"]);
  });

  it("counts a releaser's second call as nothing", async () => {
    const m = new Mutex(undefined, { key: "M" });
    const release = await m.acquire();
    release();
    const next = await m.acquire();
    release();
    assert.equal(m.isLocked(), true, "a stray release let nobody in twice");
    next();
    assertGraph([]);
  });

  it("releases the running task's hold on mutex.release(), not a hold of another task", async () => {
    const m = new Mutex(undefined, { key: "M" });
    await m.acquire();
    assert.deepEqual(names(), ["M"]);
    m.release();
    assert.deepEqual(names(), []);
    assert.equal(m.isLocked(), false);
  });

  it("gives each semaphore holder its own hold, released by its own releaser", async () => {
    const s = new Semaphore(2, undefined, { key: "S" });
    const bothIn = { a: deferred(), b: deferred() };
    const aOut = deferred();
    const [, seenByB] = await Promise.all([
      (async () => {
        const [value, release] = await s.acquire();
        assert.equal(value, 2);
        bothIn.a.resolve();
        await bothIn.b.promise;
        release();
        assert.deepEqual(names(), []);
        aOut.resolve();
      })(),
      (async () => {
        const [value, release] = await s.acquire();
        assert.equal(value, 1);
        bothIn.b.resolve();
        await aOut.promise;
        const seen = names();
        release();
        return seen;
      })(),
    ]);
    assert.deepEqual(seenByB, ["S"]);
    assert.equal(s.getValue(), 2);
    assertGraph([]);
  });

  it("reports waitForUnlock on a mutex the task holds (async-mutex #88), and rejects under 'throw'", async () => {
    fresh("throw");
    const m = new Mutex(undefined, { key: "M" });
    await m.runExclusive(async () => {
      await assert.rejects(m.waitForUnlock(), DeadlockError);
    });
    assert.deepEqual(reportKinds(), ["recursive-locking"]);
    await m.waitForUnlock();
  });

  it("records an edge for waitForUnlock under another lock, and holds nothing after it", async () => {
    const [a, b] = [
      new Mutex(undefined, { key: "A" }),
      new Mutex(undefined, { key: "B" }),
    ];
    await a.runExclusive(async () => {
      await b.waitForUnlock();
      assert.deepEqual(names(), ["A"]);
    });
    assertGraph(["A -> B"]);
  });

  it("abandons the hold of an acquire that cancel() rejects", async () => {
    const m = new Mutex(undefined, { key: "M" });
    const release = await m.acquire();
    const waiter = detach(() => m.acquire());
    m.cancel();
    await assert.rejects(waiter, (e) => e === E_CANCELED);
    assert.deepEqual(names(), ["M"]);
    release();
    assert.deepEqual(names(), []);
    assertGraph([]);
  });

  it("abandons the hold of a withTimeout acquire that times out", async () => {
    const m = new Mutex(undefined, { key: "M" });
    const other = new Mutex(undefined, { key: "O" });
    const held = deferred();
    const open = deferred();
    const holder = m.runExclusive(async () => {
      held.resolve();
      await open.promise;
    });
    await held.promise;
    const timed = withTimeout(m, 1);
    await assert.rejects(timed.acquire(), (e) => e === E_TIMEOUT);
    assert.deepEqual(names(), []);
    await other.runExclusive(() => {});
    open.resolve();
    await holder;
    await macrotask();
    assert.equal(m.isLocked(), false, "the late grant was given back");
    assertGraph([]);
  });

  it("shares the lock's class with its withTimeout decorator: re-entering through it is recursive", async () => {
    fresh("throw");
    const m = new Mutex(undefined, { key: "M" });
    await m.runExclusive(async () => {
      await assert.rejects(withTimeout(m, 60_000).acquire(), DeadlockError);
    });
    assert.deepEqual(reportKinds(), ["recursive-locking"]);
    assert.equal(m.isLocked(), false);
  });

  it("holds a tryAcquire decorator's lock, never validating the trylock itself", async () => {
    const [a, b, c] = ["A", "B", "C"].map(
      (key) => new Mutex(undefined, { key }),
    );
    await a!.runExclusive(() => b!.runExclusive(() => {}));
    // B then A through tryAcquire: a trylock cannot wait, so it closes no cycle.
    await b!.runExclusive(async () => {
      const release = await tryAcquire(a!).acquire();
      assert.deepEqual(names(), ["B", "A"]);
      await c!.runExclusive(() => {});
      release();
    });
    // Held [B, A (try)] then C: an edge from the trylock and from the lock below it (lockdep).
    assertGraph(["A -> B", "A -> C", "B -> C"]);
  });

  it("rejects tryAcquire of a locked mutex with the library's error", async () => {
    const m = new Mutex(undefined, { key: "M" });
    const release = await m.acquire();
    await assert.rejects(
      tryAcquire(m).acquire(),
      (e) => e === E_ALREADY_LOCKED,
    );
    release();
    assert.deepEqual(names(), []);
  });

  it("tracks a library Semaphore in place with track(), keeping its value", async () => {
    const s = new lib.Semaphore(2);
    assert.equal(track(s, { key: "S" }), s);
    await s.runExclusive(async (value) => {
      assert.equal(value, 2);
      assert.deepEqual(names(), ["S"]);
    });
    assert.equal(track(s), s, "tracking twice changes nothing");
  });
});

describe("async-mutex errors, as the library raises them", () => {
  beforeEach(() => fresh());

  it("throws on a bad weight from acquire and waitForUnlock, and rejects from runExclusive", async () => {
    for (const s of [
      new lib.Semaphore(2),
      new Semaphore(2, undefined, { key: "S" }),
    ]) {
      assert.throws(() => s.acquire(0), /invalid weight/);
      assert.throws(() => s.waitForUnlock(0), /invalid weight/);
      await assert.rejects(
        s.runExclusive(() => {}, 0),
        /invalid weight/,
      );
    }
    assert.deepEqual(names(), []);
    assertGraph([]);
  });
});
