// Read/write locks against lockdep's strong-path rule (reference/lockdep-dept-semantics.md §1.6,
// worked examples in §2.6), on thousands of random runs with fixed seeds.
//
// Modes: W = write (read 0), r = non-recursive reader (read 1, an RwLock without
// `recursiveRead`), R = recursive reader (read 2, `recursiveRead: true`). Each edge prev → next
// carries lockdep's bits SR/ER/SN/EN; a path is strong when no edge ending in R (xR) is followed
// by an edge starting from a shared holder (Sx), and a strong cycle ⇔ a possible deadlock.
//
// The oracle, on plain data: a chain cache keyed by (class, read) (§1.7), an edge from the
// nearest held lock, and a complete search for a strong cycle through the new edge, over states
// (class, "the path so far ends in xR"). The validator must agree with it at every step (no
// missed cycle, no false cycle), with the same edge bits.
//
// waitgraph departs from the kernel here on purpose (src/core/graph.ts): lockdep's __bfs marks a
// class on first reach, before the strong-path filter, and so misses strong cycles whose only
// strong path goes through a class first reached by an xR edge. A model of that first-reach
// search is kept below to show such cases exist in these runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DeadlockError,
  RwLock,
  heldLocks,
  tracker,
  type Release,
} from "../../src/index.js";

type Mode = 0 | 1 | 2;
interface Step {
  cls: number;
  mode: Mode;
}
type Task = Step[];

const SR = 1,
  ER = 2,
  SN = 4,
  EN = 8;
const depBit = (prev: Mode, next: Mode) =>
  1 << ((prev === 0 ? 1 : 0) + (next !== 2 ? 2 : 0));

const CLASSES = 4;
const name = (c: number) => `rw${c}`;
const writerOrReader = Array.from(
  { length: CLASSES },
  (_, c) => new RwLock({ key: name(c) }),
);
const recursiveReader = Array.from(
  { length: CLASSES },
  (_, c) => new RwLock({ key: name(c), recursiveRead: true }),
);

function take(step: Step): Promise<Release> {
  if (step.mode === 0) return writerOrReader[step.cls]!.acquireWrite();
  if (step.mode === 1) return writerOrReader[step.cls]!.acquireRead();
  return recursiveReader[step.cls]!.acquireRead();
}

interface OEdge {
  to: number;
  dep: number;
}

class Oracle {
  readonly out = new Map<number, OEdge[]>();
  private readonly chains = new Map<string, boolean>();

  edge(from: number, to: number): OEdge | undefined {
    return this.out.get(from)?.find((e) => e.to === to);
  }

  /** The kernel's __bfs: each class marked on first reach, before the strong-path filter. */
  lockdepPath(root: number, rootOnlyXr: boolean, prev: Step): boolean {
    const visited = new Set([root]);
    const queue = [{ node: root, onlyXr: rootOnlyXr }];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      for (const e of this.out.get(at.node) ?? []) {
        if (visited.has(e.to)) continue;
        visited.add(e.to);
        let dep = e.dep;
        if (at.onlyXr) dep &= ~(SR | SN);
        if (dep === 0) continue;
        const onlyXr = (dep & (SN | EN)) === 0;
        if (e.to === prev.cls && (prev.mode === 0 || !onlyXr)) return true;
        queue.push({ node: e.to, onlyXr });
      }
    }
    return false;
  }

  /** Complete: is there any strong path root → … → prev that the edge prev → root closes strongly? */
  strongPath(root: number, rootOnlyXr: boolean, prev: Step): boolean {
    const seen = new Set<string>([`${root}:${rootOnlyXr}`]);
    const queue = [{ node: root, onlyXr: rootOnlyXr }];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      for (const e of this.out.get(at.node) ?? []) {
        let dep = e.dep;
        if (at.onlyXr) dep &= ~(SR | SN);
        if (dep === 0) continue;
        const onlyXr = (dep & (SN | EN)) === 0;
        if (e.to === prev.cls && (prev.mode === 0 || !onlyXr)) return true;
        const key = `${e.to}:${onlyXr}`;
        if (seen.has(key)) continue;
        seen.add(key);
        queue.push({ node: e.to, onlyXr });
      }
    }
    return false;
  }

  /**
   * One acquisition: whether it closes a strong cycle (the verdict, cached per chain), and
   * whether the kernel's first-reach search would have seen it.
   */
  acquire(held: Step[], next: Step): { cycle: boolean; firstReach: boolean } {
    const prev = held.at(-1);
    if (prev === undefined) return { cycle: false, firstReach: false };
    const key = [...held, next].map((s) => `${s.cls}/${s.mode}`).join(",");
    const known = this.chains.get(key);
    if (known !== undefined) {
      // A cached verdict is still right: the graph holds no strong cycle and only grows.
      assert.equal(this.strongPath(next.cls, next.mode === 2, prev), known);
      return { cycle: known, firstReach: known };
    }
    const cycle = this.strongPath(next.cls, next.mode === 2, prev);
    const firstReach = this.lockdepPath(next.cls, next.mode === 2, prev);
    this.chains.set(key, cycle);
    if (!cycle) {
      const bit = depBit(prev.mode, next.mode);
      const existing = this.edge(prev.cls, next.cls);
      if (existing !== undefined) existing.dep |= bit;
      else {
        let list = this.out.get(prev.cls);
        if (list === undefined) this.out.set(prev.cls, (list = []));
        list.push({ to: next.cls, dep: bit });
      }
    }
    return { cycle, firstReach };
  }

  edgeList(): string[] {
    const out: string[] = [];
    for (const [from, list] of this.out)
      for (const e of list)
        out.push(`${name(from)} -> ${name(e.to)} ${bits(e.dep)}`);
    return out.sort();
  }
}

