// Lock workloads (issue 2): the waitgraph Mutex, RwLock and Semaphore tracked, untracked and with
// tracking off, against async-mutex; and the cost of tracking to code that takes no locks.
import { createRequire } from "node:module";
import * as floor from "../floor/minimal-tracker.js";
import type { Bench, Loaded, Loop, Suite } from "../harness.js";
import {
  noTracker,
  off,
  on,
  tracked,
  untracked,
  waitgraph,
  type WaitgraphModule,
} from "../subjects.js";

type Release = () => void;
interface Lock {
  acquire(): Promise<Release>;
}
interface Exclusive {
  runExclusive(fn: () => Promise<void>): Promise<void>;
}
type Primitives = Pick<WaitgraphModule, "Mutex" | "RwLock" | "Semaphore">;
type MutexModule = Pick<WaitgraphModule, "Mutex">;
type AsyncMutexModule = typeof import("async-mutex");

const ISSUE_2 = "issue 2";
const ISSUE_10 = "issue 10";

/** Keeps results alive so no loop is optimised away. */
export let sink = 0;

// ---- workloads: one function each, run against whichever lock a variant loads ---------------

/** `const r = await m.acquire(); r()` — one uncontended acquire/release pair. */
function uncontended(m: Lock): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const release = await m.acquire();
      release();
    }
  };
}

interface ReadLock {
  acquireRead(): Promise<Release>;
}

/** `const r = await rw.acquireRead(); r()` — one uncontended read pair. */
function readUncontended(rw: ReadLock): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const release = await rw.acquireRead();
      release();
    }
  };
}

/** Nested: A then B, released in reverse; 2 pairs per iteration, the same chain every time. */
function nested(a: Lock, b: Lock): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const ra = await a.acquire();
      const rb = await b.acquire();
      rb();
      ra();
    }
  };
}

/** A, then a lock `make()` makes for this iteration under it, then release both. */
function nestedFresh(a: Lock, make: () => Lock): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const b = make();
      const ra = await a.acquire();
      const rb = await b.acquire();
      rb();
      ra();
    }
  };
}

/** `new Mutex()`, kept alive until the next one replaces it. */
function construct(make: () => object): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) made = make();
  };
}
export let made: object | undefined;

const noop = async (): Promise<void> => {};

function runExclusive(m: Exclusive): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) await m.runExclusive(noop);
  };
}

