// lib/locking-selftest.c, the scenario × lock-type matrix (DO_TESTCASE_6R / _6 / _6_SUCCESS):
// every scenario runs once per lock type on a fresh tracker, and declares exactly which report
// kinds it must produce. A missing report (false negative) and an extra one (false positive)
// both fail. Columns: the kernel's spin, wlock, rlock, mutex, wsem, rsem, plus `sem`
// (Semaphore(1), a lock with one permit) where the kernel has rtmutex.
//
// The kernel runs the "CPUs" of a scenario one after the other in one task: verdicts depend on
// the history of lock orders, not on timing. So does waitgraph; two-task runs of the cycle
// family are in concurrent.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { task } from "../../../src/index.js";
import {
  BAD_UNLOCK,
  CIRCULAR,
  COLUMNS,
  RECURSIVE,
  SUCCESS,
  kernel,
  perColumn,
  verdictOf,
  type Column,
  type Kernel,
  type Verdict,
} from "../../helpers/scenario.js";
import { CYCLES } from "./cases.js";

interface Row {
  name: string;
  body: (k: Kernel) => Promise<void>;
  expect: Record<Column, Verdict>;
}

const rows: Row[] = [
  {
    // E(): LOCK(X1); LOCK(X2); /* this one should fail */ — two instances of one class.
    // 'read' variant (DO_TESTCASE_6R): recursive readers may nest, so rlock must not trigger.
    name: "A-A deadlock",
    body: async ({ LOCK }) => {
      await LOCK("X1");
      await LOCK("X2");
    },
    expect: perColumn(RECURSIVE, { rlock: SUCCESS }),
  },
  ...CYCLES.map((c): Row => ({
    name: `${c.name} deadlock`,
    body: async (k) => {
      for (const [x, y] of c.pairs) await k.LOCK_UNLOCK_2(x, y);
    },
    // Recursive readers only ever wait for a writer holder: a cycle of them is not strong.
    expect: perColumn(CIRCULAR, { rlock: SUCCESS }),
  })),
  {
    // E(): LOCK(A); UNLOCK(A); UNLOCK(A); /* fail */ — a releaser called twice.
    name: "double unlock",
    body: async ({ LOCK, UNLOCK }) => {
      await LOCK("A");
      UNLOCK("A");
      UNLOCK("A");
    },
    expect: perColumn(BAD_UNLOCK),
  },
  {
    // E(): LOCK(A); INIT(A); /* fail */ — the kernel's debug_check_no_locks_freed().
    // A JS lock cannot be re-initialised or freed in place; the lifetime that can end under a
    // held lock is the task's, which lockdep checks with debug_check_no_locks_held() and
    // waitgraph reports as held-at-task-end.
    name: "initialize held (a task ends holding it)",
    body: async ({ LOCK }) => {
      await task("cpu0", async () => {
        await LOCK("A");
      });
    },
    expect: perColumn(["held-at-task-end"]),
  },
  {
    // E(): LOCK(A); LOCK(B); UNLOCK(A); UNLOCK(B); — was a FAILURE before non-nested unlocks
    // became legal (CONFIG_DEBUG_NON_NESTED_UNLOCKS is gone); now DO_TESTCASE_6_SUCCESS.
    name: "bad unlock order",
    body: async ({ LOCK, UNLOCK }) => {
      await LOCK("A");
      await LOCK("B");
      UNLOCK("A");
      UNLOCK("B");
    },
    expect: perColumn(SUCCESS),
  },
];

function says(v: Verdict): string {
  return v.length === 0 ? "reports nothing" : `reports ${v.join(", ")}`;
}

for (const row of rows)
  for (const column of COLUMNS) {
    const expected = row.expect[column];
    test(`${row.name} on ${column} ${says(expected)}`, async () => {
      assert.deepEqual(
        await verdictOf(() => row.body(kernel(column))),
        expected,
      );
    });
  }
