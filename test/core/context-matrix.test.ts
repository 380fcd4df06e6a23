// The scenario matrix of reference/async-context.md §3.1, for the promise-hook tracker (design G).
// Each row asserts the exact edge set: a false edge and a missing edge both fail.
//
// Edges follow lockdep (reference/lockdep-dept-semantics.md §1.5): an acquisition adds an edge
// from the nearest held lock only; deeper held locks reach the new one transitively. The
// prototype of §3.1 drew an edge from every held lock, so where a task holds two locks the
// expected sets here omit the transitive edge (c3: P → c is reached through P → a → c).
//
// "Holder" tasks that keep a lock while another task works are started by the test body, which
// holds nothing, and are released through a gate the test body opens: no task here waits,
// directly or through a chain of awaits, for work it is not supposed to depend on.
import { beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Mutex, bind, detach, heldLocks } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  mutex,
} from "../helpers/edges.js";

beforeEach(() => fresh());

const names = (): string[] => heldLocks().map((h) => h.name);

describe("(a) callback style", () => {
  test("a1: B.runExclusive nested in A.runExclusive, then C → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    await A.runExclusive(async () => {
      await B.runExclusive(async () => {
        await macrotask();
      });
    });
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
        }),
        B.runExclusive(async () => {
          bothIn.b.resolve();
          await bothIn.a.promise;
        }),
      ]);
    });
    assertGraph(["P -> A", "P -> B"]);
  });

  test("a3: a1 with A contended; the releaser then takes C → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const held = deferred();
    const open = deferred();
    const releaser = (async () => {
      const release = await A.acquire();
      held.resolve();
      await open.promise;
      release();
      await C.runExclusive(() => {});
    })();
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
});

describe("(b) acquire/release style", () => {
  test("b1: rA = await A.acquire(), then B; C after both are released → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const rA = await A.acquire();
    const rB = await B.acquire();
    assert.deepEqual(names(), ["A", "B"]);
    rB();
    rA();
    assert.deepEqual(names(), []);
    const rC = await C.acquire();
    rC();
    assertGraph(["A -> B"]);
  });

  test("b2: b1 with A contended, granted in the releaser's context → {A → B}, and nothing for the releaser's C", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const held = deferred();
    const open = deferred();
    const releaser = (async () => {
      const release = await A.acquire();
      held.resolve();
      await open.promise;
      release();
      assert.deepEqual(names(), []);
      const rC = await C.acquire();
      rC();
    })();
    await held.promise;
    const waiter = (async () => {
      const rA = await A.acquire();
      assert.deepEqual(names(), ["A"]);
      const rB = await B.acquire();
      rB();
      rA();
    })();
    open.resolve();
    await Promise.all([releaser, waiter]);
    assertGraph(["A -> B"]);
  });

  test("b3: b1 and b2 together, each release passed through a function in the continuation → {A → B, X → Y}", async () => {
    const [A, B, X, Y] = [mutex("A"), mutex("B"), mutex("X"), mutex("Y")];
    const keep = <T>(release: T): T => release;
    const rA = keep(await A.acquire());
    const rB = keep(await B.acquire());
    rB();
    rA();
    const held = deferred();
    const open = deferred();
    const releaser = (async () => {
      const release = keep(await X.acquire());
      held.resolve();
      await open.promise;
      release();
    })();
    await held.promise;
    const waiter = (async () => {
      const rX = keep(await X.acquire());
      const rY = keep(await Y.acquire());
      rY();
      rX();
    })();
    open.resolve();
    await Promise.all([releaser, waiter]);
    assertGraph(["A -> B", "X -> Y"]);
  });
});

