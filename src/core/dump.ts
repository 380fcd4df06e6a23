// `tracker.dump()`: every blocked wait and what its flow holds, like the kernel's sysrq
// "show all locks held" (`debug_show_all_locks`). Inspection only: it changes nothing.
//
// Design limit: held lists are kept per flow, not per lock, and only a blocked flow's is
// recorded (wait-for.ts), so a lock held by a flow that is not blocked in a tracked wait is
// shown only as "held by a flow that is not blocked", behind the waits that want it.
import { liveHolds } from "./held-lock.js";
import { core } from "./instance.js";
import type { LockRef } from "./report.js";
import { relativeFile } from "./stack.js";
import { holdersOf, stuckWaits } from "./stuck.js";
import { lockRef } from "./validator.js";
import { blocked } from "./wait-for.js";

export interface DumpFlow {
  task: string;
  /** What it waits for; `at` is where it asked. */
  waitsFor: LockRef;
  blockedMs: number;
  /** A timeout or signal can end the wait. */
  bounded: boolean;
  /** The watchdog's fixpoint says nothing left running can end this wait. */
  stuck: boolean;
  holds: LockRef[];
  /** Indexes (in `flows`) of blocked flows holding what it waits for. */
  heldBy: number[];
}

export interface Dump {
  flows: DumpFlow[];
  text: string;
}

export function dump(): Dump {
  const now = performance.now();
  const waits = [...blocked.values()];
  const stuck = core.tracking.on ? stuckWaits(waits, false) : new Set();
  const flows = waits.map((w) => ({
    task: w.frame.task.name,
    waitsFor: lockRef(w.hold),
    blockedMs: Math.round(now - w.since),
    bounded: w.bounded,
    stuck: stuck.has(w),
    holds: liveHolds(w.frame)
      .filter((h) => !h.ecxt && h !== w.hold)
      .map((h) => lockRef(h)),
    heldBy: holdersOf(w, waits).map((v) => waits.indexOf(v)),
  }));
  return { flows, text: dumpText(flows) };
}

function where(l: LockRef): string {
  const f = l.at[0];
  return f === undefined
    ? "(unknown)"
    : `${relativeFile(f.file)}:${f.line}:${f.column}`;
}

function dumpText(flows: DumpFlow[]): string {
  const lines = ["", "Showing all locks held in the system:"];
  if (flows.length === 0) lines.push("no flow is blocked on a lock.");
  flows.forEach((f, i) => {
    lines.push(
      `flow ${i + 1} (task ${JSON.stringify(f.task)}) blocked ${f.blockedMs} ms${f.stuck ? " (stuck)" : ""}${f.bounded ? " (with timeout)" : ""} on:`,
      `  (${f.waitsFor.name}), at: ${where(f.waitsFor)}`,
      f.heldBy.length > 0
        ? `  held by flow ${f.heldBy.map((k) => k + 1).join(", flow ")}`
        : "  held by a flow that is not blocked (or by nobody)",
      `  ${f.holds.length} lock${f.holds.length === 1 ? "" : "s"} held:`,
      ...f.holds.map((h, k) => `   #${k}: (${h.name}), at: ${where(h)}`),
    );
  });
  lines.push("=============================================");
  return lines.join("\n");
}
