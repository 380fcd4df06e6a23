// The `deadlock` report: waits that really are stuck now, found in the live wait-for graph
// (wait-for.ts), not a cycle that can happen (the class graph's `circular-dependency`).
import type { LockRef } from "./report.js";

/** One blocked flow of a deadlock: what it waits for, since when, and what it holds. */
export interface BlockedFlow {
  /** The flow's number within this report (1, 2, …), oldest wait first. */
  flow: number;
  /** The task the flow runs in (anonymous flows share `main`). */
  task: string;
  /** The lock, permit or pool it waits for; `at` is where it asked (its chain's first acquisition). */
  waitsFor: LockRef;
  /** How long it had been blocked when the report was made. */
  blockedMs: number;
  /** The locks it holds while it waits, bottom first, each with where it was taken. */
  holds: LockRef[];
  /** The flows of this report that hold what it waits for; empty when none of them does. */
  heldBy: number[];
  /** Why it is blocked, for a wait that is not on the cycle. */
  reason?: string;
}

export interface DeadlockReportFields {
  kind: "deadlock";
  /**
   * `exit`: the event loop drained with these waits blocked, so nothing was left to release
   * them. `watchdog`: blocked longer than `deadlockTimeout`, and every flow that could release
   * them is blocked too.
   */
  found: "exit" | "watchdog";
  /** The flows that wait for each other, oldest wait first. Empty when the waits reach no cycle. */
  flows: BlockedFlow[];
  /** Blocked waits not on the cycle: waiting behind it or, at exit, for what nobody will release. */
  blocked: BlockedFlow[];
  /** Under `policy: 'throw'`: the flow (a number of `flows`) whose wait was rejected with DeadlockError. */
  broken?: number;
}
