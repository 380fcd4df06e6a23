// Condition as a primitive in its own right (a condition variable over a waitgraph Mutex), with
// tracking on and off. `wait(mutex)` gives the mutex up while it waits and holds it again when
// it returns — whatever happens — so the caller's own releaser still releases it.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  Condition,
  Mutex,
  TimeoutError,
  heldLocks,
  task,
  tracker,
} from "../../src/index.js";
import {
  fakeClock,
  flush,
  hasCode,
  tick,
  trackingOnAndOff,
  watch,
} from "./support.js";

const INVALID = "ERR_WAITGRAPH_INVALID_ARGUMENT";
const TIMEOUT = "ERR_WAITGRAPH_TIMEOUT";

trackingOnAndOff((tracked) => {
  fakeClock();

  /** What the current task holds, by name (empty with tracking off). */
  const held = () => heldLocks().map((h) => h.name);
  /**
   * Whether held lists are exact: with promise hooks. The AsyncLocalStorage fallback
   * (WAITGRAPH_CONTEXT=als) cannot see `await m.acquire()`, nor tell who holds a mutex.
   */
  const exact = () => tracked && tracker.stats().context === "promise-hooks";
  const none = () => tracker.reports().map((r) => r.kind);

  it("gives the mutex up while waiting and holds it again on return; the caller's releaser frees it", async () => {
    const m = new Mutex({ name: "m" });
    const cv = new Condition({ name: "cv" });
    let ready = false;
    const consumer = task("consumer", async () => {
      const release = await m.acquire();
      while (!ready) await cv.wait(m);
      assert.equal(m.isLocked(), true);
      assert.deepEqual(held(), exact() ? ["m"] : []);
      release();
      assert.equal(m.isLocked(), false);
      assert.deepEqual(held(), []);
      return "consumed";
    });
    await flush();
    assert.equal(m.isLocked(), false, "given up while waiting");
    const release = await m.acquire(); // another task can take it meanwhile
    ready = true;
    cv.notify();
    await flush();
    assert.equal(m.isLocked(), true, "the woken waiter queues for the mutex");
    release();
    assert.equal(await consumer, "consumed");
    assert.equal(m.isLocked(), false);
    assert.deepEqual(held(), []);
    assert.deepEqual(none(), []);
  });

  it("works under runExclusive and under a guard: their own release frees the mutex again", async () => {
    const m = new Mutex({ name: "m" });
    const cv = new Condition({ name: "cv" });
    let turn = 0;
    const viaRun = m.runExclusive(async () => {
      while (turn < 1) await cv.wait(m);
      assert.deepEqual(held(), exact() ? ["m"] : []);
      turn = 2;
      cv.notifyAll();
    });
    const viaGuard = (async () => {
      const guard = await m.lock();
      while (turn < 2) await cv.wait(m);
      guard.release();
    })();
    await flush();
    const release = await m.acquire();
    turn = 1;
    cv.notifyAll();
    release();
    await Promise.all([viaRun, viaGuard]);
    assert.equal(m.isLocked(), false);
    assert.deepEqual(held(), []);
    assert.deepEqual(none(), []);
  });

  it("notify() wakes one waiter, first come first served; notifyAll() wakes all, each re-taking the mutex in turn", async () => {
    const m = new Mutex();
    const cv = new Condition();
    const order: string[] = [];
    let inside = 0;
    const waiter = (name: string) =>
      (async () => {
        const release = await m.acquire();
        await cv.wait(m);
        inside++;
        assert.equal(inside, 1, "one waiter at a time holds the mutex");
        order.push(name);
        await flush();
        inside--;
        release();
      })();
    const all = ["a", "b", "c", "d"].map(waiter);
    await flush();
    cv.notify();
    await flush();
    assert.deepEqual(order, ["a"]);
    cv.notifyAll();
    await Promise.all(all);
    assert.deepEqual(order, ["a", "b", "c", "d"]);
    assert.equal(m.isLocked(), false);
  });

  it("a notify with nobody waiting is not remembered", async () => {
    const m = new Mutex();
    const cv = new Condition();
    cv.notify();
    cv.notifyAll();
    const release = await m.acquire();
    const w = watch(cv.wait(m));
    await tick(1_000);
    assert.equal(w.state, "pending");
    cv.notify();
    await flush();
    assert.equal(w.state, "fulfilled");
    release();
    assert.equal(m.isLocked(), false);
  });

  it("a timed-out wait rejects with TimeoutError only once it holds the mutex again", async () => {
    const m = new Mutex({ name: "m" });
    const cv = new Condition();
    let outcome: unknown;
    const waiter = task("waiter", async () => {
      const release = await m.acquire();
      try {
        await cv.wait(m, { timeout: 100 });
      } catch (error) {
        outcome = error;
        assert.equal(m.isLocked(), true);
        assert.deepEqual(held(), exact() ? ["m"] : []);
      }
      release();
    });
    await flush();
    const other = await m.acquire(); // holds the mutex when the timeout fires
    await tick(100);
    assert.equal(outcome === undefined, true, "still waiting for the mutex");
    other();
    await waiter;
    assert.ok(outcome instanceof TimeoutError);
    hasCode(TIMEOUT)(outcome);
    assert.equal(m.isLocked(), false);
    assert.deepEqual(held(), []);
    assert.deepEqual(none(), []);
  });

  it("an aborted wait rejects with the signal's reason, holding the mutex again; so does an aborted signal", async () => {
    const m = new Mutex({ name: "m" });
    const cv = new Condition();
    const abort = new AbortController();
    const reasons: string[] = [];
    const waiter = (async () => {
      const release = await m.acquire();
      try {
        await cv.wait(m, { signal: abort.signal });
      } catch (error) {
        reasons.push((error as Error).message);
      }
      assert.equal(m.isLocked(), true);
      try {
        await cv.wait(m, { signal: abort.signal }); // aborted already: no wait
      } catch (error) {
        reasons.push((error as Error).message);
      }
      assert.equal(m.isLocked(), true);
      assert.deepEqual(held(), exact() ? ["m"] : []);
      release();
    })();
    await flush();
    assert.equal(m.isLocked(), false, "given up while waiting");
    abort.abort(new Error("stop"));
    await waiter;
    assert.deepEqual(reasons, ["stop", "stop"]);
    cv.notify(); // the aborted waiter left the queue: nobody to wake
    assert.equal(m.isLocked(), false);
    assert.deepEqual(held(), []);
    assert.deepEqual(none(), []);
  });

  it("a waiter that gave up leaves the queue: notify() wakes the next one", async () => {
    const m = new Mutex();
    const cv = new Condition();
    const impatient = (async () => {
      const release = await m.acquire();
      await cv.wait(m, { timeout: 10 }).catch(() => undefined);
      release();
      return "gave up";
    })();
    const patient = (async () => {
      const release = await m.acquire();
      await cv.wait(m);
      release();
      return "woken";
    })();
    await flush();
    await tick(10);
    assert.equal(await impatient, "gave up");
    cv.notify();
    assert.equal(await patient, "woken");
    assert.equal(m.isLocked(), false);
  });

  it("rejects a call without the mutex held with ERR_WAITGRAPH_INVALID_ARGUMENT, and changes nothing", async () => {
    const m = new Mutex();
    const cv = new Condition();
    await assert.rejects(cv.wait(m), hasCode(INVALID));
    assert.equal(m.isLocked(), false);
  });

  it("rejects a call while another task holds the mutex, and leaves that task's lock alone", async () => {
    if (!exact()) return; // the ALS fallback cannot tell who holds a mutex; untracked, nobody can
    const m = new Mutex({ name: "m" });
    const cv = new Condition();
    let release!: () => void;
    await task("owner", async () => {
      release = await m.acquire();
    }).catch(() => undefined);
    await assert.rejects(cv.wait(m), hasCode(INVALID));
    assert.equal(m.isLocked(), true);
    release();
    assert.equal(m.isLocked(), false);
  });

  it("rejects a mutex that is not a waitgraph Mutex, and bad options, with ERR_WAITGRAPH_INVALID_ARGUMENT; the mutex stays held", async () => {
    const m = new Mutex();
    const cv = new Condition();
    const release = await m.acquire();
    for (const bad of [undefined, {}, { acquire() {} }])
      await assert.rejects(cv.wait(bad as never), hasCode(INVALID));
    for (const o of [{ timeout: -1 }, { timeout: "1" }, { signal: 1 }, null])
      await assert.rejects(cv.wait(m, o as never), hasCode(INVALID));
    assert.equal(m.isLocked(), true);
    release();
    assert.equal(m.isLocked(), false);
    assert.throws(() => new Condition({ key: "" }), hasCode(INVALID));
  });
});

