// Waits and events (issue 3): Completion wait/complete and deferred resolve/await, tracked
// against their untracked builds. The waiter is a task of its own (`task()`), as in real
// producer/consumer code, and it waits before the event happens: every iteration the tracked
// build records a real wait and raises an event that has a waiter.
import type { Bench, Loop, Suite } from "../harness.js";
import {
  noTracker,
  on,
  untracked,
  waitgraph,
  type WaitgraphModule,
} from "../subjects.js";

const ISSUE_3 = "issue 3";
const ISSUE_10 = "issue 10";

/** For tracked variants measured at many µs per op: a tenth of the iterations. */
const SLOW = 0.1;

interface CompletionLike {
  wait(): Promise<void>;
  complete(): void;
}
type Deferred = (opts?: object) => {
  promise: Promise<Link>;
  resolve(value: Link): void;
};
type CompletionModule = { Completion: new () => CompletionLike };
type DeferredModule = { deferred: Deferred };

/** Keeps results alive so no loop is optimised away. */
export let sink = 0;

/** Starts `fn` as a task of its own: `task()` when tracked; a plain call (what `task()` does untracked). */
type Spawn = (name: string, fn: () => Promise<void>) => Promise<void>;
const call: Spawn = (_name, fn) => fn();

/**
 * A consumer task waits on the completion n times; the producer (the calling task) completes
 * it n times, yielding after each. The consumer is always waiting before `complete()` comes:
 * every iteration is a real wait on the event and the event that ends it.
 */
function completion(c: CompletionLike, spawn: Spawn): Loop {
  return async (n) => {
    const consumer = spawn("consumer", async () => {
      for (let i = 0; i < n; i++) await c.wait();
    });
    for (let i = 0; i < n; i++) {
      c.complete();
      await null;
    }
    await consumer;
  };
}

interface Link {
  value: number;
  next: ReturnType<Deferred>;
}

/**
 * A consumer task awaits a deferred n times; each resolves to a value and the next deferred.
 * The producer (the calling task) resolves them in turn, yielding after each; the consumer is
 * always awaiting the deferred before it is resolved.
 */
function deferredLoop(deferred: Deferred, spawn: Spawn): Loop {
  return async (n) => {
    let d = deferred();
    // Handed over once and dropped, so no variable keeps the chain of deferreds alive.
    const handoff: { first: ReturnType<Deferred> | undefined } = { first: d };
    const consumer = spawn("consumer", async () => {
      let s = 0;
      let cur = handoff.first!;
      handoff.first = undefined;
      for (let i = 0; i < n; i++) {
        const link = await cur.promise;
        s += link.value;
        cur = link.next;
      }
      sink += s;
    });
    for (let i = 0; i < n; i++) {
      const next = deferred();
      d.resolve({ value: i, next });
      d = next;
      await null;
    }
    await consumer;
  };
}

/** The tracked build's check for event workloads: tracking on, and no report made. */
function trackedEvents(wg: WaitgraphModule): () => string | undefined {
  const tracking = on(wg);
  return () => {
    const problem = tracking();
    if (problem !== undefined) return problem;
    const reports = wg.tracker.reports();
    if (reports.length > 0)
      return `the workload made reports: ${reports.map((r) => r.kind).join(", ")}`;
    if (wg.tracker.stats().classes === 0)
      return "the tracked variant registered no event class";
    return undefined;
  };
}

export const suite: Suite = { title: "Waits and events", order: 2 };

export const benches: Bench[] = [
  {
    id: "completion",
    title: "Completion wait/complete",
    op: "a consumer task's `await c.wait()` and the producer's `c.complete()` that ends it (the producer yields with `await null` after each)",
    baseline: "untracked",
    needs: { files: ["src/primitives/completion.ts"] },
    variants: {
      untracked: {
        label: "waitgraph, untracked build",
        needs: { untracked: ["completion"] },
        load: async () => {
          const { Completion } =
            await untracked<CompletionModule>("completion");
          return { loop: completion(new Completion(), call), check: noTracker };
        },
      },
      tracked: {
        label: "waitgraph, tracking on",
        load: async () => {
          const wg = await waitgraph(true);
          const { Completion } = wg as unknown as CompletionModule;
          return {
            loop: completion(new Completion(), wg.task),
            check: trackedEvents(wg),
          };
        },
      },
      unvalidated: {
        label: "tracking on, `validate: false` (hooks and tasks, no DEPT)",
        load: async () => {
          const wg = await waitgraph(true);
          const { Completion } = wg as unknown as {
            Completion: new (o: object) => CompletionLike;
          };
          const tracking = on(wg);
          return {
            loop: completion(new Completion({ validate: false }), wg.task),
            check: () =>
              tracking() ??
              (wg.tracker.stats().edges === 0
                ? undefined
                : "the unvalidated completion added edges"),
          };
        },
      },
    },
    notes: [
      "*`validate: false`*: the same loop with the completion's class exempt (DEPT's nocheck map): the promise hooks and the consumer task's context are paid, the waits and events are not recorded. What is left of the 2.0× budget for DEPT itself is the gap between this row and the target.",
    ],
    targets: [
      { variant: "tracked", max: 2.0, source: ISSUE_3 },
      { variant: "tracked", max: 2.2, source: ISSUE_10 },
    ],
  },
  {
    id: "deferred",
    title: "deferred() resolve/await",
    op: "a consumer task's `await d.promise` and the producer's `d.resolve(…)` that ends it (each deferred resolves to the next one; the producer yields with `await null` after each)",
    baseline: "untracked",
    needs: { files: ["src/primitives/deferred.ts"] },
    variants: {
      untracked: {
        label: "waitgraph, untracked build",
        needs: { untracked: ["deferred"] },
        load: async () => {
          const { deferred } = await untracked<DeferredModule>("deferred");
          return { loop: deferredLoop(deferred, call), check: noTracker };
        },
      },
      tracked: {
        label: "waitgraph, tracking on",
        scale: SLOW,
        load: async () => {
          const wg = await waitgraph(true);
          const { deferred } = wg as unknown as DeferredModule;
          return {
            loop: deferredLoop(deferred, wg.task),
            check: trackedEvents(wg),
          };
        },
      },
      keyed: {
        label: "waitgraph, tracking on, `deferred({ key })`",
        load: async () => {
          const wg = await waitgraph(true);
          const { deferred } = wg as unknown as DeferredModule;
          const keyed = () => deferred({ key: "bench.deferred" });
          return {
            loop: deferredLoop(keyed, wg.task),
            check: trackedEvents(wg),
          };
        },
      },
    },
    notes: [
      "`deferred()` without a `key` takes its class from its construction site, found from a stack capture at every call; `deferred({ key })` names the class and skips it.",
    ],
    targets: [{ variant: "tracked", max: 2.0, source: ISSUE_3 }],
  },
];
