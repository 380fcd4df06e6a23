// Under `waitgraph/register` every lock a library makes is already tracked, with the class of
// its construction site. A user who then calls the adapter's own `track(x, { name })` (or
// `{ key }`) means to name that class: the name must win, as it does for the pools.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Mutex as LibMutex } from "async-mutex";
import AsyncLock from "async-lock";
import pLimit from "p-limit";
import PQueue from "p-queue";
import { tracker } from "../../src/index.js";
import type { Skip } from "../../src/core/lock-class.js";
import { track as trackMutex } from "../../src/adapters/async-mutex.js";
import { track as trackAsyncLock } from "../../src/adapters/async-lock.js";
import { track as trackLimit } from "../../src/adapters/p-limit.js";
import { track as trackQueue } from "../../src/adapters/p-queue.js";
import { trackSync } from "../../src/adapters/instrument/async-mutex.js";
import { trackAsyncLock as registerAsyncLock } from "../../src/adapters/instrument/async-lock.js";
import { trackLimit as registerLimit } from "../../src/adapters/instrument/p-limit.js";
import { trackQueue as registerQueue } from "../../src/adapters/instrument/p-queue.js";

beforeEach(() => {
  tracker.reset();
  tracker.configure({ policy: "silent" });
});

/** What register does when the library makes the object: track it with no options. */
function asIfRegistered<T>(
  made: T,
  instrument: (x: T, o: undefined, skip: Skip) => T,
): T {
  return instrument(made, undefined, asIfRegistered);
}

const reported = () =>
  tracker.reports().map((r) => `${r.kind}: ${r.classes.join(", ")}`);

test("async-mutex: track(mutex, { name }) names a mutex register already tracks", async () => {
  const m = asIfRegistered(new LibMutex(), trackSync);
  assert.equal(trackMutex(m, { name: "accounts" }), m);
  tracker.configure({ policy: "throw" }); // the nested attempt is refused instead of hanging
  await m
    .runExclusive(() => m.runExclusive(() => undefined))
    .catch(() => undefined);
  assert.deepEqual(reported(), ["recursive-locking: accounts"]);
});

test("p-queue: track(queue, { name }) names a queue register already tracks", async () => {
  const q = asIfRegistered(new PQueue({ concurrency: 2 }), registerQueue);
  trackQueue(q, { name: "jobs" });
  await q.add(async () => {
    await q.add(() => undefined);
  });
  assert.deepEqual(reported(), ["recursive-locking: jobs"]);
});

test("p-limit: track(limit, { name }) names a limiter register already tracks", async () => {
  const limit = asIfRegistered(pLimit(2), registerLimit);
  const named = trackLimit(limit, { name: "fetches" });
  assert.equal(named, limit);
  await limit(async () => {
    await limit(() => undefined);
  });
  assert.deepEqual(reported(), ["recursive-locking: fetches"]);
});

test("async-lock: track(lock, { name }) names the key classes of a lock register already tracks", async () => {
  const lock = asIfRegistered(new AsyncLock(), registerAsyncLock);
  trackAsyncLock(lock, { name: "users" });
  await lock.acquire("a", async () => {
    await lock.acquire("b", () => undefined);
  });
  await lock.acquire("b", async () => {
    await lock.acquire("a", () => undefined);
  });
  const [r] = tracker.reports();
  assert.equal(r?.kind, "circular-dependency");
  assert.ok(
    r!.classes.every((c) => c.startsWith("users")),
    r!.classes.join(", "),
  );
});

test("a second track() does not rename a class the user already named", async () => {
  const m = asIfRegistered(new LibMutex(), trackSync);
  trackMutex(m, { name: "first" });
  trackMutex(m, { name: "second" });
  tracker.configure({ policy: "throw" });
  await m
    .runExclusive(() => m.runExclusive(() => undefined))
    .catch(() => undefined);
  assert.deepEqual(reported(), ["recursive-locking: first"]);
});
