// Which flow holds what, for code that moves work between flows: a limiter or pool runs queued
// work as the flow that submitted it, a callback-style library calls back in another flow, a
// multi-resource lock grants several holds at once. Adapters use these beside the seam's
// verbs; a lock that only blocks and releases needs none of them.
import { type Frame, type HeldLock, onFrame } from "./held-lock.js";
import { acquired } from "./acquisition.js";
import { internalError } from "./findings.js";
import { core } from "./instance.js";

export { onFrame };
export type { Frame };

const context = core.context;
const tracking = core.tracking;

/** The running code's held list, captured when work is submitted to a queue (limiters, pools). */
export function submitter(): Frame | undefined {
  return tracking.on ? context.current() : undefined;
}

/**
 * Runs queued work as the task that submitted it, holding `hold` (a limiter's permit): the work
 * is charged to its submitter, not to whichever task happened to drain the queue (p-queue #200).
 */
export function runAsSubmitter<T>(
  frame: Frame | undefined,
  hold: HeldLock | undefined,
  fn: () => T,
): T {
  if (frame === undefined || !tracking.on) return fn();
  if (hold !== undefined) hold.granted = true;
  const run =
    hold === undefined || hold.released
      ? frame
      : { task: frame.task, hold, next: frame };
  return context.runInFrame(run, fn);
}

/**
 * One acquisition granted several holds at once (a multi-resource lock). Only `last` tagged
 * the promise its caller awaits; the continuations waiting for it (made before the grant) are
 * handed every other hold too, so each of them holds every resource. `last` is granted first,
 * the others above it: the order a held list is searched in.
 */
export function grantTogether(
  holds: readonly HeldLock[],
  last: HeldLock,
): void {
  try {
    const awaiting = last.waiters;
    acquired(last, undefined);
    for (const h of holds) {
      if (h === last) continue;
      if (awaiting !== null) h.waiters = [...(h.waiters ?? []), ...awaiting];
      acquired(h, undefined);
    }
  } catch (error) {
    internalError(error);
  }
}
