// The order-dependent NON-cases (reference §2.3, §2.5): an event context runs from the moment a
// waiter starts waiting to the event, in the raiser's own flow. Waits outside it are not the
// event's dependencies. Each test would be a false positive if the rule were broken: it builds
// the wait `M → C` (a holder of M waits for C) and then a raise of C that must NOT add `C → M`.
//
// A background waiter on an unrelated completion keeps some event awaited the whole time, so
// every wait below really is recorded in its task's history: the tests prove the context rule,
// not merely that nothing was recorded.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  Completion,
  Condition,
  Mutex,
  deferred,
  task,
  tracker,
} from "../../../src/index.js";
import { fresh, macrotask } from "../../helpers/edges.js";
import { assertVerdicts, edgesAmong, later } from "./support.js";

let M: Mutex;
let C: Completion;
let idle: Completion;
let background: Promise<void>;

beforeEach(() => {
  fresh();
  M = new Mutex({ key: "M" });
  C = new Completion({ key: "C" });
  idle = new Completion({ key: "idle" });
  background = task("background", () => idle.wait());
});
afterEach(async () => {
  idle.complete();
  await background;
});

/** A holder of M waits for C, completed by a helper that needs nothing: `M → C`. */
async function holderOfMWaitsForC(): Promise<void> {
  await task("holder", async () => {
    const release = await M.acquire();
    const blocked = C.wait();
    later("helper", () => C.complete());
    await blocked;
    release();
  });
}

describe("an event raised before anyone waited creates no dependency", () => {
  it("C completed with nobody waiting, right after its completer took M", async () => {
    await task("completer", async () => {
      const release = await M.acquire();
      release();
      C.complete(); // nobody waits: no event context
    });
    await C.wait(); // consumes that completion without blocking: no wait either
    await holderOfMWaitsForC();
    assert.deepEqual(edgesAmong("M", "C"), ["M -> C"]);
    assertVerdicts([]);
  });

  it("C completed after its only waiter gave up (the waiter's abort ends the context)", async () => {
    const abort = new AbortController();
    const gaveUp = task("waiter", () => C.wait({ signal: abort.signal }));
    abort.abort();
    await assert.rejects(gaveUp);
    await task("completer", async () => {
      const release = await M.acquire();
      release();
      C.complete();
    });
    C.reinit();
    await holderOfMWaitsForC();
    assert.deepEqual(edgesAmong("M", "C"), ["M -> C"]);
    assertVerdicts([]);
  });

  it("a deferred resolved before anyone awaited it, and awaited after (no wait at all)", async () => {
    const D = deferred<number>({ key: "D" });
    await task("resolver", async () => {
      const release = await M.acquire();
      release();
      D.resolve(1);
    });
    await task("holder", async () => {
      const release = await M.acquire();
      assert.equal(await D.promise, 1); // already settled: does not block
      release();
    });
    assert.deepEqual(edgesAmong("M", "D"), []);
    assertVerdicts([]);
  });
});

describe("a waker's waits from before the waiter started waiting do not count", () => {
  it("the completer took and released M, then a waiter started waiting, then C was completed", async () => {
    let waiter: Promise<void> | undefined;
    await task("completer", async () => {
      const release = await M.acquire(); // recorded: `idle` is awaited
      release();
      waiter = task("waiter", () => C.wait()); // [S] of C starts only now
      C.complete();
    });
    await waiter;
    await holderOfMWaitsForC();
    assert.deepEqual(edgesAmong("M", "C"), ["M -> C"]);
    assertVerdicts([]);
  });

  it("the completer took M before the waiter started waiting and still holds it at the event", async () => {
    let waiter: Promise<void> | undefined;
    await task("completer", async () => {
      const release = await M.acquire();
      waiter = task("waiter", () => C.wait());
      await macrotask();
      C.complete();
      release();
    });
    await waiter;
    await holderOfMWaitsForC();
    assert.deepEqual(edgesAmong("M", "C"), ["M -> C"]);
    assertVerdicts([]);
  });
});

describe("waits in another task or context do not count", () => {
  it("another task took M inside C's context; a third task completes C", async () => {
    const waiter = task("waiter", () => C.wait());
    await task("other", async () => {
      const release = await M.acquire();
      release();
    });
    await task("completer", () => C.complete());
    await waiter;
    await holderOfMWaitsForC();
    assert.deepEqual(edgesAmong("M", "C"), ["M -> C"]);
    assertVerdicts([]);
  });

  it("two callbacks of the event loop (two contexts): one takes M, the next completes C", async () => {
    const waiter = task("waiter", () => C.wait());
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        void M.acquire().then((release) => {
          release();
          resolve();
        });
      }),
    );
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        C.complete();
        resolve();
      }),
    );
    await waiter;
    await holderOfMWaitsForC();
    assert.deepEqual(edgesAmong("M", "C"), ["M -> C"]);
    assertVerdicts([]);
  });

  it("but the same callback taking M and then completing C is one context: C → M, and the cycle", async () => {
    // The positive control for the test above: same waits, one flow.
    const waiter = task("waiter", () => C.wait());
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        void M.acquire().then((release) => {
          release();
          C.complete();
          resolve();
        });
      }),
    );
    await waiter;
    assert.deepEqual(edgesAmong("M", "C"), ["C -> M"]);
    await holderOfMWaitsForC();
    assertVerdicts([{ kind: "circular-dependency", classes: ["C", "M"] }]);
    assert.equal(tracker.reports().length, 1);
  });
});

describe("a wait that does not block is no wait", () => {
  it("holding its mutex: a Condition.wait whose signal was already aborted starts no event context", async () => {
    const lock = new Mutex({ key: "lock" });
    const cv = new Condition({ key: "cv" });
    const aborted = AbortSignal.abort(new Error("stop"));
    await task("caller", async () => {
      const release = await lock.acquire();
      await assert.rejects(cv.wait(lock, { signal: aborted }), /stop/);
      const m = await M.acquire(); // would be inside cv's context, had the wait counted
      m();
      cv.notify();
      release();
    });
    // The rejected wait took `lock` back, so taking M next is a real lock → M; no edge leaves cv.
    assert.deepEqual(edgesAmong("cv", "M", "lock"), ["lock -> M"]);
    assertVerdicts([]);
  });

  it("holding M: a done completion, a settled deferred and a finished task add no edge", async () => {
    const D = deferred<void>({ key: "D" });
    D.resolve();
    C.complete();
    const child = task("child", () => undefined);
    await child;
    await task("holder", async () => {
      const release = await M.acquire();
      await C.wait();
      await D.promise;
      await child;
      release();
    });
    assert.deepEqual(edgesAmong("M", "C", "D", "task child"), []);
    assertVerdicts([]);
  });
});
