// The cycle family of lib/locking-selftest.c with its "CPUs" as two real, concurrent tasks.
//
// The kernel runs every scenario in one task because lockdep's verdict depends on the history
// of lock orders only. Here the pairs `LOCK_UNLOCK_2(x, y)` alternate between two `task()`s that
// overlap: pair i+1 starts while pair i still holds both its locks, and pair i releases only
// after pair i+1 has asked for its first lock — so the tasks contend for real, and each task's
// held list must stay its own. No interleaving can hang: whoever waits, waits for a pair that
// already holds everything it needs. The verdicts are the sequential ones.
//
// Then the real thing: two tasks in a true ABBA interleaving (each holds one lock and asks for
// the other). Under `policy: 'throw'` the acquire that closes the cycle rejects with a
// DeadlockError instead of hanging.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DeadlockError, task, tracker } from "../../../src/index.js";
import {
  CIRCULAR,
  COLUMNS,
  Locks,
  SUCCESS,
  World,
  gate,
  kernel,
  verdictOf,
  type Column,
  type Kernel,
  type LockName,
} from "../../helpers/scenario.js";
import { CYCLES } from "./cases.js";

/** Runs the pairs on two overlapping tasks; returns how many first acquisitions found their lock taken. */
async function twoCpus(
  column: Column,
  pairs: [LockName, LockName][],
): Promise<number> {
  const locks = new Locks();
  let contended = 0;
  const cpus: Kernel[] = [
    kernel(column, new World(locks)),
    kernel(column, new World(locks)),
  ];
  const holding = pairs.map(() => gate());
  const asked = pairs.map(() => gate());
  const cpu = (id: 0 | 1) =>
    task(`cpu${id}`, async () => {
      const k = cpus[id]!;
      for (let i = id; i < pairs.length; i += 2) {
        const [x, y] = pairs[i]!;
        if (i > 0) await holding[i - 1]!.opened;
        if (isLocked(locks, column, x)) contended++;
        const first = k.LOCK(x);
        asked[i]!.open();
        await first;
        await k.LOCK(y);
        holding[i]!.open();
        if (i + 1 < pairs.length) await asked[i + 1]!.opened;
        k.UNLOCK(y);
        k.UNLOCK(x);
      }
    });
  await Promise.all([cpu(0), cpu(1)]);
  return contended;
}

function isLocked(locks: Locks, column: Column, name: LockName): boolean {
  switch (column) {
    case "spin":
      return locks.spin[name].isLocked();
    case "wlock":
    case "rlock":
      return locks.rwlock[name].isLocked();
    case "mutex":
      return locks.mutex[name].isLocked();
    case "wsem":
    case "rsem":
      return locks.rwsem[name].isLocked();
    case "sem":
      return locks.sem[name].available === 0;
  }
}

for (const c of CYCLES)
  for (const column of COLUMNS) {
    const expected = column === "rlock" ? SUCCESS : CIRCULAR;
    test(`${c.name} deadlock on ${column}, split over two overlapping tasks, ${expected.length === 0 ? "reports nothing" : "reports circular-dependency"}`, async () => {
      assert.deepEqual(
        await verdictOf(() => twoCpus(column, c.pairs)),
        expected,
      );
    });
  }

test("in the two-task ABBA the second task waits for the first and is named in the report", async () => {
  let contended = 0;
  await verdictOf(async () => {
    contended = await twoCpus("spin", [
      ["A", "B"],
      ["B", "A"],
    ]);
  });
  assert.equal(contended, 1);
  const [r] = tracker.reports();
  assert.equal(r?.kind, "circular-dependency");
  assert.deepEqual([...r!.classes].sort(), ["spin_A", "spin_B"]);
  assert.equal(r!.task, "cpu1");
});

// A true ABBA: cpu0 holds A and asks for B while cpu1 holds B and asks for A. Exclusive
// columns only (recursive and non-recursive readers alone never block each other).
const exclusive: Column[] = ["spin", "wlock", "mutex", "wsem", "sem"];
for (const column of exclusive)
  test(`a real ABBA between two tasks on ${column} rejects the closing acquire under policy 'throw' instead of hanging`, async () => {
    const outcomes: string[] = [];
    const verdict = await verdictOf(async () => {
      const locks = new Locks();
      const [k0, k1] = [
        kernel(column, new World(locks)),
        kernel(column, new World(locks)),
      ];
      const holdsA = gate();
      const holdsB = gate();
      const askedB = gate();
      const cpu0 = task("cpu0", async () => {
        await k0.LOCK("A");
        holdsA.open();
        await holdsB.opened;
        // Validated now, before it blocks: edge A → B, no cycle yet. Then it waits for cpu1.
        const b = k0.LOCK("B");
        askedB.open();
        await b;
        outcomes.push("cpu0 took B");
        k0.UNLOCK("B");
        k0.UNLOCK("A");
      });
      const cpu1 = task("cpu1", async () => {
        await holdsA.opened;
        await k1.LOCK("B");
        holdsB.open();
        await askedB.opened;
        try {
          await k1.LOCK("A"); // B → A closes the cycle: rejected, never blocks.
          outcomes.push("cpu1 took A");
          k1.UNLOCK("A");
        } catch (error) {
          assert.ok(error instanceof DeadlockError);
          assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
          assert.equal(error.report.kind, "circular-dependency");
          outcomes.push("cpu1 was refused A");
        } finally {
          k1.UNLOCK("B");
        }
      });
      await Promise.all([cpu0, cpu1]);
    }, "throw");
    assert.deepEqual(verdict, CIRCULAR);
    assert.deepEqual(outcomes, ["cpu1 was refused A", "cpu0 took B"]);
  });
