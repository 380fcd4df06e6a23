// Renders reports as text in the kernel's shapes: lockdep's for lock-order findings
// (reference/lockdep-dept-semantics.md §1.12), DEPT's `[S] [W] [E]` report for a cycle
// through waits and events (§2.10). A pure function of the report data: the same report
// renders to the same text, which test/golden/ freezes.
import type { ReportData } from "../core/report.js";
import { deadlock } from "./text/deadlock.js";
import { deptCircular } from "./text/dept.js";
import {
  assertionFailed,
  badUnlockBalance,
  circular,
  heldAtTaskEnd,
  internalError,
  invalidAnnotation,
  limitExceeded,
  nestLockNotHeld,
  recursive,
} from "./text/lockdep.js";

export function renderText(report: ReportData): string {
  switch (report.kind) {
    case "circular-dependency": {
      const waits = report.waits;
      return waits !== undefined && waits.length > 0
        ? deptCircular({ ...report, waits })
        : circular(report);
    }
    case "recursive-locking":
      return recursive(report);
    case "bad-unlock-balance":
      return badUnlockBalance(report);
    case "held-at-task-end":
      return heldAtTaskEnd(report);
    case "assertion-failed":
      return assertionFailed(report);
    case "nest-lock-not-held":
      return nestLockNotHeld(report);
    case "invalid-annotation":
      return invalidAnnotation(report);
    case "limit-exceeded":
      return limitExceeded(report);
    case "internal-error":
      return internalError(report);
    case "deadlock":
      return deadlock(report);
    default:
      return unknownKind(report);
  }
}

/** A kind added to the union without a renderer fails the typecheck here. */
function unknownKind(report: never): string {
  const r = report as { kind?: unknown; task?: unknown };
  return `waitgraph: ${String(r.kind)} in task ${String(r.task)}`;
}
