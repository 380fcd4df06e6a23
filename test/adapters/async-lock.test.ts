// async-lock through waitgraph/adapters/async-lock, against the real library: the shared
// compliance suite (promise and callback mode, one key per class), then keys, key classes,
// multi-key acquisition and the library's own options.
import assert from "node:assert/strict";
import { beforeEach, describe, it, mock } from "node:test";
import Lib from "async-lock";
import AsyncLock, { track } from "../../src/adapters/async-lock.js";
import { DeadlockError, heldLocks, tracker } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  reportKinds,
} from "../helpers/edges.js";
import { complianceSuite } from "./compliance.js";

const names = (): string[] => heldLocks().map((h) => h.name);

describe("AsyncLock, promise mode (one key per class)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const lock = new AsyncLock(undefined, { key: "locks" });
      return { name: `locks[${cls}]`, run: (fn) => lock.acquire(cls, fn) };
    },
  }));

describe("AsyncLock, callback mode", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const lock = new AsyncLock(undefined, { key: "locks" });
      return {
        name: `locks[${cls}]`,
        run: <T>(fn: () => Promise<T> | T) =>
          new Promise<T>((resolve, reject) =>
            lock.acquire<T>(
              cls,
              (done) => {
                Promise.resolve()
                  .then(fn)
                  .then(
                    (value) => done(null, value),
                    (error: Error) => done(error),
                  );
              },
              (error, value) => (error ? reject(error) : resolve(value as T)),
            ),
          ),
      };
    },
  }));

describe("track(an AsyncLock made by the library)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const lock = track(new Lib(), { key: "tracked" });
      return { name: `tracked[${cls}]`, run: (fn) => lock.acquire(cls, fn) };
    },
  }));

