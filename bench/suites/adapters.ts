// Adapters (issue 4): another library's lock or limiter, adapted to report to waitgraph with
// tracking on, against the same library unwrapped. The adapter is the tsc output of
// src/adapters/<lib>.ts (what `waitgraph/adapters/<lib>` resolves to once built); the plain
// library comes from node_modules.
import type { Bench, Loop, Suite } from "../harness.js";
import {
  buildDir,
  importRepoFile,
  noTracker,
  tracked,
  waitgraph,
  type WaitgraphModule,
} from "../subjects.js";

const ISSUE_4 = "issue 4";

type Release = () => void;
interface Lock {
  acquire(): Promise<Release>;
}
type Limit = (fn: () => Promise<void>) => Promise<void>;
type LimitFactory = (concurrency: number) => Limit;

/** `const r = await m.acquire(); r()` — one uncontended acquire/release pair. */
function uncontended(m: Lock): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) {
      const release = await m.acquire();
      release();
    }
  };
}

const noop = async (): Promise<void> => {};

/** `await limit(async () => {})` with the limiter free. */
function limited(limit: Limit): Loop {
  return async (n) => {
    for (let i = 0; i < n; i++) await limit(noop);
  };
}

/** The built adapter, with tracking on (it shares the one tracker core). */
async function adapter<T>(
  name: string,
): Promise<{ wg: WaitgraphModule; mod: T }> {
  const wg = await waitgraph(true);
  const mod = await importRepoFile<T>(`${buildDir()}/dist/adapters/${name}.js`);
  return { wg, mod };
}

function limitFactory(
  mod: Record<string, unknown>,
  from: string,
): LimitFactory {
  const f = mod["default"] ?? mod["pLimit"];
  if (typeof f !== "function")
    throw new TypeError(
      `Expected ${from} to export a p-limit factory (default or pLimit), got exports ${Object.keys(mod).join(", ")}`,
    );
  return f as LimitFactory;
}

export const suite: Suite = { title: "Adapters", order: 3 };

export const benches: Bench[] = [
  {
    id: "adapter.async-mutex",
    title: "async-mutex adapted vs plain",
    op: "`const r = await m.acquire(); r()` on a free async-mutex Mutex",
    // Both variants take about 2 µs per op: half the iterations keep the run short.
    scale: 0.5,
    baseline: "plain",
    needs: { files: ["src/adapters/async-mutex.ts"] },
    variants: {
      plain: {
        label: "async-mutex 0.5.0, plain",
        load: async () => {
          const { Mutex } = await import("async-mutex");
          return { loop: uncontended(new Mutex()), check: noTracker };
        },
      },
      adapted: {
        label: "waitgraph/adapters/async-mutex, tracking on",
        load: async () => {
          const { wg, mod } = await adapter<{ Mutex: new () => Lock }>(
            "async-mutex",
          );
          return { loop: uncontended(new mod.Mutex()), check: tracked(wg) };
        },
      },
    },
    targets: [{ variant: "adapted", max: 2.5, source: ISSUE_4 }],
  },
  {
    id: "adapter.p-limit",
    title: "p-limit adapted vs plain",
    op: "`await limit(async () => {})` on `pLimit(1)` with nothing queued",
    baseline: "plain",
    needs: { files: ["src/adapters/p-limit.ts"] },
    variants: {
      plain: {
        label: "p-limit, plain",
        load: async () => {
          const mod = (await import("p-limit")) as Record<string, unknown>;
          return {
            loop: limited(limitFactory(mod, "p-limit")(1)),
            check: noTracker,
          };
        },
      },
      adapted: {
        label: "waitgraph/adapters/p-limit, tracking on",
        load: async () => {
          const { wg, mod } = await adapter<Record<string, unknown>>("p-limit");
          const pLimit = limitFactory(mod, "src/adapters/p-limit.ts");
          return { loop: limited(pLimit(1)), check: tracked(wg) };
        },
      },
    },
    targets: [{ variant: "adapted", max: 2.5, source: ISSUE_4 }],
  },
];