describe("under the AsyncLocalStorage fallback (no promise hooks)", () => {
  before(() =>
    tracker.configure({
      enabled: true,
      policy: "silent",
      context: "async-local-storage",
    }),
  );
  after(() => tracker.configure({ context: "promise-hooks" }));
  beforeEach(() => tracker.reset());

  it("waits for a mutex taken with `await acquire()`, which the fallback cannot see, and reports nothing", async () => {
    const m = new Mutex({ name: "m" });
    const cv = new Condition({ name: "cv" });
    let ready = false;
    const consumer = task("consumer", async () => {
      const release = await m.acquire();
      while (!ready) await cv.wait(m);
      release();
    });
    await flush();
    const release = await m.acquire();
    ready = true;
    cv.notify();
    release();
    await consumer;
    assert.equal(m.isLocked(), false);
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      [],
    );
  });
});

describe("Condition.wait inside a helper", () => {
  // The usual shape: `async function waitFor() { while (!ready) await cv.wait(m) }`. The
  // caller of the helper holds the mutex again when the helper returns.
  it("gives the mutex back to the helper's caller, who can wait again and assert it", async () => {
    tracker.reset();
    tracker.configure({ enabled: true, policy: "silent" });
    const m = new Mutex({ name: "m" });
    const cv = new Condition({ name: "cv" });
    let stage = 0;
    const waitFor = async (n: number) => {
      while (stage < n) await cv.wait(m);
    };
    const advance = async (to: number) => {
      await m.runExclusive(() => {
        stage = to;
        cv.notifyAll();
      });
    };
    await m.runExclusive(async () => {
      const first = waitFor(1);
      setImmediate(() => void advance(1));
      await first;
      assert.deepEqual(
        heldLocks().map((h) => h.name),
        ["m"],
      );
      m.assertHeld();
      const second = cv.wait(m);
      setImmediate(() => void advance(2));
      await second;
    });
    assert.equal(m.isLocked(), false);
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      [],
    );
  });
});