describe("(c) children awaited by a parent", () => {
  test("c1: parent holds P; Promise.all children take a and b in their sync prefix; then Q → {P → Q, P → a, P → b}", async () => {
    const [P, Q, a, b] = [mutex("P"), mutex("Q"), mutex("a"), mutex("b")];
    const child = async (m: Mutex, name: string) => {
      const release = await m.acquire();
      assert.deepEqual(names(), ["P", name]);
      await macrotask();
      release();
    };
    const rP = await P.acquire();
    await Promise.all([child(a, "a"), child(b, "b")]);
    const rQ = await Q.acquire();
    rQ();
    rP();
    assertGraph(["P -> Q", "P -> a", "P -> b"]);
  });

  test("c2: c1 with the acquisitions after awaits, both held at once → {P → Q, P → a, P → b}", async () => {
    const [P, Q, a, b] = [mutex("P"), mutex("Q"), mutex("a"), mutex("b")];
    const aIn = deferred();
    const bIn = deferred();
    const rP = await P.acquire();
    await Promise.all([
      (async () => {
        await null;
        const release = await a.acquire();
        aIn.resolve();
        await bIn.promise;
        assert.deepEqual(names(), ["P", "a"]);
        release();
      })(),
      (async () => {
        await macrotask();
        const release = await b.acquire();
        bIn.resolve();
        await aIn.promise;
        assert.deepEqual(names(), ["P", "b"]);
        release();
      })(),
    ]);
    const rQ = await Q.acquire();
    rQ();
    rP();
    assertGraph(["P -> Q", "P -> a", "P -> b"]);
  });

  test("c3: c1 with a contended; the first child then takes c; the releaser takes Z → {P → a, P → b, a → c}", async () => {
    const [P, a, b, c, Z] = [
      mutex("P"),
      mutex("a"),
      mutex("b"),
      mutex("c"),
      mutex("Z"),
    ];
    const held = deferred();
    const open = deferred();
    const releaser = (async () => {
      const release = await a.acquire();
      held.resolve();
      await open.promise;
      release();
      const rZ = await Z.acquire();
      rZ();
    })();
    await held.promise;
    const rP = await P.acquire();
    await Promise.all([
      (async () => {
        const ra = await a.acquire();
        assert.deepEqual(names(), ["P", "a"]);
        const rc = await c.acquire();
        rc();
        ra();
      })(),
      (async () => {
        const rb = await b.acquire();
        open.resolve();
        await macrotask();
        rb();
      })(),
    ]);
    rP();
    await releaser;
    // P → c is implied by P → a → c; lockdep adds the edge from the nearest held lock only.
    assertGraph(["P -> a", "P -> b", "a -> c"]);
  });
});

describe("(d) detached work, timers, bind and detach", () => {
  test("d1: `await using` A, then in an inner scope B; C after both scopes → {A → B}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    {
      await using _ga = await A.lock();
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

  test("d2: under A, a setTimeout task takes B after A is released → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const done = deferred();
    const rA = await A.acquire();
    setTimeout(() => void B.runExclusive(() => {}).then(done.resolve), 0);
    rA();
    await done.promise;
    assertGraph([]);
  });

  test("d2 (un-awaited async call): started under A, it takes B after A is released → {} (a released hold counts nowhere)", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const released = deferred();
    const rA = await A.acquire();
    const detached = (async () => {
      await released.promise;
      await B.runExclusive(() => {});
    })();
    rA();
    released.resolve();
    await detached;
    assertGraph([]);
  });

  test("d3: under A, a setTimeout task takes B while A is held, not awaited → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const bTaken = deferred<string[]>();
    const open = deferred();
    const holder = (async () => {
      const rA = await A.acquire();
      setTimeout(() => {
        const inTimer = names();
        void B.runExclusive(() => {}).then(() => bTaken.resolve(inTimer));
      }, 0);
      await open.promise;
      rA();
    })();
    assert.deepEqual(await bTaken.promise, []);
    assert.equal(A.isLocked(), true);
    open.resolve();
    await holder;
    assertGraph([]);
  });

  test("d4: d3 with queueMicrotask → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const bTaken = deferred<string[]>();
    const open = deferred();
    const holder = (async () => {
      const rA = await A.acquire();
      queueMicrotask(() => {
        const inMicrotask = names();
        void B.runExclusive(() => {}).then(() => bTaken.resolve(inMicrotask));
      });
      await open.promise;
      rA();
    })();
    assert.deepEqual(await bTaken.promise, []);
    assert.equal(A.isLocked(), true);
    open.resolve();
    await holder;
    assertGraph([]);
  });

  test("d5b: d3 with an un-awaited async call spawned through detach(fn) → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const bTaken = deferred<string[]>();
    const open = deferred();
    const holder = (async () => {
      const rA = await A.acquire();
      void detach(async () => {
        const inside = names();
        await B.runExclusive(() => {});
        bTaken.resolve(inside);
      });
      await open.promise;
      rA();
    })();
    assert.deepEqual(await bTaken.promise, []);
    assert.equal(A.isLocked(), true);
    open.resolve();
    await holder;
    assertGraph([]);
  });

  test("d6b: under A, await a promise that a bind(fn)-wrapped setTimeout callback resolves after taking B → {A → B}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const rA = await A.acquire();
    await new Promise<void>((resolve) => {
      setTimeout(
        bind(() => {
          assert.deepEqual(names(), ["A"]);
          void B.runExclusive(() => {}).then(resolve);
        }),
        0,
      );
    });
    rA();
    assertGraph(["A -> B"]);
  });
});

