// Holds follow resolution (context.ts, hand-over.ts): a helper that returns a held lock hands
// it to its caller — the shapes real code is full of (`async function lockUser(id) { return
// m.acquire() }`, `async getClient() { … return client }`). Beside each shape that must hand over
// sits the look-alike that must not: a gate resolved inside a critical section, a promise awaited
// by another task or by an unrelated callback flow, a helper that releases before it returns.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { promiseHooks, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Mutex, detach, heldLocks, task } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  edges,
  fresh,
  inCallback,
  macrotask,
  mutex,
  reportKinds,
} from "../helpers/edges.js";

beforeEach(() => fresh());

const names = (): string[] => heldLocks().map((h) => h.name);
/** Edges between locks, without the task-end event edges a `task()` adds. */
const lockEdges = (): string[] => edges().filter((e) => !e.startsWith("task "));

type Lock = (m: Mutex) => Promise<() => void>;

const helpers: [string, Lock][] = [
  [
    "async m => { const r = await m.acquire(); await x; return r }",
    async (m) => {
      const r = await m.acquire();
      await macrotask();
      return r;
    },
  ],
  ["async m => m.acquire()", async (m) => m.acquire()],
  ["async m => { return await m.acquire() }", async (m) => await m.acquire()],
  ["m => m.acquire().then(r => r)", (m) => m.acquire().then((r) => r)],
  [
    "async m => { await x; return m.acquire() }",
    async (m) => {
      await macrotask();
      return m.acquire();
    },
  ],
  [
    "async m => await inner(m), inner returning m.acquire()",
    async (m) => await (async (n: Mutex) => n.acquire())(m),
  ],
];

/** Another flow takes `m` and keeps it for one macrotask; resolves once it holds it. */
async function heldElsewhere(m: Mutex): Promise<{ done: Promise<void> }> {
  const taken = deferred();
  const done = detach(async () => {
    const r = await m.acquire();
    taken.resolve();
    await macrotask();
    r();
  });
  await taken.promise;
  return { done };
}

/** flow 1: takes A, opens `held` the given way, keeps A until told; main then takes B. */
async function gateShape(open: (resolve: () => void) => void): Promise<void> {
  const [A, B] = [mutex("A"), mutex("B")];
  const held = deferred();
  const done = deferred();
  const holder = (async () => {
    const r = await A.acquire();
    open(held.resolve);
    await done.promise;
    r();
  })();
  await held.promise;
  assert.deepEqual(names(), []);
  (await B.acquire())();
  done.resolve();
  await holder;
  assertGraph([]);
}

describe("a helper's returned hold is its caller's", () => {
  for (const [shape, lock] of helpers) {
    test(`\`${shape}\` in a task: the caller holds A and takes B → {A → B}`, async () => {
      const [A, B] = [mutex("A"), mutex("B")];
      await task("t", async () => {
        const rA = await lock(A);
        assert.deepEqual(names(), ["A"]);
        const rB = await B.acquire();
        rB();
        rA();
        assert.deepEqual(names(), []);
      });
      assert.deepEqual(lockEdges(), ["A -> B"]);
      assert.deepEqual(reportKinds(), []);
    });
  }

  // A callback or top-level flow has a list of its own from its first lock: a helper that
  // locks before its first await gives it one before the caller awaits (see context-limits for
  // the helper that awaits first).
  for (const [shape, lock] of helpers.filter(
    ([s]) => !s.includes("{ await x;"),
  )) {
    test(`\`${shape}\` from a callback flow: the caller holds A and takes B → {A → B}`, async () => {
      const [A, B] = [mutex("A"), mutex("B")];
      const held = await inCallback(async () => {
        const rA = await lock(A);
        const inside = names();
        (await B.acquire())();
        rA();
        return inside;
      });
      assert.deepEqual(held, ["A"]);
      assertGraph(["A -> B"]);
    });
  }

  test("inside a task, and while the caller holds P → {P → A, A → B}", async () => {
    const [P, A, B] = [mutex("P"), mutex("A"), mutex("B")];
    const [, lock] = helpers[0]!;
    await task("t", async () => {
      const rP = await P.acquire();
      const rA = await lock(A);
      assert.deepEqual(names(), ["P", "A"]);
      (await B.acquire())();
      rA();
      rP();
    });
    assert.deepEqual(lockEdges(), ["A -> B", "P -> A"]);
    assert.deepEqual(reportKinds(), []);
  });

  test("contended: the hold is handed over when it is granted", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const holder = await heldElsewhere(A);
    const rA = await (async () => A.acquire())();
    assert.deepEqual(names(), ["A"]);
    (await B.acquire())();
    rA();
    await holder.done;
    assertGraph(["A -> B"]);
  });

  test("contended, through .then chains (generic-pool's own tests' shape): the next link holds it", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const holder = await heldElsewhere(A);
    let release: (() => void) | undefined;
    let inside: string[] = [];
    await A.acquire()
      .then((r) => {
        release = r;
      })
      .then(async () => {
        inside = names();
        (await B.acquire())();
      });
    release!();
    await holder.done;
    assert.deepEqual(inside, ["A"]);
    assertGraph(["A -> B"]);
  });

  test("a client-like result: { release } after more awaits → {A → B}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const getClient = async () => {
      const release = await A.acquire();
      await macrotask();
      return { release };
    };
    const client = await getClient();
    (await B.acquire())();
    client.release();
    assertGraph(["A -> B"]);
  });

  test("two flows lock through helpers in opposite orders: circular-dependency", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const lockUser = async (m: Mutex) => m.acquire();
    const transfer = async (first: Mutex, second: Mutex) => {
      const r1 = await lockUser(first);
      const r2 = await lockUser(second);
      r2();
      r1();
    };
    await transfer(A, B);
    await transfer(B, A);
    assertGraph(["A -> B"], ["circular-dependency"]);
  });

  test("the caller releases the handed hold: nothing held after, no bad unlock", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const rA = await (async () => A.acquire())();
    rA();
    assert.deepEqual(names(), []);
    (await B.acquire())();
    assertGraph([]);
  });
});

