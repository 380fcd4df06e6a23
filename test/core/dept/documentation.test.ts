// The examples of DEPT's design document (Documentation/dev-tools/dept.rst), in JS. Each kernel
// "context" is a task. The document's examples are interleavings that hang; a test replays the
// same dependencies in rounds that each finish, which is the point of DEPT: the deadlock is
// reported although this run never hung.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  Completion,
  Mutex,
  Semaphore,
  task,
  tracker,
  type Report,
} from "../../../src/index.js";
import { deferred as plainDeferred, fresh } from "../../helpers/edges.js";
import { assertVerdicts, edgesAmong, later } from "./support.js";

beforeEach(() => fresh());

function contexts(r: Report | undefined): string[][] {
  assert.ok(r !== undefined && r.kind === "circular-dependency");
  assert.ok(r.waits !== undefined);
  return r.waits.map((w) => [
    `${w.start.fn}(${w.start.class.name})`,
    `${w.wait.fn}(${w.wait.class.name})`,
    `${w.event.fn}(${w.event.class.name})`,
  ]);
}

/**
 * One context of "What leads to a deadlock": wait for `waitFor`, then raise `raise`. A waiter
 * for `raise` is already waiting (so the wait is inside the event context of `raise`), and a
 * helper raises `waitFor` (so this round finishes).
 */
async function waitThenRaise(
  name: string,
  waitFor: Completion,
  raise: Completion,
): Promise<void> {
  const waiter = task("waiter", () => raise.wait());
  await task(name, async () => {
    const blocked = waitFor.wait();
    later("helper", () => waitFor.complete());
    await blocked;
    raise.complete();
  });
  await waiter;
}

describe("dept.rst: What leads to a deadlock", () => {
  it("X waits for A then raises C, Y waits for C then raises B, Z waits for B then raises A: C → A → B → C", async () => {
    const A = new Completion({ key: "A" });
    const B = new Completion({ key: "B" });
    const C = new Completion({ key: "C" });
    await waitThenRaise("X", A, C); // C depends on A
    await waitThenRaise("Y", C, B); // B depends on C
    assertVerdicts([]);
    await waitThenRaise("Z", B, A); // A depends on B: the loop
    assertVerdicts([{ kind: "circular-dependency", classes: ["B", "C", "A"] }]);
    assert.deepEqual(contexts(tracker.reports()[0]), [
      ["wait_for_completion(A)", "wait_for_completion(B)", "complete(A)"],
      ["wait_for_completion(B)", "wait_for_completion(C)", "complete(B)"],
      ["wait_for_completion(C)", "wait_for_completion(A)", "complete(C)"],
    ]);
  });

  it("DEPT keeps adding dependencies after a report: context W waits for D, then raises B (B → D)", async () => {
    const A = new Completion({ key: "A" });
    const B = new Completion({ key: "B" });
    const C = new Completion({ key: "C" });
    const D = new Completion({ key: "D" });
    await waitThenRaise("X", A, C);
    await waitThenRaise("Y", C, B);
    await waitThenRaise("Z", B, A);
    await waitThenRaise("W", D, B);
    assert.deepEqual(edgesAmong("A", "B", "C", "D"), [
      "B -> C",
      "B -> D",
      "C -> A",
    ]);
    // B → D closes no new loop: still the one report.
    assertVerdicts([{ kind: "circular-dependency", classes: ["B", "C", "A"] }]);
  });
});

