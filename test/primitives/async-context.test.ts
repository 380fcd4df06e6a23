// The async context survives queueing (p-limit keeps the same test for AsyncLocalStorage): a
// contended waiter is granted from inside the releaser's code, yet the work it runs afterwards
// holds the waiter's own locks plus the one it waited for, never the releaser's.
//
//   task A: holds X, holds M ........ releases M (still holding X)
//   task B: holds Y, waits for M ...................... granted: holds Y, M — not X
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  heldLocks,
  Mutex,
  RwLock,
  Semaphore,
  task,
  tracker,
  type Guard,
  type Release,
} from "../../src/index.js";
import { flush } from "./support.js";

/** What a task holds, bottom first; read holds marked `(r)`. */
function held(): string[] {
  return heldLocks().map((h) => (h.read === 0 ? h.name : `${h.name}(r)`));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** One side of a lock, under test: how to take it and what the holder sees it as. */
interface Side {
  acquire(): Promise<Release>;
  lock(): Promise<Guard>;
  run<T>(fn: () => Promise<T>): Promise<T>;
  shows: string;
}

type Style = (m: Side, body: () => Promise<void>) => Promise<void>;

const styles: Record<string, Style> = {
  "const release = await acquire()": async (m, body) => {
    const release = await m.acquire();
    try {
      await body();
    } finally {
      release();
    }
  },
  "acquire().then(release => …)": (m, body) =>
    m.acquire().then(async (release) => {
      try {
        await body();
      } finally {
        release();
      }
    }),
  "runExclusive(fn)": (m, body) => m.run(body),
  "await using guard = await lock()": async (m, body) => {
    await using guard = await m.lock();
    void guard;
    await body();
  },
};

const sides: Record<string, () => { holder: Side; waiter: Side }> = {
  Mutex: () => {
    const m = new Mutex({ key: "M" });
    const side: Side = {
      acquire: () => m.acquire(),
      lock: () => m.lock(),
      run: (fn) => m.runExclusive(fn),
      shows: "M",
    };
    return { holder: side, waiter: side };
  },
  Semaphore: () => {
    const s = new Semaphore(2, { key: "M" });
    const side: Side = {
      acquire: () => s.acquire({ weight: 2 }),
      lock: () => s.lock({ weight: 2 }),
      run: (fn) => s.runExclusive(fn, { weight: 2 }),
      shows: "M",
    };
    return { holder: side, waiter: side };
  },
  "RwLock write after write": () => {
    const rw = new RwLock({ key: "M" });
    const write: Side = {
      acquire: () => rw.acquireWrite(),
      lock: () => rw.lockWrite(),
      run: (fn) => rw.runWrite(fn),
      shows: "M",
    };
    return { holder: write, waiter: write };
  },
  "RwLock read after write": () => {
    const rw = new RwLock({ key: "M" });
    return {
      holder: {
        acquire: () => rw.acquireWrite(),
        lock: () => rw.lockWrite(),
        run: (fn) => rw.runWrite(fn),
        shows: "M",
      },
      waiter: {
        acquire: () => rw.acquireRead(),
        lock: () => rw.lockRead(),
        run: (fn) => rw.runRead(fn),
        shows: "M(r)",
      },
    };
  },
  "RwLock write after read": () => {
    const rw = new RwLock({ key: "M" });
    return {
      holder: {
        acquire: () => rw.acquireRead(),
        lock: () => rw.lockRead(),
        run: (fn) => rw.runRead(fn),
        shows: "M(r)",
      },
      waiter: {
        acquire: () => rw.acquireWrite(),
        lock: () => rw.lockWrite(),
        run: (fn) => rw.runWrite(fn),
        shows: "M",
      },
    };
  },
};

describe("the async context survives queueing", () => {
  before(() => tracker.configure({ enabled: true, policy: "silent" }));
  after(() => tracker.configure({ policy: "log" }));
  beforeEach(() => tracker.reset());

  for (const [sideName, make] of Object.entries(sides))
    for (const [styleName, style] of Object.entries(styles))
      it(`${sideName}, ${styleName}: the granted waiter holds its own locks, not the releaser's`, async () => {
        const { holder, waiter } = make();
        const X = new Mutex({ key: "X" });
        const Y = new Mutex({ key: "Y" });
        const gate = deferred();
        const seen: Record<string, string[]> = {};
        const a = task("A", async () => {
          const rx = await X.acquire();
          const rm = await holder.acquire();
          seen["releaser before"] = held();
          await gate.promise;
          rm();
          seen["releaser after release"] = held();
          await null;
          seen["releaser later"] = held();
          rx();
        });
        await flush();
        const b = task("B", async () => {
          const ry = await Y.acquire();
          await style(waiter, async () => {
            seen["waiter granted"] = held();
            await null;
            seen["waiter later"] = held();
            const children = await Promise.all([
              (async () => held())(),
              Promise.resolve().then(held),
            ]);
            seen["waiter's children"] = children.flat();
          });
          seen["waiter after release"] = held();
          ry();
        });
        await flush();
        assert.equal(seen["waiter granted"], undefined, "B must be queued");
        gate.resolve();
        await Promise.all([a, b]);
        const m = holder.shows;
        const w = waiter.shows;
        assert.deepEqual(seen, {
          "releaser before": ["X", m],
          "releaser after release": ["X"],
          "releaser later": ["X"],
          "waiter granted": ["Y", w],
          "waiter later": ["Y", w],
          "waiter's children": ["Y", w, "Y", w],
          "waiter after release": ["Y"],
        });
        assert.deepEqual(
          tracker.reports().map((r) => r.kind),
          [],
        );
      });

  it("hands a chain of waiters the lock, each with its own held list", async () => {
    const M = new Mutex({ key: "M" });
    const first = await M.acquire();
    const seen: string[][] = [];
    const waiters = ["P", "Q", "R"].map((name) => {
      const own = new Mutex({ key: name });
      return task(name, async () => {
        const mine = await own.acquire();
        await M.runExclusive(async () => {
          await null;
          seen.push(held());
        });
        mine();
      });
    });
    await flush();
    first();
    await Promise.all(waiters);
    assert.deepEqual(seen, [
      ["P", "M"],
      ["Q", "M"],
      ["R", "M"],
    ]);
  });

  it("gives a waiter granted because the head gave up its own locks", async () => {
    const M = new Semaphore(2, { key: "M" });
    const X = new Mutex({ key: "X" });
    const Y = new Mutex({ key: "Y" });
    const first = await M.acquire();
    const ac = new AbortController();
    let seen: string[] | undefined;
    const head = task("A", async () => {
      const rx = await X.acquire();
      await M.acquire({ weight: 2, signal: ac.signal }).catch(() => undefined);
      rx();
    });
    const behind = task("B", async () => {
      const ry = await Y.acquire();
      await M.runExclusive(async () => {
        await null;
        seen = held();
      });
      ry();
    });
    await flush();
    assert.equal(seen, undefined, "B waits behind A");
    ac.abort();
    await Promise.all([head, behind]);
    first();
    assert.deepEqual(seen, ["Y", "M"]);
  });

  it("gives a waiter granted from a timer callback its own locks", async () => {
    const M = new Mutex({ key: "M" });
    const Y = new Mutex({ key: "Y" });
    const first = await M.acquire();
    let seen: string[] | undefined;
    const b = task("B", async () => {
      const ry = await Y.acquire();
      const release = await M.acquire();
      seen = held();
      release();
      ry();
    });
    await flush();
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        first();
        resolve();
      }),
    );
    await b;
    assert.deepEqual(seen, ["Y", "M"]);
  });

  it("leaves a waiter that timed out holding only what it held before", async () => {
    const M = new Mutex({ key: "M" });
    const Y = new Mutex({ key: "Y" });
    const first = await M.acquire();
    let after: string[] | undefined;
    const b = task("B", async () => {
      const ry = await Y.acquire();
      const ac = new AbortController();
      const waiting = M.acquire({ signal: ac.signal });
      ac.abort("give up");
      await waiting.catch(() => undefined);
      after = held();
      ry();
    });
    await b;
    first();
    assert.deepEqual(after, ["Y"]);
    assert.equal(M.isLocked(), false);
  });
});

