// DEPT's own unit tests (kernel/dependency/dept_unit_test.c), ported one to one. Each kernel
// test runs in one context and expects `circle_detected`; here each expects exactly one
// `circular-dependency` report naming the classes of the cycle.
//
// The kernel's `sdt_request_event(m)` ([S]) has no JS call of its own: an event context starts
// when a waiter starts waiting. So "[S] request d1" is a waiter task that starts waiting for d1,
// and "[W] sdt_wait(d2)" is the flow waiting for d2 until a helper task raises it.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  Completion,
  Mutex,
  deferred,
  task,
  tracker,
  type Report,
} from "../../../src/index.js";
import { fresh } from "../../helpers/edges.js";
import { assertVerdicts, edgesAmong, later } from "./support.js";

beforeEach(() => fresh());

/** The DEPT view of a cycle report: `[S] [W] [E]` names per context, closing edge first. */
function contexts(r: Report | undefined): string[][] {
  assert.ok(r !== undefined && r.kind === "circular-dependency");
  assert.ok(
    r.waits !== undefined,
    "a cycle through events carries DEPT's contexts",
  );
  return r.waits.map((w) => [
    `${w.start.fn}(${w.start.class.name})`,
    `${w.wait.fn}(${w.wait.class.name})`,
    `${w.event.fn}(${w.event.class.name})`,
  ]);
}

describe("dept_unit_test.c", () => {
  it("spin lock deadlock test: s1 → s2, then s2 → s1 in the same context", async () => {
    const s1 = new Mutex({ key: "s1" });
    const s2 = new Mutex({ key: "s2" });
    await task("ut", async () => {
      const r1 = await s1.acquire();
      const r2 = await s2.acquire();
      r2();
      r1();
      const q2 = await s2.acquire();
      const q1 = await s1.acquire();
      q1();
      q2();
    });
    assertVerdicts([{ kind: "circular-dependency", classes: ["s1", "s2"] }]);
  });

  it("mutex lock deadlock test: m1 → m2, then m2 → m1 (the guard style)", async () => {
    const m1 = new Mutex({ key: "m1" });
    const m2 = new Mutex({ key: "m2" });
    await task("ut", async () => {
      const g1 = await m1.lock();
      const g2 = await m2.lock();
      g2.release();
      g1.release();
      const h2 = await m2.lock();
      const h1 = await m1.lock();
      h1.release();
      h2.release();
    });
    assertVerdicts([{ kind: "circular-dependency", classes: ["m1", "m2"] }]);
  });

  it("wait event deadlock test: [S] d1 [W] d2 [E] d1, then [S] d2 [W] d1 [E] d2 (completions)", async () => {
    const d1 = new Completion({ key: "d1" });
    const d2 = new Completion({ key: "d2" });
    let waiters: Promise<void>[] = [];
    await task("ut", async () => {
      waiters.push(task("waiter", () => d1.wait())); // [S] d1
      const w2 = d2.wait(); // [W] d2
      later("helper", () => d2.complete());
      await w2;
      d1.complete(); // [E] d1: d1 → d2
      assert.deepEqual(edgesAmong("d1", "d2"), ["d1 -> d2"]);
      assertVerdicts([]);

      waiters.push(task("waiter", () => d2.wait())); // [S] d2
      const w1 = d1.wait(); // [W] d1
      later("helper", () => d1.complete());
      await w1;
      d2.complete(); // [E] d2: d2 → d1 closes the cycle
    });
    await Promise.all(waiters);
    waiters = [];
    assertVerdicts([{ kind: "circular-dependency", classes: ["d1", "d2"] }]);
    assert.deepEqual(contexts(tracker.reports()[0]), [
      ["wait_for_completion(d2)", "wait_for_completion(d1)", "complete(d2)"],
      ["wait_for_completion(d1)", "wait_for_completion(d2)", "complete(d1)"],
    ]);
    // The closing edge is never inserted.
    assert.deepEqual(edgesAmong("d1", "d2"), ["d1 -> d2"]);
  });

  it("wait event deadlock test with tracked promises: resolving is the event, awaiting the wait", async () => {
    // String keys: d1 and e1 are one class, d2 and e2 another (one pair per round).
    const d1 = deferred<void>({ key: "d1" });
    const d2 = deferred<void>({ key: "d2" });
    const e1 = deferred<void>({ key: "d1" });
    const e2 = deferred<void>({ key: "d2" });
    const waiters: Promise<void>[] = [];
    await task("ut", async () => {
      waiters.push(task("waiter", async () => await d1.promise)); // [S] d1
      void task("helper", async () => {
        await null;
        d2.resolve();
      });
      await d2.promise; // [W] d2
      d1.resolve(); // [E] d1: d1 → d2

      waiters.push(task("waiter", async () => await e2.promise)); // [S] d2
      void task("helper", async () => {
        await null;
        e1.resolve();
      });
      await e1.promise; // [W] d1
      e2.resolve(); // [E] d2: d2 → d1 closes the cycle
    });
    await Promise.all(waiters);
    assertVerdicts([{ kind: "circular-dependency", classes: ["d1", "d2"] }]);
    assert.deepEqual(contexts(tracker.reports()[0]), [
      ["await(d2)", "await(d1)", "resolve(d2)"],
      ["await(d1)", "await(d2)", "resolve(d1)"],
    ]);
  });
});
