// What happens to a report: `log` (the default), `throw`, `silent`, a handler function, and
// tracking turned off. Output that `log` would print to stderr is captured.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DeadlockError,
  Mutex,
  ReportError,
  assertHeld,
  heldLocks,
  task,
  tracker,
  type Report,
} from "../../src/index.js";
import {
  assertGraph,
  captureLog,
  fresh,
  mutex,
  reportKinds,
} from "../helpers/edges.js";

let log: ReturnType<typeof captureLog>;
beforeEach(() => {
  log = captureLog();
});
afterEach(() => {
  log.restore();
  tracker.configure({ enabled: true });
});

/** A → B in one task, then B → A in another: a possible ABBA deadlock although none happens. */
async function abba(A: Mutex, B: Mutex): Promise<void> {
  await A.runExclusive(() => B.runExclusive(() => {}));
  await B.runExclusive(() => A.runExclusive(() => {}));
}

describe("log", () => {
  test("prints each distinct report once, keeps going, and the acquisition that closed the cycle succeeds", async () => {
    fresh("log");
    const [A, B] = [mutex("A"), mutex("B")];
    await abba(A, B);
    await abba(A, B);
    let ranUnderBoth = false;
    await B.runExclusive(() =>
      A.runExclusive(() => {
        ranUnderBoth = true;
      }),
    );
    assert.equal(ranUnderBoth, true);
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
    assert.deepEqual(log.lines, [tracker.reports()[0]!.text]);
  });

  test("a second, different report is printed too (DEPT's continuous reporting)", async () => {
    fresh("log");
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    await abba(A, B);
    await abba(B, C);
    assert.deepEqual(reportKinds(), [
      "circular-dependency",
      "circular-dependency",
    ]);
    assert.deepEqual(
      log.lines,
      tracker.reports().map((r) => r.text),
    );
  });
});

describe("throw", () => {
  test("the acquisition that would close a cycle rejects with a DeadlockError carrying the report, and does not take the lock", async () => {
    fresh("throw");
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    const rB = await B.acquire();
    const error = await A.acquire().then(
      () => assert.fail("A was granted"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DeadlockError);
    assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
    assert.equal(error.report.kind, "circular-dependency");
    assert.deepEqual(error.report.classes, ["A", "B"]);
    assert.equal(A.isLocked(), false);
    assert.deepEqual(
      heldLocks().map((h) => h.name),
      ["B"],
    );
    rB();
    assert.deepEqual(log.lines, []);
    assertGraph(["A -> B"], ["circular-dependency"]);
  });

  test("a repeat of the same bad chain rejects again (the cached chain keeps its finding)", async () => {
    fresh("throw");
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    for (let i = 0; i < 3; i++) {
      const error = await B.runExclusive(() => A.runExclusive(() => {})).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof DeadlockError, `attempt ${i + 1}`);
      assert.equal(error.report.kind, "circular-dependency");
    }
    assert.equal(tracker.stats().chainHits >= 2, true);
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
  });

  test("re-taking a held mutex rejects instead of hanging (recursive-locking, same instance)", async () => {
    fresh("throw");
    const device = mutex("device");
    const error = await device
      .runExclusive(() => device.runExclusive(() => "never"))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof DeadlockError);
    assert.equal(error.report.kind, "recursive-locking");
    assert.equal(
      error.report.kind === "recursive-locking" && error.report.sameInstance,
      true,
    );
    assert.equal(device.isLocked(), false);
  });

  test("under throw, a trylock whose chain matches a rejected chain is still held (never validated)", async () => {
    fresh("throw");
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    const rB = await B.acquire();
    await assert.rejects(A.acquire(), DeadlockError);
    const rA = A.tryAcquire();
    assert.ok(rA);
    assert.deepEqual(
      heldLocks().map((h) => h.name),
      ["B", "A"],
    );
    const rC = await C.acquire();
    rC();
    rA();
    rB();
    assertGraph(["A -> B", "A -> C", "B -> C"], ["circular-dependency"]);
  });

  test("a failed assertion throws a ReportError, and a task that ends holding a lock rejects with one", async () => {
    fresh("throw");
    const [device, pool] = [mutex("device"), mutex("pool")];
    assert.throws(
      () => assertHeld(pool),
      (e: unknown) =>
        e instanceof ReportError &&
        e.code === "ERR_WAITGRAPH_REPORT" &&
        e.report.kind === "assertion-failed",
    );
    let leaked: (() => void) | undefined;
    await assert.rejects(
      task("leaky", async () => {
        leaked = await device.acquire();
      }),
      (e: unknown) =>
        e instanceof ReportError && e.report.kind === "held-at-task-end",
    );
    leaked!();
    assert.deepEqual(log.lines, []);
  });
});

describe("silent and handler", () => {
  test("silent keeps the reports and prints nothing", async () => {
    fresh("silent");
    await abba(mutex("A"), mutex("B"));
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
    assert.deepEqual(log.lines, []);
  });

  test("a handler is called once per distinct report, with the report, and nothing is printed", async () => {
    const seen: Report[] = [];
    fresh((r) => seen.push(r));
    const [A, B] = [mutex("A"), mutex("B")];
    await abba(A, B);
    await abba(A, B);
    assert.equal(seen.length, 1);
    assert.equal(seen[0], tracker.reports()[0]);
    assert.equal(seen[0]!.kind, "circular-dependency");
    assert.deepEqual(log.lines, []);
  });

  test("a throwing handler does not throw into the program: the lock is granted and the failure is logged with the report", async () => {
    fresh(() => {
      throw new Error("handler bug");
    });
    const [A, B] = [mutex("A"), mutex("B")];
    await abba(A, B);
    assert.equal(await B.runExclusive(() => A.runExclusive(() => 1)), 1);
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!, /handler threw \(Error: handler bug\)/);
    assert.ok(log.lines[0]!.includes(tracker.reports()[0]!.text));
  });
});

describe("enabled: false", () => {
  test("nothing is tracked, and the primitives are still correct FIFO locks", async () => {
    fresh("log");
    tracker.configure({ enabled: false });
    assert.equal(tracker.stats().enabled, false);
    const [A, B] = [mutex("A"), mutex("B")];
    await abba(A, B);
    await A.runExclusive(() => A.tryAcquire());
    const order: string[] = [];
    const first = await A.acquire();
    assert.deepEqual(heldLocks(), []);
    const waiting = [1, 2].map((i) =>
      A.acquire().then((release) => {
        order.push(`waiter ${i}`);
        release();
      }),
    );
    assert.equal(A.tryAcquire(), undefined);
    order.push("holder");
    first();
    await Promise.all(waiting);
    assert.deepEqual(order, ["holder", "waiter 1", "waiter 2"]);
    assert.deepEqual(reportKinds(), []);
    assert.deepEqual(tracker.snapshot(), { classes: [], edges: [] });
    assert.deepEqual(log.lines, []);
  });

  test("turned back on, new locks are tracked again", async () => {
    tracker.configure({ enabled: false });
    tracker.configure({ enabled: true });
    fresh("silent");
    await abba(mutex("A"), mutex("B"));
    assertGraph(["A -> B"], ["circular-dependency"]);
  });

  test("a lock taken before tracking is turned off and released while off is not held once tracking is back", async () => {
    fresh("silent");
    const [A, B] = [mutex("A"), mutex("B")];
    const rA = await A.acquire();
    tracker.configure({ enabled: false });
    rA();
    tracker.configure({ enabled: true });
    assert.deepEqual(heldLocks(), []);
    await B.runExclusive(() => {});
    assertGraph([]);
  });
});
