// The findings the seam's verbs make themselves, outside the validator's rules: a release
// without a hold, a failed assertion, a named capacity that ran out in an adapter, and a bug
// of waitgraph's own. Each is one report, built here once; nothing here throws into the
// program (but an assertion under `throw`, which is the assertion's purpose).
import { ReportError } from "./errors.js";
import type { Frame, HeldLock } from "./held-lock.js";
import { core } from "./instance.js";
import type { LockClass } from "./lock-class.js";
import type { AssertionKind, Report, ReportData } from "./report.js";
import { captureTrace, userFrames } from "./stack.js";
import { heldRefs, lockRef } from "./validator.js";

export function report(data: ReportData): Report {
  return core.reporter.emit(data);
}

/** A bug in waitgraph: one report, never an exception in the program. */
export function internalError(error: unknown): void {
  try {
    const message = error instanceof Error ? error.message : String(error);
    report({
      kind: "internal-error",
      id: `internal-error:${message}`,
      classes: [],
      task: "main",
      held: [],
      stack: [],
      message,
      error: error instanceof Error ? (error.stack ?? message) : message,
    });
  } catch {
    // The reporter itself failed; there is nothing safe left to do.
  }
}

/** The user's first frame of a stack, as `file:line` (a report id's site part). */
function siteKey(stack: readonly { file: string; line: number }[]): string {
  const top = stack[0];
  return top !== undefined ? `${top.file}:${top.line}` : "";
}

/** A releaser was called again after it released (lockdep's unlock imbalance). */
export function badUnlockBalance(hold: HeldLock, frame: Frame): void {
  const trace = captureTrace();
  report({
    kind: "bad-unlock-balance",
    id: `bad-unlock-balance:${hold.cls.id}:${siteKey(userFrames(trace, 3))}`,
    classes: [hold.cls.name],
    task: frame.task.name,
    held: heldRefs(frame),
    stack: userFrames(trace),
    lock: lockRef(hold, trace),
  });
}

/** lockdep_assert_held & co. failed for `cls` in `frame`; under `throw` it throws. */
export function assertionFailed(
  cls: LockClass,
  kind: AssertionKind,
  frame: Frame,
): void {
  const stack = userFrames(captureTrace());
  const r = report({
    kind: "assertion-failed",
    id: `assertion-failed:${kind}:${cls.id}:${siteKey(stack)}`,
    classes: [cls.name],
    task: frame.task.name,
    held: heldRefs(frame),
    stack,
    assertion: kind,
    lock: cls.ref(),
  });
  if (core.reporter.policy === "throw") throw new ReportError(r);
}

/**
 * An adapter's own named capacity ran out (per-key classes of a library's locks): what needed
 * it is not checked from now on, and the report says how to group keys. Reported once per id.
 */
export function limitExceeded(
  id: string,
  className: string,
  limit: string,
  max: number,
): void {
  report({
    kind: "limit-exceeded",
    id: `limit-exceeded:${id}`,
    classes: [className],
    task: "main",
    held: [],
    stack: [],
    limit,
    max,
  });
}
