// The validator against a brute-force oracle, on thousands of random lock orders (fixed seeds).
//
// A run is a sequence of tasks, run one after another (so nothing ever blocks). Each task takes
// a random ordered list of distinct lock classes, nested, and releases them in reverse. Under
// `policy: 'throw'` the acquisition that would close a cycle rejects with a DeadlockError; the
// task then releases what it holds and ends.
//
// The oracle models lockdep (reference/lockdep-dept-semantics.md §1.5, §1.7) with plain data:
//  * a chain is the ordered held class list plus the class being taken; a chain that was
//    validated before is not checked again (and a bad one rejects again);
//  * edges come from each trylock directly below the new lock and then from the first ordinary
//    held lock; deeper locks reach the new one transitively;
//  * an edge prev → next closes a cycle iff next already reaches prev (brute-force DFS);
//    the closing edge is never inserted;
//  * a trylock is never validated (and never rejected), but it is held.
// Per step the verdicts must agree exactly (no missed cycle, no false cycle), the held lists
// must agree, and at the end of each run the graph's edge set must equal the oracle's.
//
// An acquisition may also go through the shapes real code wraps it in — an async helper that
// returns the releaser (at once or after an await), a `.then`, an async generator that yields
// it: the lock is the caller's all the same (holds follow resolution, context.ts), so the
// oracle does not change.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DeadlockError,
  Mutex,
  heldLocks,
  tracker,
  type Release,
} from "../../src/index.js";

interface Step {
  cls: number;
  trylock: boolean;
  /** How the task asks for it (index into `shapes`); direct when absent. */
  via?: number;
}

const shapes: ((m: Mutex) => Promise<Release>)[] = [
  (m) => m.acquire(),
  (m) => (async () => m.acquire())(),
  (m) =>
    (async () => {
      const release = await m.acquire();
      await null;
      return release;
    })(),
  (m) => m.acquire().then((release) => release),
  async (m) => {
    const held = (async function* () {
      yield await m.acquire();
    })();
    return (await held.next()).value as Release;
  },
];
type Task = Step[];

const CLASSES = 5;
const name = (c: number) => `c${c}`;
const locks = Array.from(
  { length: CLASSES },
  (_, c) => new Mutex({ key: name(c) }),
);

/** lockdep's model of one run, with brute-force reachability. */
class Oracle {
  readonly edges = new Map<number, Set<number>>();
  private readonly chains = new Map<
    string,
    { validated: boolean; bad: boolean }
  >();

  reaches(from: number, to: number): boolean {
    const seen = new Set<number>([from]);
    const stack = [from];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === to) return true;
      for (const m of this.edges.get(n) ?? [])
        if (!seen.has(m)) {
          seen.add(m);
          stack.push(m);
        }
    }
    return false;
  }

  /** Shortest number of edges from `from` to `to` (BFS), or -1. */
  distance(from: number, to: number): number {
    const dist = new Map<number, number>([[from, 0]]);
    const queue = [from];
    for (let head = 0; head < queue.length; head++) {
      const n = queue[head]!;
      if (n === to) return dist.get(n)!;
      for (const m of this.edges.get(n) ?? [])
        if (!dist.has(m)) {
          dist.set(m, dist.get(n)! + 1);
          queue.push(m);
        }
    }
    return -1;
  }

  hasEdge(from: number, to: number): boolean {
    return this.edges.get(from)?.has(to) ?? false;
  }

  /** One acquisition attempt of `next` under `held` (bottom first): "ok" or "cycle". */
  acquire(held: Step[], next: Step): "ok" | "cycle" {
    // A held trylock is part of the key: it changes which edges the chain adds.
    const key = [
      ...held.map((h) => `${h.cls}${h.trylock ? "t" : ""}`),
      next.cls,
    ].join(",");
    let chain = this.chains.get(key);
    if (next.trylock) {
      if (chain === undefined)
        this.chains.set(key, { validated: false, bad: false });
      return "ok";
    }
    if (chain?.validated === true) return chain.bad ? "cycle" : "ok";
    if (chain === undefined) {
      chain = { validated: false, bad: false };
      this.chains.set(key, chain);
    }
    chain.validated = true;
    for (let i = held.length - 1; i >= 0; i--) {
      const prev = held[i]!;
      if (this.reaches(next.cls, prev.cls)) {
        chain.bad = true;
        return "cycle";
      }
      let out = this.edges.get(prev.cls);
      if (out === undefined) this.edges.set(prev.cls, (out = new Set()));
      out.add(next.cls);
      if (!prev.trylock) break;
    }
    return "ok";
  }

  edgeList(): string[] {
    const out: string[] = [];
    for (const [from, tos] of this.edges)
      for (const to of tos) out.push(`${name(from)} -> ${name(to)}`);
    return out.sort();
  }
}

