// `policy: 'throw'` for waits and events. The wait that would close a cycle rejects with a
// DeadlockError instead of waiting; an event cannot refuse to happen, so a cycle that an event
// closes (complete, resolve, notify) is logged, never thrown into the raiser and never lost.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  Completion,
  Condition,
  DeadlockError,
  Mutex,
  deferred,
  heldLocks,
  task,
  tracker,
} from "../../../src/index.js";
import { captureLog, fresh, macrotask } from "../../helpers/edges.js";
import { assertVerdicts, later } from "./support.js";

let log: ReturnType<typeof captureLog>;
beforeEach(() => {
  log = captureLog();
  fresh("throw");
});
afterEach(() => {
  log.restore();
  tracker.configure({ policy: "silent" });
});

/** A completer of `event` takes `lock` inside its event context: event → lock. */
async function completerTakes(lock: Mutex, event: Completion): Promise<void> {
  const waiter = task("waiter", () => event.wait());
  await task("completer", async () => {
    const release = await lock.acquire();
    release();
    event.complete();
  });
  await waiter;
}

describe("policy: 'throw'", () => {
  it("a Completion.wait that would close a cycle rejects with a DeadlockError and does not wait", async () => {
    const M = new Mutex({ key: "M" });
    const C = new Completion({ key: "C" });
    await completerTakes(M, C);
    await task("holder", async () => {
      const release = await M.acquire();
      const error = await C.wait().then(
        () => assert.fail("the wait was granted"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof DeadlockError);
      assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
      assert.equal(error.report.kind, "circular-dependency");
      assert.deepEqual(error.report.classes, ["C", "M"]);
      // It never queued: a complete() now is kept for the next wait.
      C.complete();
      assert.equal(C.isDone(), true);
      release();
    });
    // A repeat of the same chain is refused again.
    C.reinit();
    await task("holder", async () => {
      const release = await M.acquire();
      await assert.rejects(C.wait(), DeadlockError);
      release();
    });
    assertVerdicts([{ kind: "circular-dependency", classes: ["C", "M"] }]);
    assert.deepEqual(log.lines, []);
  });

  it("a refused Condition.wait takes its mutex back first, so the caller's releaser still releases it", async () => {
    const outer = new Mutex({ key: "outer" });
    const lock = new Mutex({ key: "lock" });
    const ready = new Condition({ key: "ready" });
    // ready → outer: a notifier takes outer inside ready's event context.
    const waiter = task("waiter", async () => {
      const release = await lock.acquire();
      await ready.wait(lock);
      release();
    });
    await task("notifier", async () => {
      await macrotask(); // the waiter is waiting: ready's event context has started
      const o = await outer.acquire();
      o();
      const release = await lock.acquire();
      ready.notify();
      release();
    });
    await waiter;
    assertVerdicts([]);
    await task("consumer", async () => {
      const o = await outer.acquire();
      const release = await lock.acquire();
      let refused: unknown;
      try {
        await ready.wait(lock);
      } catch (error) {
        refused = error;
      }
      assert.ok(refused instanceof DeadlockError);
      assert.equal(lock.isLocked(), true);
      assert.deepEqual(
        heldLocks().map((h) => h.name),
        ["outer", "lock"],
      );
      release();
      o();
      assert.deepEqual(heldLocks(), []);
    });
    assert.equal(lock.isLocked(), false);
    assert.equal(outer.isLocked(), false);
    assertVerdicts([
      { kind: "circular-dependency", classes: ["ready", "outer"] },
    ]);
  });

  it("a cycle closed by an event is logged once: complete() does not throw", async () => {
    const M = new Mutex({ key: "M" });
    const C = new Completion({ key: "C" });
    await task("holder", async () => {
      const release = await M.acquire();
      const blocked = C.wait();
      later("helper", () => C.complete());
      await blocked;
      release();
    });
    await completerTakes(M, C); // C → M closes M → C → M at complete()
    await completerTakes(M, C);
    assertVerdicts([{ kind: "circular-dependency", classes: ["M", "C"] }]);
    assert.deepEqual(log.lines, [tracker.reports()[0]!.text]);
  });

  it("a cycle closed by resolving a deferred is logged once: resolve() does not throw", async () => {
    const M = new Mutex({ key: "M" });
    const make = () => deferred<number>({ key: "D" });
    const first = make();
    await task("holder", async () => {
      const release = await M.acquire();
      void task("helper", async () => {
        await null;
        first.resolve(1);
      });
      await first.promise;
      release();
    });
    const second = make();
    const waiter = task("waiter", async () => await second.promise);
    await task("resolver", async () => {
      const release = await M.acquire();
      release();
      second.resolve(2);
    });
    assert.equal(await waiter, 2);
    assertVerdicts([{ kind: "circular-dependency", classes: ["M", "D"] }]);
    assert.deepEqual(log.lines, [tracker.reports()[0]!.text]);
  });

  it("an await that closes a cycle cannot be refused: it waits, and the report is logged once", async () => {
    const M = new Mutex({ key: "M" });
    const make = () => deferred<number>({ key: "D" });
    const first = make();
    const waiter = task("waiter", async () => await first.promise);
    await task("resolver", async () => {
      const release = await M.acquire();
      release();
      first.resolve(1); // D → M
    });
    await waiter;
    assert.deepEqual(log.lines, []);
    const second = make();
    const got = await task("holder", async () => {
      const release = await M.acquire();
      void task("helper", async () => {
        await null;
        second.resolve(2);
      });
      const value = await second.promise; // M → D closes the cycle; the await still waits
      release();
      return value;
    });
    assert.equal(got, 2);
    assertVerdicts([{ kind: "circular-dependency", classes: ["D", "M"] }]);
    assert.deepEqual(log.lines, [tracker.reports()[0]!.text]);
  });
});