describe("(x) other shapes", () => {
  test("x2: A released by another task, then B → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const rA = await A.acquire();
    const other = deferred();
    setTimeout(() => {
      rA();
      other.resolve();
    }, 0);
    await other.promise;
    assert.deepEqual(names(), []);
    const rB = await B.acquire();
    rB();
    assertGraph([]);
  });

  test("x3: A.acquire().then(async rA => B …) → {A → B}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.acquire().then(async (rA) => {
      assert.deepEqual(names(), ["A"]);
      const rB = await B.acquire();
      rB();
      rA();
    });
    assertGraph(["A -> B"]);
  });

  test("x4: ABBA run sequentially (no real deadlock) → circular-dependency, and the closing edge is not inserted", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    await B.runExclusive(() => A.runExclusive(() => {}));
    assertGraph(["A -> B"], ["circular-dependency"]);
  });
});

describe("ownership cases (test/forward.js) that design G gets right", () => {
  test("a sync wrapper m => m.acquire(): the caller holds A when it takes B → {A → B}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const lock = (m: Mutex) => m.acquire();
    const rA = await lock(A);
    const rB = await lock(B);
    rB();
    rA();
    assertGraph(["A -> B"]);
  });

  test("a helper that acquires A, releases it and returns a value; the caller then takes B → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const read = async () => {
      const release = await A.acquire();
      try {
        await null;
        return 42;
      } finally {
        release();
      }
    };
    assert.equal(await read(), 42);
    const rB = await B.acquire();
    rB();
    assertGraph([]);
  });

  test("a signal resolved mid-section under A, then an await: the signalled task takes B without A → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const signal = deferred();
    const signalled = (async () => {
      await signal.promise;
      assert.deepEqual(names(), []);
      await B.runExclusive(() => {});
    })();
    const rA = await A.acquire();
    signal.resolve();
    await macrotask();
    rA();
    await signalled;
    assertGraph([]);
  });

  test("a signal as the last statement of an async fn that still holds A → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const signal = deferred();
    const signalled = (async () => {
      await signal.promise;
      await B.runExclusive(() => {});
    })();
    const holder = async () => {
      const rA = await A.acquire();
      signal.resolve();
      return rA;
    };
    const rA = await holder();
    await signalled;
    rA();
    assertGraph([]);
  });

  test("a signal as the last statement of an un-awaited .then callback that keeps A held → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const signal = deferred();
    const signalled = (async () => {
      await signal.promise;
      await B.runExclusive(() => {});
    })();
    let rA: (() => void) | undefined;
    void A.acquire().then((release) => {
      rA = release;
      signal.resolve();
    });
    await signalled;
    rA!();
    assertGraph([]);
  });

  test("a contended grant does not leak the releaser's own locks: releaser holds X and A, waiter gets A then B → {X → A, A → B}", async () => {
    const [X, A, B, C] = [mutex("X"), mutex("A"), mutex("B"), mutex("C")];
    const held = deferred();
    const open = deferred();
    const releaser = (async () => {
      const rX = await X.acquire();
      const rA = await A.acquire();
      held.resolve();
      await open.promise;
      rA();
      await macrotask();
      rX();
    })();
    await held.promise;
    const waiter = (async () => {
      const rA = await A.acquire();
      assert.deepEqual(names(), ["A"]);
      const rB = await B.acquire();
      rB();
      rA();
      const rC = await C.acquire();
      rC();
    })();
    open.resolve();
    await Promise.all([releaser, waiter]);
    assertGraph(["A -> B", "X -> A"]);
  });
});

