// The one insert over stable class ids (src/core/id-graph.ts) that merge and the shared graph use.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEP_EN, DEP_SN, DEP_SR } from "../../src/core/graph.js";
import { IdGraph } from "../../src/core/id-graph.js";

test("A → B then B → A: the second closes a cycle and is not added; the path names who added A → B", () => {
  const g = new IdGraph<string>();
  assert.equal(g.tryAdd("A", "B", DEP_EN, false, "p1").kind, "added");
  const r = g.tryAdd("B", "A", DEP_EN, false, "p2");
  assert.deepEqual(r, { kind: "cycle", path: ["p1"] });
  assert.equal(g.edgeCount, 1);
});

test("a timed A → B closes nothing; the same bit untimed later is checked again and closes the cycle", () => {
  const g = new IdGraph<string>();
  assert.equal(g.tryAdd("B", "A", DEP_EN, false, "p1").kind, "added");
  assert.equal(g.tryAdd("A", "B", DEP_EN, true, "timed").kind, "added");
  assert.equal(g.tryAdd("A", "B", DEP_EN, true, "timed again").kind, "known");
  assert.deepEqual(g.tryAdd("A", "B", DEP_EN, false, "untimed"), {
    kind: "cycle",
    path: ["p1"],
  });
});

test("look-alike: a timed edge on the path is no cycle (it can delay, not deadlock)", () => {
  const g = new IdGraph<string>();
  g.tryAdd("A", "B", DEP_EN, true, "timed");
  assert.equal(g.tryAdd("B", "A", DEP_EN, false, "p2").kind, "added");
});

test("an edge widened by another isolate's bit credits the path to the bit the search used", () => {
  const g = new IdGraph<string>();
  g.tryAdd("A", "B", DEP_SR, false, "other"); // shared A, recursive read of B
  assert.equal(g.tryAdd("A", "B", DEP_EN, false, "own").kind, "widened");
  // B shared, then A: closes a strong cycle only through the exclusive EN bit of A → B.
  assert.deepEqual(g.tryAdd("B", "A", DEP_SN, false, "third"), {
    kind: "cycle",
    path: ["own"],
  });
});

test("look-alike: recursive readers both ways are no strong cycle", () => {
  const g = new IdGraph<string>();
  g.tryAdd("A", "B", DEP_SR, false, "p1");
  assert.equal(g.tryAdd("B", "A", DEP_SR, false, "p2").kind, "added");
});

test("bounds: past maxNodes or maxEdges an edge is refused as full, not added", () => {
  const nodes = new IdGraph<string>(2);
  nodes.tryAdd("A", "B", DEP_EN, false, "p");
  assert.equal(nodes.tryAdd("A", "C", DEP_EN, false, "p").kind, "full");
  const edges = new IdGraph<string>(100, Infinity, 1);
  edges.tryAdd("A", "B", DEP_EN, false, "p");
  assert.equal(edges.tryAdd("B", "C", DEP_EN, false, "p").kind, "full");
  assert.equal(edges.tryAdd("A", "B", DEP_SN, false, "p").kind, "widened");
});