describe("look-alikes that hand nothing over", () => {
  test("a gate resolved inside a critical section: the creator that awaits it holds nothing", () =>
    gateShape((resolve) => resolve()));

  test("a helper that releases before it returns hands over nothing", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const value = await (async () => {
      const r = await A.acquire();
      await macrotask();
      r();
      return 42;
    })();
    assert.equal(value, 42);
    assert.deepEqual(names(), []);
    (await B.acquire())();
    assertGraph([]);
  });

  test("a helper's promise awaited by another task: that task receives nothing", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const made = deferred<Promise<() => void>>();
    const done = deferred();
    const owner = task("owner", async () => {
      const locking = (async () => A.acquire())();
      made.resolve(locking);
      const r = await locking;
      await done.promise;
      r();
    });
    const other = task("other", async () => {
      await await made.promise;
      assert.deepEqual(names(), []);
      (await B.acquire())();
      done.resolve();
    });
    await Promise.all([owner, other]);
    assert.deepEqual(lockEdges(), []);
    assert.deepEqual(reportKinds(), []);
  });

  test("a helper's promise awaited by an unrelated callback flow: it receives nothing", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    let shared: Promise<() => void> | undefined;
    const done = deferred();
    const seen = deferred<string[]>();
    setImmediate(() => {
      void (async () => {
        const r0 = await A.acquire(); // this flow's first lock gives it a list of its own
        r0();
        shared = (async () => A.acquire())();
        const r = await shared;
        await done.promise;
        r();
      })();
    });
    await macrotask();
    await macrotask();
    setImmediate(() => {
      void (async () => {
        const r1 = await B.acquire();
        r1();
        await shared;
        seen.resolve(names());
        (await B.acquire())();
        done.resolve();
      })();
    });
    assert.deepEqual(await seen.promise, []);
    await done.promise;
    assertGraph([]);
  });
});

describe("an async generator's hold across yield", () => {
  async function* holding(A: Mutex, n: number): AsyncGenerator<number> {
    const release = await A.acquire();
    try {
      for (let i = 0; i < n; i++) yield i;
    } finally {
      release();
    }
  }

  test("the loop body holds what the generator holds at each yield → {A → B}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const seen: string[][] = [];
    for await (const i of holding(A, 3)) {
      void i;
      seen.push(names());
      (await B.acquire())();
    }
    assert.deepEqual(seen, [["A"], ["A"], ["A"]]);
    assert.deepEqual(names(), []);
    assertGraph(["A -> B"]);
  });

  test("a generator that releases before it yields: the loop body holds nothing → {}", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    async function* released(): AsyncGenerator<number> {
      for (let i = 0; i < 3; i++) {
        (await A.acquire())();
        yield i;
      }
    }
    for await (const i of released()) {
      void i;
      assert.deepEqual(names(), []);
      (await B.acquire())();
    }
    assertGraph([]);
  });
});

describe("what settles a promise, and what it settles for", () => {
  test("a gate opened through .then(resolve) — V8 calls the resolve function — is a signal", () =>
    gateShape((resolve) => void Promise.resolve().then(resolve)));

  test("a gate opened from a timer is a signal", () =>
    gateShape((resolve) => setImmediate(resolve)));

  test("with another settled hook installed (an APM agent's), a gate is still a signal and a helper's return still a result", async () => {
    const stop = promiseHooks.onSettled(() => {});
    try {
      await gateShape((resolve) => resolve());
      fresh();
      const [A, B] = [mutex("A"), mutex("B")];
      await task("t", async () => {
        const rA = await (async () => {
          const r = await A.acquire();
          await null;
          return r;
        })();
        assert.deepEqual(names(), ["A"]);
        (await B.acquire())();
        rA();
      });
      assert.deepEqual(lockEdges(), ["A -> B"]);
    } finally {
      stop();
    }
  });

  test("a frozen promise awaited while holding a lock: no crash, nothing handed", async () => {
    const [A] = [mutex("A")];
    const READY = Object.freeze(Promise.resolve(1));
    const r = await A.acquire();
    assert.equal(await READY, 1);
    const pending = Object.freeze(
      (async () => {
        await macrotask();
        return 2;
      })(),
    );
    assert.equal(await pending, 2);
    assert.deepEqual(names(), ["A"]);
    r();
    assertGraph([]);
  });

  test("a long-lived settled promise awaited by many flows keeps none of their continuations", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const A = mutex("A");
    const ready = Promise.resolve("config");
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 20; i++)
      await task(`flow ${i}`, async () => {
        (await A.acquire())();
        const big = { payload: new Array(10_000).fill(i) };
        refs.push(new WeakRef(big));
        await ready.then(() => big);
      });
    for (let i = 0; i < 10 && refs.some((r) => r.deref() !== undefined); i++) {
      await macrotask();
      gc();
    }
    assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0);
  });
});