describe("beyond the matrix", () => {
  test(".then chains: A.acquire().then(rA => B.acquire().then(rB => C …)) → {A → B, B → C}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    await A.acquire().then((rA) =>
      B.acquire().then((rB) =>
        C.acquire().then((rC) => {
          assert.deepEqual(names(), ["A", "B", "C"]);
          rC();
          rB();
          rA();
        }),
      ),
    );
    assertGraph(["A -> B", "B -> C"]);
  });

  test("a lock released by another task stops counting everywhere: in the holder and in the children it already started", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const rA = await A.acquire();
    const released = deferred();
    const child = (async () => {
      await released.promise;
      assert.deepEqual(names(), []);
      const rB = await B.acquire();
      rB();
    })();
    setTimeout(() => {
      rA();
      released.resolve();
    }, 0);
    await released.promise;
    await child;
    assert.deepEqual(names(), []);
    const rC = await C.acquire();
    rC();
    assertGraph([]);
  });

  test("non-LIFO release: A, B held, A released first; then C is taken under B only → {A → B, B → C}", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const rA = await A.acquire();
    const rB = await B.acquire();
    rA();
    assert.deepEqual(names(), ["B"]);
    const rC = await C.acquire();
    rC();
    rB();
    assertGraph(["A -> B", "B -> C"]);
  });

  for (const [kind, schedule] of [
    ["setTimeout", (fn: () => void) => void setTimeout(fn, 0)],
    ["setImmediate", (fn: () => void) => void setImmediate(fn)],
    ["process.nextTick", (fn: () => void) => process.nextTick(fn)],
    ["queueMicrotask", (fn: () => void) => queueMicrotask(fn)],
  ] as const) {
    test(`a ${kind} callback scheduled under A starts with nothing held`, async () => {
      const [A, B] = [mutex("A"), mutex("B")];
      const rA = await A.acquire();
      const seen = await new Promise<string[]>((resolve) =>
        schedule(() => {
          const inside = names();
          const rB = B.tryAcquire();
          assert.ok(rB);
          rB();
          void B.runExclusive(() => {}).then(() => resolve(inside));
        }),
      );
      assert.deepEqual(seen, []);
      assert.deepEqual(names(), ["A"]);
      rA();
      assertGraph([]);
    });
  }

  test("a lock a timer callback takes with tryAcquire and keeps is held in that callback only: the next timer starts with nothing held", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    let rA: (() => void) | undefined;
    const inFirst = await new Promise<string[]>((resolve) =>
      setTimeout(() => {
        rA = A.tryAcquire();
        resolve(names());
      }, 0),
    );
    assert.deepEqual(inFirst, ["A"]);
    const inSecond = await new Promise<string[]>((resolve) =>
      setTimeout(() => {
        const inside = names();
        B.tryAcquire()!();
        resolve(inside);
      }, 0),
    );
    assert.deepEqual(inSecond, []);
    assert.deepEqual(names(), []);
    rA!();
    assertGraph([]);
  });

  test("a continuation that throws while holding A hands it, with the error, to its awaiter: the caller holds A until it releases it; a later timer sees nothing held", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    let leaked: (() => void) | undefined;
    await assert.rejects(
      A.acquire().then((rA) => {
        leaked = rA;
        assert.deepEqual(names(), ["A"]);
        throw new Error("boom");
      }),
      /boom/,
    );
    // Settling cannot tell a rejection from a fulfilment (promise hooks give no state): the
    // flow that receives the error holds the lock the callback left taken — as it does here,
    // since it is the one that releases it.
    assert.deepEqual(names(), ["A"]);
    const inTimer = await new Promise<string[]>((resolve) =>
      setTimeout(() => {
        const inside = names();
        void B.runExclusive(() => {}).then(() => resolve(inside));
      }, 0),
    );
    assert.deepEqual(inTimer, []);
    const rB = await B.acquire();
    rB();
    leaked!();
    assert.deepEqual(names(), []);
    assertGraph(["A -> B"]);
  });

  test("runExclusive whose callback throws releases A, and the caller holds nothing afterwards", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await assert.rejects(
      A.runExclusive(async () => {
        await null;
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(A.isLocked(), false);
    assert.deepEqual(names(), []);
    await B.runExclusive(() => {});
    assertGraph([]);
  });
});
