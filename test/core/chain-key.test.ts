// The chain cache serves a stored verdict instead of re-checking, so its key must hold everything
// the verdict depends on: each held lock's class and read mode, whether it was a trylock (a
// trylock is looked through for edges, so [A, T(try)] + B adds A → B where [A, T] + B does not),
// and which held lock, if any, is the very instance being taken (same-instance vs same-class).
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { DeadlockError, Mutex, tracker } from "../../src/index.js";

beforeEach(() => {
  tracker.configure({ enabled: true, policy: "silent" });
  tracker.reset();
});

const ids = () => tracker.reports().map((r) => r.id);

test("a chain that differs only by a trylock is validated on its own: its inversion is reported", async () => {
  const A = new Mutex({ key: "A" });
  const T = new Mutex({ key: "T" });
  const B = new Mutex({ key: "B" });
  const take = async (...locks: Mutex[]) => {
    const releases = [];
    for (const l of locks) releases.push(await l.acquire());
    for (const r of releases.reverse()) r();
  };
  await take(T, A); // T → A
  await take(A, T); // reported (A/T); A → T is never inserted
  await take(A, T, B); // chain [A, T, B]: T → B added, no finding
  await take(B, A); // B → A: no path A → … → B, added
  assert.equal(ids().length, 1, JSON.stringify(ids()));
  const before = ids().length;

  // [A, T(try)] + B: the trylock is looked through, so A → B is checked and closes B → A.
  const a = await A.acquire();
  const t = T.tryAcquire();
  assert.ok(t, "T is free");
  const b = await B.acquire();
  b();
  t();
  a();
  const found = ids().slice(before);
  assert.equal(found.length, 1, `one new report, got ${JSON.stringify(found)}`);
  assert.match(found[0]!, /^circular-dependency:/);
  assert.ok(found[0]!.includes("A") && found[0]!.includes("B"), found[0]);
});

test("a same-instance re-take after a cached different-instance report is reported as same-instance", async () => {
  tracker.configure({ policy: "throw" });
  const m1 = new Mutex({ key: "k" });
  const m2 = new Mutex({ key: "k" });
  const r1 = await m1.acquire();
  await assert.rejects(m2.acquire(), (e: DeadlockError) => {
    assert.equal(e.report.id, "recursive-locking:key:k");
    return true;
  });
  await assert.rejects(m1.acquire(), (e: DeadlockError) => {
    assert.equal(e.report.id, "recursive-locking:key:k:same-instance");
    return true;
  });
  r1();
});

test("a different-instance take after a cached same-instance report is reported as different-instance", async () => {
  tracker.configure({ policy: "throw" });
  const m1 = new Mutex({ key: "k" });
  const m2 = new Mutex({ key: "k" });
  const r1 = await m1.acquire();
  await assert.rejects(m1.acquire(), (e: DeadlockError) => {
    assert.equal(e.report.id, "recursive-locking:key:k:same-instance");
    return true;
  });
  await assert.rejects(m2.acquire(), (e: DeadlockError) => {
    assert.equal(e.report.id, "recursive-locking:key:k");
    return true;
  });
  r1();
});

test("the same chain taken again is still a cache hit (the key is stable)", async () => {
  const A = new Mutex({ key: "A" });
  const B = new Mutex({ key: "B" });
  for (let i = 0; i < 3; i++) {
    const a = await A.acquire();
    const b = await B.acquire();
    b();
    a();
  }
  const before = tracker.stats();
  const a = await A.acquire();
  const b = await B.acquire();
  b();
  a();
  const after = tracker.stats();
  assert.equal(after.chainMisses, before.chainMisses);
  assert.equal(after.chainHits - before.chainHits, 2);
});
