// Entries a store holds are anyone's writing: decode takes only what this version writes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, edgeField, encode } from "../../src/stores/wire.js";
import { edge } from "./compliance.js";

test("an edge survives encode and decode unchanged", () => {
  const e = edge("A", "B", "p1");
  assert.deepEqual(decode(encode(e)), e);
});

test("unknown properties are dropped, so a report built from the entry stays a valid @2 document", () => {
  const e = edge("A", "B", "p1");
  const text = JSON.stringify({
    v: 1,
    ...e,
    extra: 1,
    from: { ...e.from, extra: true },
    stack: [{ ...e.stack[0], extra: "x" }],
  });
  const got = decode(text)!;
  assert.deepEqual(got, e);
});

test("refused: another version, damaged JSON, bad bits, negative or fractional positions, huge entries, huge ids", () => {
  const e = edge("A", "B", "p1");
  const bad = [
    "{not json",
    JSON.stringify({ ...e, v: 2 }),
    JSON.stringify({ ...e, v: 1, dep: 0 }),
    JSON.stringify({ ...e, v: 1, dep: 16 }),
    JSON.stringify({ ...e, v: 1, stack: [{ ...e.stack[0], line: -1 }] }),
    JSON.stringify({ ...e, v: 1, stack: [{ ...e.stack[0], column: 1.5 }] }),
    JSON.stringify({ ...e, v: 1, task: "x".repeat(70_000) }),
    JSON.stringify({ ...e, v: 1, from: { ...e.from, id: "k".repeat(5000) } }),
    JSON.stringify({ ...e, v: 1, origin: { id: 1, name: "x" } }),
  ];
  for (const text of bad)
    assert.equal(decode(text), undefined, text.slice(0, 80));
});

test("long names are bounded as this process bounds its own", () => {
  const e = edge("A", "B", "p1");
  const got = decode(
    JSON.stringify({ ...e, v: 1, from: { ...e.from, name: "n".repeat(5000) } }),
  )!;
  assert.ok(got.from.name.length < 300);
  assert.match(got.from.name, /…\(\+\d+ chars\)$/);
});

test("the dedup field tells a timed edge from an untimed one", () => {
  const e = edge("A", "B", "p1");
  assert.notEqual(edgeField(e), edgeField({ ...e, timeout: true }));
  assert.equal(edgeField(e), edgeField({ ...e, task: "other" }));
});
