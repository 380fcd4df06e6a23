// The AsyncLocalStorage fallback (reference/async-context.md §3.3 D, §7.1 item 8), selected with
// `tracker.configure({ context: 'async-local-storage' })`. It tracks callback style
// (runExclusive), `await using` and adoption; the callback-style and `await using` rows of the
// §3.1 matrix must give exactly the same edges as the promise-hook tracker. Its known limits are
// pinned at the end, named in the titles.
import { before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Completion,
  Mutex,
  heldLocks,
  task,
  tracker,
} from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  mutex,
} from "../helpers/edges.js";

before(() => {
  tracker.configure({ context: "async-local-storage" });
});
beforeEach(() => fresh());

const names = (): string[] => heldLocks().map((h) => h.name);

test("the tracker runs in async-local-storage mode", () => {
  assert.equal(tracker.stats().context, "async-local-storage");
});

describe("callback style in ALS mode", () => {
  test("a1: B.runExclusive nested in A.runExclusive, then C → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    await A.runExclusive(async () => {
      assert.deepEqual(names(), ["A"]);
      await B.runExclusive(async () => {
        assert.deepEqual(names(), ["A", "B"]);
        await macrotask();
      });
    });
    assert.deepEqual(names(), []);
    await C.runExclusive(() => {});
    assertGraph(["A -> B"]);
  });

  test("a2: Promise.all of A and B sections under P → {P → A, P → B}, no edge between the siblings", async () => {
    const [P, A, B] = [mutex("P"), mutex("A"), mutex("B")];
    const bothIn = { a: deferred(), b: deferred() };
    await P.runExclusive(async () => {
      await Promise.all([
        A.runExclusive(async () => {
          bothIn.a.resolve();
          await bothIn.b.promise;
          assert.deepEqual(names(), ["P", "A"]);
        }),
        B.runExclusive(async () => {
          bothIn.b.resolve();
          await bothIn.a.promise;
          assert.deepEqual(names(), ["P", "B"]);
        }),
      ]);
    });
    assertGraph(["P -> A", "P -> B"]);
  });

  test("a3: a1 with A contended; the releaser then takes C → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const held = deferred();
    const open = deferred();
    const releaser = A.runExclusive(async () => {
      held.resolve();
      await open.promise;
    }).then(() => C.runExclusive(() => {}));
    await held.promise;
    const waiter = A.runExclusive(async () => {
      assert.deepEqual(names(), ["A"]);
      await B.runExclusive(async () => {
        await macrotask();
      });
    });
    open.resolve();
    await Promise.all([releaser, waiter]);
    assertGraph(["A -> B"]);
  });

  test("a contended grant does not leak the releaser's locks: X → A, A → B", async () => {
    const [X, A, B] = [mutex("X"), mutex("A"), mutex("B")];
    const held = deferred();
    const open = deferred();
    const releaser = X.runExclusive(() =>
      A.runExclusive(async () => {
        held.resolve();
        await open.promise;
      }).then(() => macrotask()),
    );
    await held.promise;
    const waiter = A.runExclusive(async () => {
      assert.deepEqual(names(), ["A"]);
      await B.runExclusive(() => {});
    });
    open.resolve();
    await Promise.all([releaser, waiter]);
    assertGraph(["A -> B", "X -> A"]);
  });

  test("x4: ABBA run sequentially → circular-dependency, the closing edge not inserted", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    await B.runExclusive(() => A.runExclusive(() => {}));
    assertGraph(["A -> B"], ["circular-dependency"]);
  });

  test("a runExclusive callback that throws leaves the caller holding nothing", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await assert.rejects(
      A.runExclusive(async () => {
        await null;
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(names(), []);
    await B.runExclusive(() => {});
    assertGraph([]);
  });
});