const graphEdges = (): string[] =>
  tracker
    .snapshot()
    .edges.map((e) => `${e.from} -> ${e.to}`)
    .sort();

async function check(tasks: Task[]): Promise<void> {
  tracker.configure({ policy: "throw" });
  tracker.reset();
  const oracle = new Oracle();
  for (const steps of tasks) {
    const held: Step[] = [];
    const releases: Release[] = [];
    try {
      for (const step of steps) {
        const expected = oracle.acquire(held, step);
        const lock = locks[step.cls]!;
        const reportsBefore = tracker.reports().length;
        let release: Release | undefined;
        let error: unknown;
        try {
          release = step.trylock
            ? lock.tryAcquire()
            : await shapes[step.via ?? 0]!(lock);
        } catch (e) {
          error = e;
        }
        const at = `task ${JSON.stringify(steps)}, taking ${name(step.cls)}${step.trylock ? " (try)" : ""} under [${held.map((h) => name(h.cls)).join(", ")}]`;
        if (expected === "ok") {
          assert.equal(error, undefined, `false cycle: ${at}`);
          assert.ok(release, `trylock of a free lock failed: ${at}`);
          held.push(step);
          releases.push(release);
          assert.deepEqual(
            heldLocks().map((h) => h.name),
            held.map((h) => name(h.cls)),
            `held list: ${at}`,
          );
          continue;
        }
        assert.ok(error instanceof DeadlockError, `missed cycle: ${at}`);
        const report = error.report;
        assert.equal(report.kind, "circular-dependency", at);
        if (report.kind !== "circular-dependency") return;
        // The cycle is real: every edge but the closing one is in the graph, and the closing one
        // (prev → next) never is.
        const cycle = report.cycle.map((c) => Number(c.name.slice(1)));
        for (let i = 0; i + 1 < cycle.length; i++)
          assert.ok(
            oracle.hasEdge(cycle[i]!, cycle[i + 1]!),
            `cycle edge: ${at}`,
          );
        assert.ok(
          !oracle.hasEdge(cycle.at(-1)!, cycle[0]!),
          `closing edge: ${at}`,
        );
        // A new report shows a shortest cycle (BFS).
        if (tracker.reports().length > reportsBefore)
          assert.equal(
            cycle.length - 1,
            oracle.distance(cycle[0]!, cycle.at(-1)!),
            `shortest cycle: ${at}`,
          );
        break;
      }
    } finally {
      for (let i = releases.length - 1; i >= 0; i--) releases[i]!();
    }
  }
  assert.deepEqual(graphEdges(), oracle.edgeList(), "edge set");
}

const task = (withTry: boolean, wrapped = false): fc.Arbitrary<Task> =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: CLASSES - 1 }), {
      minLength: 1,
      maxLength: CLASSES,
    })
    .chain((classes) =>
      fc
        .array(
          fc.record({
            trylock: withTry ? fc.boolean() : fc.constant(false),
            via: wrapped
              ? fc.integer({ min: 0, max: shapes.length - 1 })
              : fc.constant(0),
          }),
          { minLength: classes.length, maxLength: classes.length },
        )
        .map((how) => classes.map((cls, i) => ({ cls, ...how[i]! }))),
    );

const run = (withTry: boolean, wrapped = false) =>
  fc.array(task(withTry, wrapped), { minLength: 1, maxLength: 10 });

test("a circular dependency is reported iff the class graph plus the closing edge has a cycle (mutexes, 3000 random runs)", async () => {
  await fc.assert(fc.asyncProperty(run(false), check), {
    seed: 0x5eed,
    numRuns: 3000,
  });
});

test("with trylocks mixed in (held, never validated; edges from each trylock directly below), the verdicts still match (3000 random runs)", async () => {
  await fc.assert(fc.asyncProperty(run(true), check), {
    seed: 0xacc01ade,
    numRuns: 3000,
  });
});

test("through helpers, .then and async generators mixed with trylocks, the verdicts still match (3000 random runs)", async () => {
  await fc.assert(fc.asyncProperty(run(true, true), check), {
    seed: 0x4e1de5,
    numRuns: 3000,
  });
});

test("a repeat of the same bad chain rejects again, and a new chain closing the same cycle is caught too", async () => {
  await check([
    [
      { cls: 0, trylock: false },
      { cls: 1, trylock: false },
    ],
    [
      { cls: 1, trylock: false },
      { cls: 0, trylock: false },
    ],
    [
      { cls: 1, trylock: false },
      { cls: 0, trylock: false },
    ],
    [
      { cls: 2, trylock: false },
      { cls: 1, trylock: false },
      { cls: 0, trylock: false },
    ],
  ]);
  assert.deepEqual(
    tracker.reports().map((r) => r.kind),
    ["circular-dependency"],
  );
});
