// The graph shared between isolates (src/core/shared-graph.ts), through the in-memory store: a
// second MemoryStore on the same hub plays another process. Each rule has the case it must
// catch and the look-alike it must not.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import {
  Completion,
  DeadlockError,
  Mutex,
  RwLock,
  connectStore,
  tracker,
  type CircularDependencyReport,
  type StoreHandle,
} from "../../src/index.js";
import { DEP_EN, DEP_SR } from "../../src/core/graph.js";
import { core } from "../../src/core/instance.js";
import { MemoryHub, MemoryStore } from "../../src/stores/memory.js";
import { edge } from "./compliance.js";

const hub = new MemoryHub();
const other = new MemoryStore(hub);
const third = new MemoryStore(hub);
let shared: StoreHandle;
let serial = 0;

before(async () => {
  tracker.configure({ enabled: true, policy: "silent" });
  shared = await connectStore(new MemoryStore(hub));
  await other.open(() => {});
  await third.open(() => {});
});
after(async () => {
  await shared.close(0);
  await other.close();
  await third.close();
});
beforeEach(() => {
  tracker.configure({ policy: "silent" });
  tracker.reset();
});

/** Fresh class names per test: the shared graph outlives tracker.reset(), as the store does. */
function names(): { a: string; b: string; c: string } {
  const n = ++serial;
  return { a: `A${n}`, b: `B${n}`, c: `C${n}` };
}

/** What the other process publishes: `from` held while taking `to`, both by string key. */
function publish(from: string, to: string, dep = DEP_EN, by = other): void {
  by.publish(edge(from, to, by === other ? "other" : "third", dep));
}

async function nested(outer: Mutex, inner: Mutex): Promise<void> {
  const r1 = await outer.acquire();
  const r2 = await inner.acquire();
  r2();
  r1();
}

const circular = () =>
  tracker
    .reports()
    .filter(
      (r): r is CircularDependencyReport => r.kind === "circular-dependency",
    );

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

test("another process's A → B and this one's B → A: reported at this acquisition, naming the other process", async () => {
  const { a, b } = names();
  publish(a, b);
  await settle();
  await nested(new Mutex({ key: b }), new Mutex({ key: a }));
  const [r, ...more] = circular();
  assert.equal(more.length, 0);
  assert.ok(r);
  assert.deepEqual(r.processes, ["other[1]@host"]);
  assert.deepEqual(
    r.chain.map((l) => [l.class.name, l.process]),
    [
      [b, "other[1]@host"],
      [a, undefined],
    ],
  );
  assert.equal(r.chain[0]!.stack[0]!.file, "other.ts");
  assert.equal(r.next.name, a);
  assert.equal(r.prev.name, b);
  assert.deepEqual(
    r.held.map((h) => h.name),
    [b],
  );
  assert.match(r.text, /\(added by other\[1\]@host\)/);
});

test("under throw, the acquisition that closes the cross-process cycle rejects with DeadlockError", async () => {
  const { a, b } = names();
  publish(a, b);
  await settle();
  tracker.configure({ policy: "throw" });
  const B = new Mutex({ key: b });
  const A = new Mutex({ key: a });
  const release = await B.acquire();
  await assert.rejects(A.acquire(), DeadlockError);
  release();
  assert.equal(A.isLocked(), false, "A was not granted");
});

test("this process's B → A first, the other's A → B later: reported when it arrives", async () => {
  const { a, b } = names();
  await nested(new Mutex({ key: b }), new Mutex({ key: a }));
  assert.equal(circular().length, 0);
  publish(a, b);
  await settle();
  const [r] = circular();
  assert.ok(r);
  assert.equal(r.task, "main in other[1]@host");
  assert.deepEqual(r.processes, ["other[1]@host"]);
  assert.equal(r.chain.at(-1)!.process, "other[1]@host");
});

test("look-alike: both processes take A then B — nothing", async () => {
  const { a, b } = names();
  publish(a, b);
  await settle();
  for (let i = 0; i < 3; i++)
    await nested(new Mutex({ key: a }), new Mutex({ key: b }));
  assert.deepEqual(circular(), []);
});

test("a three-class cycle through two other processes and this one is reported with both named", async () => {
  const { a, b, c } = names();
  publish(a, b);
  publish(b, c, DEP_EN, third);
  await settle();
  await nested(new Mutex({ key: c }), new Mutex({ key: a }));
  const [r] = circular();
  assert.ok(r);
  assert.deepEqual(r.processes, ["other[1]@host", "third[1]@host"]);
  assert.deepEqual(
    r.cycle.map((x) => x.name),
    [a, b, c],
  );
});

test("look-alike: a cycle of other processes' edges only is left to them", async () => {
  const { a, b } = names();
  publish(a, b);
  publish(b, a, DEP_EN, third);
  await settle();
  assert.deepEqual(circular(), []);
});