function bits(dep: number): string {
  return (["SR", "ER", "SN", "EN"] as const)
    .filter((_, i) => (dep & (1 << i)) !== 0)
    .join("|");
}

const graphEdges = (): string[] =>
  tracker
    .snapshot()
    .edges.map((e) => {
      const dep =
        (e.read.SR ? SR : 0) |
        (e.read.ER ? ER : 0) |
        (e.read.SN ? SN : 0) |
        (e.read.EN ? EN : 0);
      return `${e.from} -> ${e.to} ${bits(dep)}`;
    })
    .sort();

const MODE = ["W", "r", "R"] as const;
const show = (s: Step) => `${MODE[s.mode]}(${name(s.cls)})`;

/** Runs the tasks; returns the steps where lockdep's first-reach search would miss the cycle. */
async function check(tasks: Task[]): Promise<string[]> {
  tracker.configure({ policy: "throw" });
  tracker.reset();
  const oracle = new Oracle();
  const firstReachMisses: string[] = [];
  for (const steps of tasks) {
    const held: Step[] = [];
    const releases: Release[] = [];
    try {
      for (const step of steps) {
        const expected = oracle.acquire(held, step);
        let error: unknown;
        let release: Release | undefined;
        try {
          release = await take(step);
        } catch (e) {
          error = e;
        }
        const at = `${show(step)} under [${held.map(show).join(", ")}]`;
        const reported = error !== undefined;
        if (reported) {
          assert.ok(error instanceof DeadlockError, at);
          assert.equal(error.report.kind, "circular-dependency", at);
        }
        assert.ok(
          !reported || expected.cycle,
          `false cycle (not strong): ${at}`,
        );
        assert.ok(reported || !expected.cycle, `missed strong cycle: ${at}`);
        if (expected.cycle && !expected.firstReach) firstReachMisses.push(at);
        if (!reported) {
          held.push(step);
          releases.push(release!);
          assert.deepEqual(
            heldLocks().map((h) => `${h.name}/${h.read}`),
            held.map((h) => `${name(h.cls)}/${h.mode}`),
            `held list: ${at}`,
          );
        } else break;
      }
    } finally {
      for (let i = releases.length - 1; i >= 0; i--) releases[i]!();
    }
  }
  assert.deepEqual(
    graphEdges(),
    oracle.edgeList(),
    "edges and their read bits",
  );
  return firstReachMisses;
}

const task: fc.Arbitrary<Task> = fc
  .uniqueArray(fc.integer({ min: 0, max: CLASSES - 1 }), {
    minLength: 1,
    maxLength: CLASSES,
  })
  .chain((classes) =>
    fc
      .array(fc.constantFrom<Mode>(0, 1, 2), {
        minLength: classes.length,
        maxLength: classes.length,
      })
      .map((modes) => classes.map((cls, i) => ({ cls, mode: modes[i]! }))),
  );