/** 4 tasks share the lock and hold it across an await: every acquire but a few queues. */
function contended(m: Lock): Loop {
  return async (n) => {
    let left = n;
    const worker = async (): Promise<void> => {
      while (left > 0) {
        left--;
        const release = await m.acquire();
        await null;
        release();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };
}

const leaf = async (x: number): Promise<number> => {
  await null;
  return x + 1;
};

/** Await-heavy code that takes no lock: `s = await leaf(s)`. */
const ambient: Loop = async (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s = await leaf(s);
  sink += s;
};

/** The same loop while the task holds a lock (every promise made carries the held list). */
function ambientHeld(m: Lock): Loop {
  return async (n) => {
    const release = await m.acquire();
    await ambient(n);
    release();
  };
}

// ---- variants ---------------------------------------------------------------------------

const untrackedPrimitives = async (): Promise<Primitives> => ({
  ...(await untracked<MutexModule>("mutex")),
  ...(await untracked<Pick<WaitgraphModule, "RwLock">>("rwlock")),
  ...(await untracked<Pick<WaitgraphModule, "Semaphore">>("semaphore")),
});
const UNTRACKED = { untracked: ["mutex", "rwlock", "semaphore"] };

/** The same workload as untracked build, tracked build and (optionally) tracking off. */
function waitgraphVariants(
  workload: (lib: Primitives) => Loop,
  withOff: boolean,
  withoutWatchdog = false,
): Bench["variants"] {
  const variants: Bench["variants"] = {
    untracked: {
      label: "waitgraph, untracked build",
      needs: UNTRACKED,
      load: async () => ({
        loop: workload(await untrackedPrimitives()),
        check: noTracker,
      }),
    },
    tracked: {
      label: "waitgraph, tracking on",
      load: async () => {
        const wg = await waitgraph(true);
        return { loop: workload(wg), check: tracked(wg) };
      },
    },
  };
  // The live wait-for graph and its watchdog (deadlockTimeout) are on in "tracking on"; this
  // variant turns them off, so the pair shows what they cost where nothing (or something) blocks.
  if (withoutWatchdog)
    variants["noWatchdog"] = {
      label: "waitgraph, tracking on, `deadlockTimeout: false`",
      load: async () => {
        const wg = await waitgraph(true);
        wg.tracker.configure({ deadlockTimeout: false });
        return { loop: workload(wg), check: tracked(wg) };
      },
    };
  if (withOff)
    variants["off"] = {
      label: "waitgraph, `enabled: false`",
      load: async () => {
        const wg = await waitgraph(false);
        return { loop: workload(wg), check: off(wg) };
      },
    };
  return variants;
}

/**
 * async-mutex as an ES module imports it (the package's `import` condition, index.mjs) and,
 * where it matters, as CommonJS requires it (lib/, compiled differently and faster once warm).
 */
/**
 * The smallest tracker of waitgraph's design, tracked and not, each against its own mini mutex:
 * what the design itself costs on this machine, next to what waitgraph costs.
 */
function designFloor(): Bench["variants"] {
  const proof = (): string | undefined =>
    noTracker() ??
    (floor.checked > 0 ? undefined : "the minimal tracker checked nothing");
  return {
    floorRaw: {
      label: "design floor: its mini mutex, untracked",
      load: async () => ({
        loop: uncontended(new floor.MiniMutex()),
        check: () =>
          noTracker() ??
          (floor.checked === 0
            ? undefined
            : "the untracked mini mutex tracked"),
      }),
    },
    floor: {
      label: "design floor: minimal promise-hook tracker",
      load: async () => {
        floor.track();
        return { loop: uncontended(new floor.MiniMutex()), check: proof };
      },
    },
  };
}

function asyncMutex(
  workload: (lib: AsyncMutexModule) => Loop,
  withCommonJs = false,
): Bench["variants"] {
  const variants: Bench["variants"] = {
    asyncMutex: {
      label: "async-mutex 0.5.0",
      // About 1.8 µs per op (20× a waitgraph pair), and warm within 20 000 iterations.
      scale: 0.5,
      load: async (): Promise<Loaded> => ({
        loop: workload(await import("async-mutex")),
        check: noTracker,
      }),
    },
  };
  if (withCommonJs)
    variants["asyncMutexCjs"] = {
      label: "async-mutex 0.5.0, CommonJS build",
      // Its tslib-compiled acquire gets fast late, after some 400 000 iterations.
      scale: 2,
      load: async (): Promise<Loaded> => {
        const require = createRequire(import.meta.url);
        return {
          loop: workload(require("async-mutex") as AsyncMutexModule),
          check: noTracker,
        };
      },
    };
  return variants;
}

// ---- benches ----------------------------------------------------------------------------

export const suite: Suite = { title: "Locks", order: 1 };

export const benches: Bench[] = [
  {
    id: "mutex.uncontended",
    title: "Mutex, uncontended acquire/release",
    op: "`const r = await m.acquire(); r()` on a free mutex",
    baseline: "untracked",
    variants: {
      ...waitgraphVariants((lib) => uncontended(new lib.Mutex()), true, true),
      ...asyncMutex((lib) => uncontended(new lib.Mutex()), true),
      ...designFloor(),
    },
    derive: (m) => {
      const raw = m["floorRaw"];
      const tracked = m["floor"];
      if (raw === undefined || tracked === undefined) return [];
      return [
        `The design's floor (bench/floor/minimal-tracker.ts: promise hooks, a tagged acquire promise, a chain lookup, nothing else): **${(tracked / raw).toFixed(2)}×** its own untracked mutex (${tracked.toFixed(0)} vs ${raw.toFixed(0)} ns/op).`,
      ];
    },
    targets: [
      { variant: "tracked", max: 2.0, source: ISSUE_2 },
      { variant: "tracked", below: "asyncMutex", source: ISSUE_2 },
      { variant: "tracked", below: "asyncMutexCjs", source: ISSUE_2 },
      { variant: "off", max: 1.1, source: ISSUE_2 },
      { variant: "tracked", max: 2.2, source: ISSUE_10 },
      { variant: "off", max: 1.05, source: ISSUE_10 },
    ],
  },
  {
    id: "ambient",
    title: "Await-heavy code that takes no locks",
    op: "one `s = await leaf(s)` with `leaf = async x => { await null; return x + 1 }`",
    baseline: "none",
    variants: {
      none: {
        label: "waitgraph not loaded",
        load: async () => ({ loop: ambient, check: noTracker }),
      },
      off: {
        label: "waitgraph loaded, `enabled: false`",
        load: async () => {
          const wg = await waitgraph(false);
          return { loop: ambient, check: off(wg) };
        },
      },
      tracked: {
        label: "waitgraph, tracking on",
        load: async () => {
          const wg = await waitgraph(true);
          return { loop: ambient, check: on(wg) };
        },
      },
    },
    targets: [{ variant: "tracked", max: 2.0, source: ISSUE_2 }],
  },
  {
    id: "ambient.held",
    title: "Await-heavy code inside a critical section",
    op: "the ambient loop's `s = await leaf(s)`, run while the task holds a Mutex",
    baseline: "untracked",
    variants: waitgraphVariants((lib) => ambientHeld(new lib.Mutex()), false),
  },
  {
    id: "mutex.nested",
    title: "Chain-cache hit path: nested A then B",
    op: "one acquire/release pair; an iteration takes A, then B under it, and releases both (2 pairs), the same chain every time",
    opsPerIteration: 2,
    baseline: "untracked",
    variants: waitgraphVariants(
      (lib) =>
        nested(
          new lib.Mutex({ key: "bench.A" }),
          new lib.Mutex({ key: "bench.B" }),
        ),
      false,
    ),
  },
  {
    id: "mutex.miss",
    title: "Chain-cache miss path: a first-seen chain per iteration",
    op: "one iteration: make a Mutex, take A, take the new mutex under A, release both. *miss*: each new mutex has a fresh `LockClassKey`, so every iteration registers a class, validates a new chain (A → new) and adds an edge; *hit*: every new mutex shares one key",
    scale: 0.01,
    baseline: "hit",
    variants: {
      untracked: {
        label: "waitgraph, untracked build",
        needs: UNTRACKED,
        load: async () => {
          const { Mutex } = await untracked<MutexModule>("mutex");
          const a = new Mutex();
          return {
            loop: nestedFresh(a, () => new Mutex({ key: "bench.fresh" })),
            check: noTracker,
          };
        },
      },
      hit: {
        label: "tracking on, shared key (hit)",
        load: async () => {
          const wg = await waitgraph(true);
          const a = new wg.Mutex({ key: "bench.A" });
          const key = new wg.LockClassKey();
          return {
            loop: nestedFresh(a, () => new wg.Mutex({ key })),
            check: tracked(wg, "hit"),
          };
        },
      },
      missNamed: {
        label: "tracking on, fresh named key (miss)",
        load: async () => {
          const wg = await waitgraph(true);
          const a = new wg.Mutex({ key: "bench.A" });
          return {
            loop: nestedFresh(
              a,
              () => new wg.Mutex({ key: new wg.LockClassKey("fresh") }),
            ),
            beforeBatch: () => wg.tracker.reset(),
            check: tracked(wg, "miss"),
          };
        },
      },
      miss: {
        label: "tracking on, fresh key (miss)",
        load: async () => {
          const wg = await waitgraph(true);
          const a = new wg.Mutex({ key: "bench.A" });
          return {
            loop: nestedFresh(
              a,
              () => new wg.Mutex({ key: new wg.LockClassKey() }),
            ),
            // A bounded graph per batch: every batch measures misses into a graph of the same size.
            beforeBatch: () => wg.tracker.reset(),
            check: tracked(wg, "miss"),
          };
        },
      },
    },
    derive: (m) => {
      const named = m["missNamed"];
      const hit = m["hit"];
      const lines: string[] = [];
      if (m["miss"] !== undefined && hit !== undefined)
        lines.push(
          `Cost of one first-seen chain with a new class (miss − hit): **${((m["miss"] - hit) / 1000).toFixed(1)} µs**.`,
        );
      if (named !== undefined && hit !== undefined)
        lines.push(
          `The same with a named key (\`new LockClassKey("fresh")\`): **${((named - hit) / 1000).toFixed(1)} µs**.`,
        );
      return lines;
    },
    notes: [
      "Each process calls `tracker.reset()` before every timed batch, so every batch adds its first-seen chains to an empty graph.",
    ],
  },
  {
    id: "mutex.construct",
    title: "Making a Mutex",
    op: "`new Mutex()` (the miss and hit paths above make one per iteration)",
    baseline: "untracked",
    variants: {
      untracked: {
        label: "waitgraph, untracked build",
        needs: UNTRACKED,
        load: async () => {
          const { Mutex } = await untracked<MutexModule>("mutex");
          return { loop: construct(() => new Mutex()), check: noTracker };
        },
      },
      tracked: {
        label: "tracking on, class from the construction site",
        scale: 0.1,
        load: async () => {
          const wg = await waitgraph(true);
          return { loop: construct(() => new wg.Mutex()), check: on(wg) };
        },
      },
      keyed: {
        label: 'tracking on, `{ key: "bench.construct" }`',
        scale: 0.1,
        load: async () => {
          const wg = await waitgraph(true);
          const opts = { key: "bench.construct" };
          return { loop: construct(() => new wg.Mutex(opts)), check: on(wg) };
        },
      },
      off: {
        label: "waitgraph, `enabled: false`",
        scale: 0.1,
        load: async () => {
          const wg = await waitgraph(false);
          return { loop: construct(() => new wg.Mutex()), check: off(wg) };
        },
      },
    },
  },
  {
    id: "mutex.runExclusive",
    title: "Mutex.runExclusive",
    op: "`await m.runExclusive(async () => {})` on a free mutex",
    baseline: "untracked",
    variants: {
      ...waitgraphVariants((lib) => runExclusive(new lib.Mutex()), false),
      ...asyncMutex((lib) => runExclusive(new lib.Mutex())),
    },
  },
  {
    id: "mutex.contended",
    title: "Mutex, contended",
    op: "one acquire/release pair; 4 tasks share the mutex and each holds it across an `await null`",
    baseline: "untracked",
    variants: {
      ...waitgraphVariants((lib) => contended(new lib.Mutex()), false, true),
      ...asyncMutex((lib) => contended(new lib.Mutex())),
    },
  },
  {
    id: "rwlock.read",
    title: "RwLock, uncontended read",
    op: "`const r = await rw.acquireRead(); r()`",
    baseline: "untracked",
    variants: waitgraphVariants(
      (lib) => readUncontended(new lib.RwLock()),
      false,
    ),
  },
  {
    id: "semaphore",
    title: "Semaphore(4), uncontended",
    op: "`const r = await s.acquire(); r()` with permits free",
    baseline: "untracked",
    variants: {
      ...waitgraphVariants((lib) => uncontended(new lib.Semaphore(4)), false),
      ...asyncMutex((lib) => {
        const s = new lib.Semaphore(4);
        return async (n) => {
          for (let i = 0; i < n; i++) {
            const [, release] = await s.acquire();
            release();
          }
        };
      }),
    },
  },
];
