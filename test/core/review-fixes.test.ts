// Behaviours fixed after a review of the whole tracker, each with the case that exposed it.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import AsyncLock from "async-lock";
import { Completion, Mutex, RwLock, task, tracker } from "../../src/index.js";
import { track as trackAsyncLock } from "../../src/adapters/async-lock.js";

beforeEach(() => {
  tracker.configure({ enabled: true, policy: "silent" });
  tracker.reset();
});

test("task() starts its function synchronously whether tracking is on or off", async () => {
  for (const enabled of [true, false]) {
    tracker.configure({ enabled });
    let started = false;
    const done = task("t", async () => {
      started = true;
    });
    assert.equal(started, true, `tracking ${enabled ? "on" : "off"}`);
    await done;
  }
});

test("tasks of one name share a class; tasks of two names from one call site do not", async () => {
  const m = new Mutex({ name: "m" });
  const spawn = <T>(name: string, fn: () => Promise<T>) => task(name, fn);
  await spawn("flush", () => m.runExclusive(async () => undefined));
  // Holding m while awaiting "ping", which takes nothing: no cycle through "flush"'s class.
  await m.runExclusive(() => spawn("ping", async () => 42));
  assert.deepEqual(tracker.reports(), []);
});

test("a legal re-read (a self-edge) keeps the topological fast path for other edges", async () => {
  const cache = new RwLock({ name: "cache", recursiveRead: true });
  const r1 = await cache.acquireRead();
  const r2 = await cache.acquireRead(); // r(X) then R(X): legal, and a self-edge
  r2();
  r1();
  const before = tracker.stats().searchesSkipped;
  const locks = Array.from(
    { length: 10 },
    (_, i) => new Mutex({ key: `l${i}` }),
  );
  for (let i = 0; i + 1 < locks.length; i++) {
    const a = await locks[i]!.acquire();
    const b = await locks[i + 1]!.acquire();
    b();
    a();
  }
  assert.equal(tracker.stats().topologicalOrder, true);
  assert.equal(tracker.stats().searchesSkipped - before, locks.length - 1);
});

test("limits.classes above 65535 is refused: edge keys hold two 16-bit class indexes", () => {
  assert.throws(
    () => tracker.configure({ limits: { classes: 70_000 } }),
    (e: { code?: string }) => e.code === "ERR_WAITGRAPH_INVALID_ARGUMENT",
  );
});

test("validate: false on an event class is honoured: its waits add no edge", async () => {
  const m = new Mutex({ name: "m" });
  const c = new Completion({ name: "done", validate: false });
  setImmediate(() => c.complete());
  await m.runExclusive(() => c.wait());
  assert.deepEqual(tracker.snapshot().edges, []);
});

test("a lock adapter's track() refuses a non-lock with a typed, coded error", () => {
  assert.throws(
    () => trackAsyncLock({} as never),
    (e: { code?: string; message: string }) =>
      e.code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
      /Expected `lock` to be an AsyncLock/.test(e.message),
  );
  assert.ok(trackAsyncLock(new AsyncLock()));
});

test("compacting a long-lived task's holds never drops one it still holds", async () => {
  const m = new Mutex({ name: "m" });
  const kept = new Mutex({ name: "kept" });
  await task("worker", async () => {
    for (let i = 0; i < 1000; i++) (await m.acquire())();
    await kept.acquire(); // never released
    for (let i = 0; i < 1000; i++) (await m.acquire())();
  });
  const reports = tracker.reports();
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.kind, "held-at-task-end");
  assert.deepEqual(reports[0]!.classes, ["kept"]);
});