// Without promise hooks (WAITGRAPH_CONTEXT=als) a bare `await m.acquire()` cannot be seen
// (reference §3.3 D); callback style and `await using` must still survive queueing.
describe("the async context survives queueing (AsyncLocalStorage fallback)", () => {
  before(() =>
    tracker.configure({
      enabled: true,
      policy: "silent",
      context: "async-local-storage",
    }),
  );
  after(() => tracker.configure({ policy: "log", context: "promise-hooks" }));
  beforeEach(() => tracker.reset());

  const alsStyles = ["runExclusive(fn)", "await using guard = await lock()"];
  for (const [sideName, make] of Object.entries(sides))
    for (const styleName of alsStyles)
      it(`${sideName}, ${styleName}: the granted waiter holds its own locks, not the releaser's`, async () => {
        const style = styles[styleName]!;
        const { holder, waiter } = make();
        const X = new Mutex({ key: "X" });
        const Y = new Mutex({ key: "Y" });
        const gate = deferred();
        const seen: Record<string, string[]> = {};
        const a = task("A", () =>
          X.runExclusive(() =>
            holder.run(async () => {
              seen["releaser before"] = held();
              await gate.promise;
            }),
          ),
        );
        await flush();
        const b = task("B", () =>
          Y.runExclusive(async () => {
            await style(waiter, async () => {
              seen["waiter granted"] = held();
              await null;
              seen["waiter later"] = held();
            });
            seen["waiter after release"] = held();
          }),
        );
        await flush();
        assert.equal(seen["waiter granted"], undefined, "B must be queued");
        gate.resolve();
        await Promise.all([a, b]);
        assert.deepEqual(seen, {
          "releaser before": ["X", holder.shows],
          "waiter granted": ["Y", waiter.shows],
          "waiter later": ["Y", waiter.shows],
          "waiter after release": ["Y"],
        });
        assert.deepEqual(
          tracker.reports().map((r) => r.kind),
          [],
        );
      });
});
