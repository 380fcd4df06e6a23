// The tracker's public face: task(), assertHeld/assertNotHeld, reset(), stats(), snapshot(),
// reports() and display names.
import { beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  LockClassKey,
  Mutex,
  RwLock,
  assertHeld,
  assertNotHeld,
  heldLocks,
  task,
  tracker,
} from "../../src/index.js";
import {
  assertGraph,
  deferred,
  edges,
  fresh,
  mutex,
  reportKinds,
} from "../helpers/edges.js";

beforeEach(() => fresh());

describe("task()", () => {
  test("a task that ends holding a lock it took is reported as held-at-task-end, with its name and the lock", async () => {
    const device = mutex("device");
    let leaked: (() => void) | undefined;
    const value = await task("worker", async () => {
      leaked = await device.acquire();
      return 42;
    });
    assert.equal(value, 42);
    assert.deepEqual(reportKinds(), ["held-at-task-end"]);
    const report = tracker.reports()[0]!;
    assert.equal(report.task, "worker");
    assert.deepEqual(report.classes, ["device"]);
    leaked!();
  });

  test("a task that releases what it took, or that throws after releasing, is not reported; its result or error passes through", async () => {
    const device = mutex("device");
    assert.equal(
      await task("tidy", () => device.runExclusive(() => "ok")),
      "ok",
    );
    await assert.rejects(
      task("failing", async () => {
        const release = await device.acquire();
        release();
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(reportKinds(), []);
  });

  test("a task that throws while holding a lock is reported and its error still passes through", async () => {
    const device = mutex("device");
    let leaked: (() => void) | undefined;
    await assert.rejects(
      task("crashing", async () => {
        leaked = await device.acquire();
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(reportKinds(), ["held-at-task-end"]);
    leaked!();
  });

  test("a task starts with nothing held, even when started under a lock, and a report names the task", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    const rA = await A.acquire();
    await task("inverter", async () => {
      assert.deepEqual(heldLocks(), []);
      await B.runExclusive(() => A.tryAcquire()?.());
    });
    rA();
    await task("inverter", () =>
      B.runExclusive(() => A.runExclusive(() => {})),
    );
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
    assert.equal(tracker.reports()[0]!.task, "inverter");
  });
});

describe("assertHeld and assertNotHeld", () => {
  test("hold the lock: assertHeld passes, assertNotHeld reports; without it, the reverse", async () => {
    const device = mutex("device");
    await device.runExclusive(() => {
      assertHeld(device);
      device.assertHeld();
    });
    assert.deepEqual(reportKinds(), []);
    assertNotHeld(device);
    assert.deepEqual(reportKinds(), []);
    assertHeld(device);
    assert.deepEqual(reportKinds(), ["assertion-failed"]);
    await device.runExclusive(() => assertNotHeld(device));
    assert.deepEqual(reportKinds(), ["assertion-failed", "assertion-failed"]);
    const kinds = tracker
      .reports()
      .map((r) => (r.kind === "assertion-failed" ? r.assertion : r.kind));
    assert.deepEqual(kinds, ["held", "not-held"]);
  });

  test("read and write modes: a read hold satisfies 'read', not 'write', and the reverse for a write hold", async () => {
    const table = new RwLock({ key: "table" });
    await table.runRead(() => {
      assertHeld(table);
      assertHeld(table, "read");
      table.assertHeld("read");
    });
    await table.runWrite(() => {
      assertHeld(table);
      assertHeld(table, "write");
    });
    assert.deepEqual(reportKinds(), []);
    await table.runRead(() => assertHeld(table, "write"));
    await table.runWrite(() => assertHeld(table, "read"));
    const failed = tracker
      .reports()
      .map((r) => (r.kind === "assertion-failed" ? r.assertion : r.kind));
    assert.deepEqual(failed, ["held-write", "held-read"]);
  });

  test("a lock held by another task is not held by this one", async () => {
    const device = mutex("device");
    const held = deferred();
    const done = deferred();
    const holder = device.runExclusive(async () => {
      held.resolve();
      await done.promise;
    });
    await held.promise;
    assert.equal(device.isLocked(), true);
    assertNotHeld(device);
    assert.deepEqual(reportKinds(), []);
    assertHeld(device);
    assert.deepEqual(reportKinds(), ["assertion-failed"]);
    done.resolve();
    await holder;
  });

  test("an assertion on a lock that was never taken does not break the tracking of that lock later", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    assertHeld(B);
    await A.runExclusive(() => B.runExclusive(() => {}));
    await B.runExclusive(() => A.runExclusive(() => {}));
    assertGraph(["A -> B"], ["assertion-failed", "circular-dependency"]);
  });

  test("a sibling's lock is not held in the other sibling; the parent's is held in both", async () => {
    const [P, a] = [mutex("P"), mutex("a")];
    const aIn = deferred();
    await P.runExclusive(() =>
      Promise.all([
        a.runExclusive(async () => {
          aIn.resolve();
          assertHeld(P);
          assertHeld(a);
        }),
        (async () => {
          await aIn.promise;
          assertHeld(P);
          assertNotHeld(a);
        })(),
      ]),
    );
    assert.deepEqual(reportKinds(), []);
  });
});

describe("reset()", () => {
  test("forgets classes, edges, chains and reports; locks keep working and the graph is learnt again", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    await B.runExclusive(() => A.runExclusive(() => {}));
    assertGraph(["A -> B"], ["circular-dependency"]);
    tracker.reset();
    assert.deepEqual(tracker.snapshot(), { classes: [], edges: [] });
    assert.deepEqual(tracker.reports(), []);
    const s = tracker.stats();
    assert.deepEqual(
      [s.classes, s.edges, s.chains, s.acquisitions, s.chainHits],
      [0, 0, 0, 0, 0],
    );
    assert.deepEqual(s.reports, {});
    await B.runExclusive(() => A.runExclusive(() => {}));
    assertGraph(["B -> A"]);
  });
});

describe("stats()", () => {
  test("counts acquisitions, chain misses and hits: a repeated nesting is a cache hit", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    let s = tracker.stats();
    assert.deepEqual(
      [
        s.acquisitions,
        s.chainMisses,
        s.chainHits,
        s.chains,
        s.classes,
        s.edges,
      ],
      [2, 2, 0, 2, 2, 1],
    );
    for (let i = 0; i < 5; i++)
      await A.runExclusive(() => B.runExclusive(() => {}));
    s = tracker.stats();
    assert.deepEqual(
      [s.acquisitions, s.chainMisses, s.chainHits, s.chains, s.edges],
      [12, 2, 10, 2, 1],
    );
  });

  test("counts reports by kind, and an order-respecting new edge needs no search", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    assert.equal(tracker.stats().searches, 0);
    assert.equal(tracker.stats().searchesSkipped, 1);
    await B.runExclusive(() => A.runExclusive(() => {}));
    const s = tracker.stats();
    assert.equal(s.searches + s.searchesSkipped, 2);
    assert.deepEqual(s.reports, { "circular-dependency": 1 });
    assert.equal(s.enabled, true);
    assert.equal(s.context, "promise-hooks");
    assert.equal(s.reportsDropped, 0);
  });
});

describe("snapshot(), reports() and names", () => {
  test("an edge names both classes, keeps stable ids, and says how it was taken (EN: write under write)", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    await A.runExclusive(() => B.runExclusive(() => {}));
    const snap = tracker.snapshot();
    assert.deepEqual(
      snap.classes.map((c) => [c.name, c.id, c.type]),
      [
        ["A", "key:A", "mutex"],
        ["B", "key:B", "mutex"],
      ],
    );
    assert.equal(snap.edges.length, 1);
    const [edge] = snap.edges;
    assert.deepEqual(
      [edge!.from, edge!.to, edge!.fromId, edge!.toId],
      ["A", "B", "key:A", "key:B"],
    );
    assert.deepEqual(edge!.read, { SR: false, ER: false, SN: false, EN: true });
  });

  test("a read hold under a read hold sets SN, and a recursive reader sets SR", async () => {
    const [X, Y] = [new RwLock({ key: "X" }), new RwLock({ key: "Y" })];
    const Z = new RwLock({ key: "Z", recursiveRead: true });
    await X.runRead(() => Y.runRead(() => {}));
    await Y.runRead(() => Z.runRead(() => {}));
    const bits = Object.fromEntries(
      tracker.snapshot().edges.map((e) => [`${e.from} -> ${e.to}`, e.read]),
    );
    assert.deepEqual(bits, {
      "X -> Y": { SR: false, ER: false, SN: true, EN: false },
      "Y -> Z": { SR: true, ER: false, SN: false, EN: false },
    });
  });

  test("display names: `name`, else the string key, else the LockClassKey's name; a subclass adds /s", async () => {
    const named = new Mutex({ name: "accounts", key: "acct" });
    const keyed = mutex("ledger");
    const byKey = new Mutex({ key: new LockClassKey("inode") });
    await named.runExclusive(() =>
      keyed.runExclusive(() =>
        byKey.runExclusive(() =>
          mutex("ledger").runExclusive(() => {}, { subclass: 1 }),
        ),
      ),
    );
    assert.deepEqual(
      tracker.snapshot().classes.map((c) => c.name),
      ["accounts", "ledger", "inode", "ledger/1"],
    );
    assert.deepEqual(edges(), [
      "accounts -> ledger",
      "inode -> ledger/1",
      "ledger -> inode",
    ]);
  });

  test("reports() returns a copy", async () => {
    await mutex("A").runExclusive(() => {});
    const device = mutex("device");
    assertHeld(device);
    const copy = tracker.reports() as unknown[];
    copy.length = 0;
    assert.deepEqual(reportKinds(), ["assertion-failed"]);
  });
});
