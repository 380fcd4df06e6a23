// src/core/pearce-kelly.ts on its own: after any sequence of edge insertions, `respects(a, b)`
// is only true when no path b → … → a exists (so skipping the cycle search for a → b is safe),
// every edge of an acyclic graph respects the order, and the order is given up exactly when an
// insertion closes a cycle. Reachability is brute force. Fixed seeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TopologicalOrder } from "../../src/core/pearce-kelly.js";

class Graph {
  readonly out: Set<number>[];
  readonly inn: Set<number>[];
  constructor(readonly n: number) {
    this.out = Array.from({ length: n }, () => new Set<number>());
    this.inn = Array.from({ length: n }, () => new Set<number>());
  }
  add(from: number, to: number): void {
    this.out[from]!.add(to);
    this.inn[to]!.add(from);
  }
  reaches(from: number, to: number): boolean {
    const seen = new Set([from]);
    const stack = [from];
    while (stack.length > 0) {
      const n = stack.pop()!;
      for (const m of this.out[n]!) {
        if (m === to) return true;
        if (!seen.has(m)) {
          seen.add(m);
          stack.push(m);
        }
      }
    }
    return false;
  }
  hasCycle(): boolean {
    for (let a = 0; a < this.n; a++) if (this.reaches(a, a)) return true;
    return false;
  }
}

function replay(n: number, inserts: [number, number][]): void {
  const order = new TopologicalOrder();
  for (let i = 0; i < n; i++) order.addNode(i);
  const g = new Graph(n);
  for (const [from, to] of inserts) {
    const wasAcyclic = order.acyclic;
    const isNew = !g.out[from]!.has(to);
    g.add(from, to);
    if (isNew)
      order.inserted(
        from,
        to,
        (x) => g.out[x]!,
        (x) => g.inn[x]!,
      );
    const cyclic = g.hasCycle();
    assert.equal(
      order.acyclic,
      !cyclic,
      `after ${from} -> ${to}: usable order ⇔ acyclic graph`,
    );
    if (!wasAcyclic) assert.equal(order.acyclic, false, "never usable again");
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        if (a === b) continue;
        if (order.respects(a, b))
          assert.ok(
            !g.reaches(b, a),
            `respects(${a}, ${b}) but ${b} reaches ${a} after ${JSON.stringify(inserts)}`,
          );
        if (!cyclic && g.out[a]!.has(b))
          assert.ok(order.respects(a, b), `edge ${a} -> ${b} not in order`);
      }
  }
}

const scenario = fc.integer({ min: 2, max: 9 }).chain((n) =>
  fc.tuple(
    fc.constant(n),
    fc.array(
      fc
        .tuple(
          fc.integer({ min: 0, max: n - 1 }),
          fc.integer({ min: 0, max: n - 1 }),
        )
        .filter(([a, b]) => a !== b),
      { maxLength: 30 },
    ),
  ),
);

test("respects(a, b) ⇒ no path b → a, after any random insertions (5000 runs)", () => {
  fc.assert(
    fc.property(scenario, ([n, inserts]) => replay(n, inserts)),
    { seed: 0x9ea7ce, numRuns: 5000 },
  );
});

test("only acyclic insertions keep the order usable: random DAG edges (low → high in a random permutation), 5000 runs", () => {
  const dag = fc.integer({ min: 2, max: 12 }).chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: n - 1 }),
          fc.integer({ min: 0, max: n - 1 }),
        ),
        { maxLength: 40 },
      ),
    ),
  );
  fc.assert(
    fc.property(dag, ([n, rank, pairs]) => {
      // Orient every pair along the hidden permutation: the graph stays acyclic whatever the
      // insertion order, so the order must stay usable and respect every edge.
      const edges = pairs
        .filter(([a, b]) => a !== b)
        .map(([a, b]): [number, number] =>
          rank[a]! < rank[b]! ? [a, b] : [b, a],
        );
      replay(n, edges);
    }),
    { seed: 0xda6, numRuns: 5000 },
  );
});

test("an edge against the initial order (2 → 1, then 1 → 0) re-numbers the region; 0 → 2, which closes a cycle, makes the order unusable", () => {
  const order = new TopologicalOrder();
  for (let i = 0; i < 3; i++) order.addNode(i);
  const g = new Graph(3);
  const insert = (a: number, b: number) => {
    g.add(a, b);
    order.inserted(
      a,
      b,
      (x) => g.out[x]!,
      (x) => g.inn[x]!,
    );
  };
  insert(2, 1);
  assert.equal(order.respects(2, 1), true);
  assert.equal(order.respects(1, 2), false);
  insert(1, 0);
  assert.equal(order.respects(2, 0), true);
  assert.equal(order.acyclic, true);
  insert(0, 2);
  assert.equal(order.acyclic, false);
  assert.equal(order.respects(0, 1), false);
});