describe("dept.rst: How DEPT works, 2nd example (mutex A, completion B)", () => {
  // context Y: mutex_lock A; request; wait_for_completion B; mutex_unlock A     A → B
  // context X: (notices the request) mutex_lock A; complete B; mutex_unlock A   B → A

  it("reports the cycle when Y's round comes first (the closing edge is X's event)", async () => {
    const A = new Mutex({ key: "A" });
    const B = new Completion({ key: "B" });
    await task("Y", async () => {
      const release = await A.acquire();
      const blocked = B.wait();
      later("helper", () => B.complete()); // this round's completer needs no A
      await blocked;
      release();
    });
    assert.deepEqual(edgesAmong("A", "B"), ["A -> B"]);
    assertVerdicts([]);
    const waiter = task("waiter", () => B.wait()); // the request: [S] of B
    await task("X", async () => {
      const release = await A.acquire(); // [W] A inside B's context
      release();
      B.complete(); // [E] B: B → A
    });
    await waiter;
    assertVerdicts([{ kind: "circular-dependency", classes: ["A", "B"] }]);
    assert.deepEqual(contexts(tracker.reports()[0]), [
      ["wait_for_completion(B)", "lock(A)", "complete(B)"],
      ["lock(A)", "wait_for_completion(B)", "unlock(A)"],
    ]);
  });

  it("reports the cycle when X's round comes first (the closing edge is Y's wait under A)", async () => {
    const A = new Mutex({ key: "A" });
    const B = new Completion({ key: "B" });
    const waiter = task("waiter", () => B.wait());
    await task("X", async () => {
      const release = await A.acquire();
      release();
      B.complete();
    });
    await waiter;
    assert.deepEqual(edgesAmong("A", "B"), ["B -> A"]);
    assertVerdicts([]);
    await task("Y", async () => {
      const release = await A.acquire();
      const blocked = B.wait();
      later("helper", () => B.complete());
      await blocked;
      release();
    });
    assertVerdicts([{ kind: "circular-dependency", classes: ["B", "A"] }]);
    assert.deepEqual(contexts(tracker.reports()[0]), [
      ["lock(A)", "wait_for_completion(B)", "unlock(A)"],
      ["wait_for_completion(B)", "lock(A)", "complete(B)"],
    ]);
  });

  it("does not report when X notices the request only after taking A (DEPT: 'cannot track this dependency')", async () => {
    const A = new Mutex({ key: "A" });
    const B = new Completion({ key: "B" });
    let waiter: Promise<void> | undefined;
    await task("X", async () => {
      const release = await A.acquire(); // before B's event context starts
      waiter = task("waiter", () => B.wait()); // [S] of B
      B.complete();
      release();
    });
    await waiter;
    await task("Y", async () => {
      const release = await A.acquire();
      const blocked = B.wait();
      later("helper", () => B.complete());
      await blocked;
      release();
    });
    assert.deepEqual(edgesAmong("A", "B"), ["A -> B"]);
    assertVerdicts([]);
  });
});

describe("dept.rst: How DEPT works, 1st example (mutex A, folio lock B)", () => {
  // context Y: mutex_lock A; folio_lock B; folio_unlock B; mutex_unlock A      A → B
  // context X: folio_lock B (the folio is unlocked later, by Z)
  // context Z: mutex_lock A; folio_unlock B; mutex_unlock A                     B → A
  // In JS, a folio lock is a permit whose releaser one task hands to another.
  it("reports the cycle through a lock released by another task than the one that took it", async () => {
    const A = new Mutex({ key: "A" });
    const B = new Semaphore(1, { key: "B" });
    await task("Y", async () => {
      const a = await A.acquire();
      const b = await B.acquire();
      b();
      a();
    });
    // context X: no task() around it, since a task that ends holding a lock is reported; and
    // it does not await Z (holding B while waiting for Z would be a cycle of its own).
    const unlockB = await B.acquire(); // handed to Z, which unlocks it
    const zDone = plainDeferred();
    void task("Z", async () => {
      const a = await A.acquire();
      unlockB();
      a();
      zDone.resolve();
    });
    await zDone.promise;
    assertVerdicts([{ kind: "circular-dependency", classes: ["A", "B"] }]);
  });

  it("does not report a release by another task that took its own lock before the handed one was taken", async () => {
    const A = new Mutex({ key: "A" });
    const B = new Semaphore(1, { key: "B" });
    await task("Y", async () => {
      const a = await A.acquire();
      const b = await B.acquire();
      b();
      a();
    });
    // Z holds A from before B was taken: B's release never waited for A (outside its context).
    const zHoldsA = plainDeferred();
    const handOver = plainDeferred<() => void>();
    const bReleased = plainDeferred();
    const z = task("Z", async () => {
      const a = await A.acquire();
      zHoldsA.resolve();
      const unlockB = await handOver.promise;
      unlockB();
      bReleased.resolve();
      a();
    });
    await zHoldsA.promise;
    handOver.resolve(await B.acquire());
    // Not `await z` while B is still ours: holding B while awaiting Z (who needs A) is a cycle.
    await bReleased.promise;
    await z;
    assertVerdicts([]);
    assert.deepEqual(edgesAmong("A", "B"), ["A -> B"]);
  });
});