test("look-alike: recursive readers in opposite orders across processes are no deadlock; a writer on one side is", async () => {
  const { a, b, c } = names();
  // The other process: read(A) then read(B), recursive readers (lockdep's -SR-> edge).
  publish(a, b, DEP_SR);
  await settle();
  const readers = (name: string) =>
    new RwLock({ key: name, recursiveRead: true });
  const B = readers(b);
  const A = readers(a);
  const rb = await B.acquireRead();
  const ra = await A.acquireRead();
  ra();
  rb();
  assert.deepEqual(
    circular(),
    [],
    "R(A)→R(B) and R(B)→R(A): readers never wait for readers",
  );
  // The same with the other process holding C exclusively while taking B for write: a deadlock.
  publish(c, b, DEP_EN);
  await settle();
  const C = readers(c);
  const rb2 = await B.acquireRead();
  const rc = await C.acquireRead();
  rc();
  rb2();
  const [r] = circular();
  assert.ok(r, "W(C)→W(B) there, R(B)→R(C) here");
  assert.deepEqual(r.cycle.map((x) => x.name).sort(), [b, c].sort());
});

test("look-alike: a cycle through the other process's timed wait is a delay, not reported", async () => {
  const { a, b } = names();
  other.publish({ ...edge(a, b, "other"), timeout: true });
  await settle();
  await nested(new Mutex({ key: b }), new Mutex({ key: a }));
  assert.deepEqual(circular(), []);
});

test("a cycle of this process alone is the validator's report, once, not the shared graph's too", async () => {
  const { a, b } = names();
  const A = new Mutex({ key: a });
  const B = new Mutex({ key: b });
  await nested(A, B);
  await nested(B, A);
  await settle();
  const found = circular();
  assert.equal(found.length, 1);
  assert.equal(found[0]!.processes, undefined);
});

test("the store's counts: this process's edges sent, the others' received", async () => {
  const { a, b } = names();
  const before = shared.status();
  await nested(new Mutex({ key: a }), new Mutex({ key: b }));
  publish(b + "x", a + "x");
  await settle();
  const now = shared.status();
  assert.equal(now.sent, before.sent + 1);
  assert.equal(
    now.received,
    before.received + 1,
    "the other's edge; the memory store does not echo a client's own",
  );
  assert.equal(now.online, true);
  assert.equal(now.unchecked, 0);
});

test("the edge that closed a cross-process cycle is not published: one cycle, one report, by the process that closed it", async () => {
  const { a, b } = names();
  publish(a, b);
  await settle();
  await nested(new Mutex({ key: b }), new Mutex({ key: a }));
  await settle();
  assert.equal(circular().length, 1);
  const published = [...hub.entries.values()].map(
    (text) =>
      JSON.parse(text) as { from: { name: string }; to: { name: string } },
  );
  assert.ok(published.some((e) => e.from.name === a && e.to.name === b));
  assert.ok(
    !published.some((e) => e.from.name === b && e.to.name === a),
    "B → A stays out of the store",
  );
});

test("a dependency first made by a timed wait, then by an untimed one: the untimed one is shared and closes the cycle", async () => {
  const { a, b } = names();
  // The other process: raising C's event needs M (C → M, an event edge).
  publish(b, a);
  await settle();
  const M = new Mutex({ key: a });
  const C = new Completion({ key: b });
  const waitHolding = async (timeout?: number) => {
    const release = await M.acquire();
    const waiting = C.wait(timeout === undefined ? {} : { timeout });
    C.complete();
    await waiting;
    release();
  };
  await waitHolding(1000);
  assert.deepEqual(circular(), [], "a timed wait can delay, not deadlock");
  await waitHolding();
  const [r] = circular();
  assert.ok(r, "the untimed M → C closes C → M from the other process");
  assert.deepEqual(r.processes, ["other[1]@host"]);
});

test("under throw, the acquisition refused for a cross-process cycle is refused again when retried", async () => {
  const { a, b } = names();
  publish(a, b);
  await settle();
  tracker.configure({ policy: "throw" });
  const B = new Mutex({ key: b });
  const A = new Mutex({ key: a });
  const release = await B.acquire();
  await assert.rejects(A.acquire(), DeadlockError);
  await assert.rejects(
    A.acquire(),
    DeadlockError,
    "the chain keeps its finding",
  );
  release();
});

test("under throw, a cycle found when another process's edge arrives is printed (nothing can throw it)", async () => {
  const { a, b } = names();
  await nested(new Mutex({ key: b }), new Mutex({ key: a }));
  tracker.configure({ policy: "throw" });
  const written: string[] = [];
  const write = core.reporter.write;
  core.reporter.write = (text) => written.push(text);
  try {
    publish(a, b);
    await settle();
  } finally {
    core.reporter.write = write;
  }
  assert.equal(circular().length, 1);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /WARNING: possible circular locking dependency/);
});

test("after tracker.reset() this process's old dependencies no longer refuse its new ones, and the new ones are shared", async () => {
  const { a, b } = names();
  const P = new Mutex({ key: a });
  const Q = new Mutex({ key: b });
  await nested(P, Q);
  tracker.reset();
  await nested(Q, P);
  await settle();
  assert.deepEqual(circular(), []);
  const published = [...hub.entries.values()].map(
    (text) =>
      JSON.parse(text) as { from: { name: string }; to: { name: string } },
  );
  assert.ok(
    published.some((e) => e.from.name === b && e.to.name === a),
    "Q → P reached the store",
  );
});