describe("`await using` in ALS mode", () => {
  test("d1: `await using` A, then in an inner scope B; C after both scopes → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    {
      await using _ga = await A.lock();
      assert.deepEqual(names(), ["A"]);
      {
        await using _gb = await B.lock();
        assert.deepEqual(names(), ["A", "B"]);
      }
      assert.deepEqual(names(), ["A"]);
    }
    assert.deepEqual(names(), []);
    await C.runExclusive(() => {});
    assertGraph(["A -> B"]);
  });

  test("`await using` A with a contended grant; the releaser then takes C → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const held = deferred();
    const open = deferred();
    const releaser = (async () => {
      {
        await using _g = await A.lock();
        held.resolve();
        await open.promise;
      }
      await C.runExclusive(() => {});
    })();
    await held.promise;
    const waiter = (async () => {
      await using _ga = await A.lock();
      await using _gb = await B.lock();
      assert.deepEqual(names(), ["A", "B"]);
    })();
    open.resolve();
    await Promise.all([releaser, waiter]);
    assertGraph(["A -> B"]);
  });

  test("`await using` siblings under P → {P → A, P → B}, no edge between them", async () => {
    const [P, A, B] = [mutex("P"), mutex("A"), mutex("B")];
    const aIn = deferred();
    const bIn = deferred();
    await P.runExclusive(() =>
      Promise.all([
        (async () => {
          await using _g = await A.lock();
          aIn.resolve();
          await bIn.promise;
        })(),
        (async () => {
          await using _g = await B.lock();
          bIn.resolve();
          await aIn.promise;
        })(),
      ]),
    );
    assertGraph(["P -> A", "P -> B"]);
  });
});

describe("limits of the ALS fallback, pinned", () => {
  test("limit (ALS): a bare `const r = await m.acquire()` is not seen, so A → B is missed", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const rA = await A.acquire();
    assert.deepEqual(names(), []);
    const rB = await B.acquire();
    rB();
    rA();
    // Correct: {A → B}; the promise-hook tracker gives it, ALS needs `await using` or runExclusive.
    assertGraph([]);
  });

  test("limit (ALS): a setTimeout callback scheduled inside A.runExclusive inherits A (false A → B while A is held)", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const bTaken = deferred<string[]>();
    const open = deferred();
    const holder = A.runExclusive(async () => {
      setTimeout(() => {
        const inside = names();
        void B.runExclusive(() => {}).then(() => bTaken.resolve(inside));
      }, 0);
      await open.promise;
    });
    // Correct: {} (timers start with nothing held in the promise-hook tracker).
    assert.deepEqual(await bTaken.promise, ["A"]);
    open.resolve();
    await holder;
    assertGraph(["A -> B"]);
  });
});

describe("waits and events in ALS mode", () => {
  test("a consumer the task started, still blocked, is no dependency of what the task completes", async () => {
    // In this mode a Completion wait enters the history at once (no await is seen); it must
    // still be left out while its waiter is queued.
    const signal = new Completion({ key: "signal" });
    const ready = new Completion({ key: "ready" });
    const early = task("early", () => ready.wait());
    await macrotask();
    let notifier: Promise<void> | undefined;
    await task("main", async () => {
      const consumer = signal.wait();
      await macrotask();
      notifier = task("notifier", async () => {
        await ready.wait();
        signal.complete();
      });
      await macrotask();
      ready.completeAll();
      await consumer;
    });
    await Promise.all([early, notifier]);
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      [],
    );
  });
});

describe("a raiser's own acquisition in ALS mode", () => {
  test("a lock taken with a bare await (unseen on held lists here) still counts for the event its taker raises", async () => {
    const m = new Mutex({ key: "M" });
    // M → X: the callback style is tracked in this mode.
    await task("holder", () =>
      m.runExclusive(async () => {
        const x1 = new Completion({ key: "X" });
        setImmediate(() => x1.complete());
        await x1.wait();
      }),
    );
    const x = new Completion({ key: "X" });
    const waiter = task("waiter", () => x.wait());
    await macrotask();
    await task("raiser", async () => {
      const release = await m.acquire();
      x.complete(); // X → M: the raiser waited for M inside X's context
      release();
    });
    await waiter;
    assert.deepEqual(
      tracker.reports().map((r) => [r.kind, r.classes]),
      [["circular-dependency", ["M", "X"]]],
    );
  });
});
