// The graph shared beyond one isolate (issue 12): what a store adds to the local validator, per
// first-seen dependency and per chain-cache hit, against the same workload with no store in the
// same run. Stores measured in-process: the memory store (the shared graph's check and the wire
// encoding, no I/O) and the thread store as the main thread runs it once a worker has started
// (that plus a BroadcastChannel post per new dependency). Redis adds a network write per new
// dependency off the acquisition path (the outbox is sent in the background).
import type { Bench, Loop, Suite } from "../harness.js";
import {
  buildDir,
  importRepoFile,
  tracked,
  waitgraph,
  type WaitgraphModule,
} from "../subjects.js";

type Release = () => void;
interface Lock {
  acquire(): Promise<Release>;
}
interface Hub {
  entries: Map<string, string>;
}
type MemoryModule = {
  MemoryHub: new () => Hub;
  MemoryStore: new (hub: Hub) => object;
};
type ThreadsModule = {
  ThreadHub: new (
    onFirstWorker: () => Promise<void>,
    name?: string,
  ) => { log: unknown };
  ThreadStore: new (name: string, log: unknown) => object;
};

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

type StoreKind = "none" | "memory" | "threads";

interface Sharing {
  wg: WaitgraphModule;
  /** What the store was sent, for the check; undefined with no store. */
  sent: (() => number) | undefined;
}

/** waitgraph, tracking on, sharing through `kind` (connected before the loop). */
async function sharing(kind: StoreKind): Promise<Sharing> {
  const wg = await waitgraph(true);
  type Store = Parameters<typeof wg.connectStore>[0];
  let store: Store | undefined;
  if (kind === "memory") {
    const { MemoryHub, MemoryStore } = await importRepoFile<MemoryModule>(
      `${buildDir()}/dist/stores/memory.js`,
    );
    store = new MemoryStore(new MemoryHub()) as Store;
  } else if (kind === "threads") {
    const { ThreadHub, ThreadStore } = await importRepoFile<ThreadsModule>(
      `${buildDir()}/dist/stores/threads.js`,
    );
    const name = `waitgraph.bench/${process.pid}`;
    const hub = new ThreadHub(async () => {}, name);
    store = new ThreadStore(name, hub.log) as Store;
  }
  if (store === undefined) return { wg, sent: undefined };
  const handle = await wg.connectStore(store);
  return { wg, sent: () => handle.status().sent };
}

/** Proof that the store took part: it was sent at least `atLeast(lastBatch)` dependencies. */
function shared(
  { wg, sent }: Sharing,
  path: "hit" | "miss",
): (lastBatch: number) => string | undefined {
  const base = tracked(wg, path);
  return (lastBatch) => {
    const problem = base(lastBatch);
    if (problem !== undefined || sent === undefined) return problem;
    const want = path === "miss" ? lastBatch : 1;
    return sent() >= want
      ? undefined
      : `the store was sent ${sent()} dependencies, expected at least ${want}`;
  };
}

const LABELS: Record<StoreKind, string> = {
  none: "tracking on, no store (local graph only)",
  memory: "tracking on, memory store",
  threads: "tracking on, thread store (main thread, a worker started)",
};

let fresh = 0;

export const suite: Suite = { title: "Shared graph", order: 4 };

export const benches: Bench[] = [
  {
    id: "shared.miss",
    title: "A first-seen dependency, with and without a store",
    op: "one iteration: make a Mutex with a new string key, take A, take the new mutex under A, release both — a new class, a new chain and a new dependency A → new each time, which a store also checks and publishes",
    scale: 0.01,
    baseline: "none",
    variants: Object.fromEntries(
      (["none", "memory", "threads"] as const).map((kind) => [
        kind,
        {
          label: LABELS[kind],
          load: async () => {
            const subject = await sharing(kind);
            const wg = subject.wg;
            const a = new wg.Mutex({ key: "bench.A" });
            return {
              loop: nestedFresh(
                a,
                () => new wg.Mutex({ key: `bench.fresh ${fresh++}` }),
              ),
              // The local graph starts each batch empty; the shared one keeps growing, as a
              // store's does (up to ~15k classes in a run: below its 65,535 bound).
              beforeBatch: () => wg.tracker.reset(),
              check: shared(subject, "miss"),
            };
          },
        },
      ]),
    ),
    derive: (m) => {
      const none = m["none"];
      if (none === undefined) return [];
      return (["memory", "threads"] as const)
        .filter((k) => m[k] !== undefined)
        .map(
          (k) =>
            `Cost of the ${k} store per first-seen dependency (${k} − none): **${((m[k]! - none) / 1000).toFixed(1)} µs**.`,
        );
    },
    notes: [
      "Each process calls `tracker.reset()` before every timed batch (the local graph starts empty); the shared graph is not reset.",
    ],
  },
  {
    id: "shared.hit",
    title: "Chain-cache hit path with a store",
    op: "one acquire/release pair; an iteration takes A, then B under it, and releases both (2 pairs), the same chain every time — a store is not consulted",
    opsPerIteration: 2,
    baseline: "none",
    variants: Object.fromEntries(
      (["none", "memory", "threads"] as const).map((kind) => [
        kind,
        {
          label: LABELS[kind],
          load: async () => {
            const subject = await sharing(kind);
            const wg = subject.wg;
            return {
              loop: nested(
                new wg.Mutex({ key: "bench.A" }),
                new wg.Mutex({ key: "bench.B" }),
              ),
              check: shared(subject, "hit"),
            };
          },
        },
      ]),
    ),
  },
];