const runs = fc.array(task, { minLength: 1, maxLength: 12 });

test("read/write locks: a cycle is reported iff it is strong, at every step, with lockdep's edge bits (3000 random runs)", async () => {
  let firstReachMisses = 0;
  await fc.assert(
    fc.asyncProperty(runs, async (tasks) => {
      firstReachMisses += (await check(tasks)).length;
    }),
    { seed: 0x2ead, numRuns: 3000 },
  );
  // The runs include cycles that the kernel's first-reach search would have missed.
  assert.ok(firstReachMisses > 0);
});

/** `W(X) → R(Y)` and friends: each pair is one task taking its first lock, then its second. */
async function pairs(spec: string): Promise<string[]> {
  const parse = (s: string): Step => {
    const m = /^([WrR])\((\d)\)$/.exec(s.trim())!;
    return { mode: MODE.indexOf(m[1] as "W") as Mode, cls: Number(m[2]) };
  };
  const tasks = spec.split(",").map((pair) => pair.split("→").map(parse));
  await check(tasks);
  return tracker.reports().map((r) => r.kind);
}

// X = 0, Y = 1, Z = 2. R is a recursive reader, r a non-recursive one.
const examples: [string, string, string[]][] = [
  [
    "§2.6: R(X)→R(Y), then R(Y)→R(X) is no deadlock",
    "R(0)→R(1), R(1)→R(0)",
    [],
  ],
  [
    "§2.6: W(X)→R(Y), W(Y)→R(Z), W(Z)→R(X) is a deadlock",
    "W(0)→R(1), W(1)→R(2), W(2)→R(0)",
    ["circular-dependency"],
  ],
  [
    "§2.6: W(X)→W(Y), R(Y)→R(Z), R(Z)→W(X) is no deadlock",
    "W(0)→W(1), R(1)→R(2), R(2)→W(0)",
    [],
  ],
  [
    "§2.6: W(X)→R(Y), R(Y)→R(Z), W(Z)→W(X) is no deadlock",
    "W(0)→R(1), R(1)→R(2), W(2)→W(0)",
    [],
  ],
  [
    "§2.6: W(X)→W(Y), R(Y)→R(Z), W(Z)→R(X) is a deadlock",
    "W(0)→W(1), R(1)→R(2), W(2)→R(0)",
    ["circular-dependency"],
  ],
  [
    "§2.6: r(X)→r(Y), then r(Y)→r(X) (down_read ABBA) is a deadlock",
    "r(0)→r(1), r(1)→r(0)",
    ["circular-dependency"],
  ],
  [
    "§1.7: after R(X)→R(Y), the allowed chain W(Y)→R(X) is cached by read mode and does not hide W(Y)→W(X), a deadlock",
    "R(0)→R(1), W(1)→R(0), W(1)→W(0)",
    ["circular-dependency"],
  ],
];
for (const [title, spec, kinds] of examples)
  test(`worked example ${title}`, async () => {
    assert.deepEqual(await pairs(spec), kinds);
  });

test("a strong cycle whose only strong path goes through a class first reached by an xR edge is reported (lockdep's first-reach BFS misses it)", async () => {
  // N0 = 0, X = 1, Y = 2, P = 3. Edges in this order: N0 -ER-> X, N0 -EN-> Y, Y -EN-> X,
  // X -SN-> P; then W(P)→W(N0) closes P -EN-> N0 -EN-> Y -EN-> X -SN-> P.
  // Deadlock: T1 holds P, wants N0; T2 holds N0, wants Y; T3 holds Y, wants X for write;
  // T4 holds X for read, wants P.
  const tasks = "W(0)→R(1), W(0)→W(2), W(2)→W(1), R(1)→W(3), W(3)→W(0)";
  assert.deepEqual(await pairs(tasks), ["circular-dependency"]);
  const cycle = tracker.reports()[0]!;
  assert.equal(cycle.kind, "circular-dependency");
  if (cycle.kind === "circular-dependency")
    assert.deepEqual(
      cycle.cycle.map((c) => c.name),
      ["rw0", "rw2", "rw1", "rw3"],
    );
});