describe("async-lock specifics", () => {
  beforeEach(() => fresh());

  it("is the library's AsyncLock, with its options and statics", async () => {
    const lock = new AsyncLock({ maxPending: 5 });
    assert.ok(lock instanceof Lib);
    assert.equal(AsyncLock.DEFAULT_MAX_PENDING, 1000);
    assert.equal(lock.isBusy("k"), false);
    const inside = deferred();
    const open = deferred();
    const running = lock.acquire("k", async () => {
      inside.resolve();
      await open.promise;
    });
    await inside.promise;
    assert.equal(lock.isBusy("k"), true);
    assert.equal(lock.isBusy(), true);
    open.resolve();
    await running;
    assert.equal(lock.isBusy("k"), false);
  });

  it("names key classes `<lock>[<key>]`, the lock named by its construction site by default", async () => {
    const lock = new AsyncLock();
    await lock.acquire("a", () => lock.acquire("b", () => {}));
    const [edge] = tracker.snapshot().edges;
    assert.match(
      edge!.from,
      /^async-lock@test\/adapters\/async-lock\.test\.ts:\d+:\d+\[a\]$/,
    );
    assert.match(edge!.to, /\[b\]$/);
  });

  it("groups keys into one class with classOf: user:1 then user:2 is recursive locking", async () => {
    const lock = new AsyncLock(undefined, {
      name: "locks",
      classOf: (key) => key.replace(/:\d+$/, ":*"),
    });
    await lock.acquire("user:1", async () => {
      assert.deepEqual(names(), ["locks[user:*]"]);
      await lock.acquire("user:2", () => {});
    });
    assert.deepEqual(reportKinds(), ["recursive-locking"]);
    assert.equal(tracker.reports()[0]!.classes[0], "locks[user:*]");
    const report = tracker.reports()[0] as { sameInstance?: boolean };
    assert.equal(report.sameInstance, false, "two keys are two instances");
  });

  it("takes multi-key acquire's keys in argument order, and reports an ABBA between two multi-key calls", async () => {
    const lock = new AsyncLock(undefined, { key: "locks" });
    const seen = await lock.acquire(["a", "b"], () => names());
    assert.deepEqual(seen, ["locks[a]", "locks[b]"]);
    assertGraph(["locks[a] -> locks[b]"]);
    await lock.acquire(["b", "a"], () => {});
    assertGraph(["locks[a] -> locks[b]"], ["circular-dependency"]);
    const report = tracker.reports()[0]!;
    assert.ok(
      report.stack[0]?.file.endsWith("async-lock.test.ts"),
      `the report starts at the test's line, not in the library: ${JSON.stringify(report.stack[0])}`,
    );
  });

  it("turns the multi-key ABBA into a DeadlockError under 'throw', and releases the first key", async () => {
    fresh("throw");
    const lock = new AsyncLock(undefined, { key: "locks" });
    await lock.acquire(["a", "b"], () => {});
    await assert.rejects(
      lock.acquire(["b", "a"], () => {}),
      DeadlockError,
    );
    assert.equal(lock.isBusy(), false);
    await lock.acquire(["b"], () => {});
  });

  it("gives a key up when the wait times out, holding nothing", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const lock = new AsyncLock({ timeout: 100 }, { key: "locks" });
      const inside = deferred();
      const open = deferred();
      const holder = lock.acquire("k", async () => {
        inside.resolve();
        await open.promise;
      });
      await inside.promise;
      let ran = false;
      const late = lock.acquire("k", () => {
        ran = true;
      });
      mock.timers.tick(100);
      await assert.rejects(late, /timed out in queue/);
      assert.deepEqual(names(), []);
      open.resolve();
      await holder;
      await macrotask();
      assert.equal(ran, false);
      assertGraph([]);
    } finally {
      mock.timers.reset();
    }
  });

  it("rejects beyond maxPending as the library does, holding nothing", async () => {
    const lock = new AsyncLock({ maxPending: 1 }, { key: "locks" });
    const open = deferred();
    const first = lock.acquire("k", () => open.promise);
    const second = lock.acquire("k", () => {});
    await assert.rejects(
      lock.acquire("k", () => {}),
      /Too many pending/,
    );
    open.resolve();
    await Promise.all([first, second]);
    assertGraph([]);
  });

  it("validates its options", () => {
    assert.throws(() => new AsyncLock(undefined, { classOf: "x" as never }), {
      code: "ERR_WAITGRAPH_INVALID_ARGUMENT",
    });
    assert.throws(() => new AsyncLock(undefined, { key: "" }), {
      code: "ERR_WAITGRAPH_INVALID_ARGUMENT",
    });
  });
});

describe("async-lock with a key per entity", () => {
  beforeEach(() => {
    tracker.configure({ enabled: true, policy: "silent" });
    tracker.reset();
  });

  it("stops making classes at 256 keys, says so once, and keeps checking everything else", async () => {
    const { Mutex } = await import("../../src/index.js");
    const locks = new AsyncLock();
    for (let id = 0; id < 1000; id++)
      await locks.acquire(`user:${id}`, async () => undefined);
    assert.equal(tracker.stats().classes, 257); // 256 keys + the shared overflow class
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      ["limit-exceeded"],
    );
    const a = new Mutex({ key: "a" });
    const b = new Mutex({ key: "b" });
    await a.runExclusive(() => b.runExclusive(() => undefined));
    await b.runExclusive(() => a.runExclusive(() => undefined));
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      ["limit-exceeded", "circular-dependency"],
    );
  });

  it("leaves the overflow class unchecked: per-entity keys nested in sorted order are no report", async () => {
    const locks = new AsyncLock();
    for (let id = 0; id < 300; id++)
      await locks.acquire(`user:${id}`, async () => undefined);
    // Both past the cap, so one class: a nesting in id order is healthy sorted locking.
    await locks.acquire("user:1000", () =>
      locks.acquire("user:1001", async () => undefined),
    );
    const overflow = tracker.reports()[0];
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      ["limit-exceeded"],
    );
    assert.match(overflow!.classes[0]!, /\[…\]$/);
  });
});
