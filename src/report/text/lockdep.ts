// Lockdep's report layouts (kernel/locking/lockdep.c, reference §1.12), with `<comm>/<pid>`
// as a task, CPU0/CPU1 as Task0/Task1 and symbols as the user's source locations.
import type {
  AssertionFailedReport,
  BadUnlockBalanceReport,
  CircularDependencyReport,
  HeldAtTaskEndReport,
  InternalErrorReport,
  InvalidAnnotationReport,
  LimitExceededReport,
  NestLockNotHeldReport,
  RecursiveLockingReport,
} from "../../core/report.js";
import {
  backtrace,
  className,
  frames,
  header,
  heldLocks,
  lockCall,
  lockLine,
  site,
  taskName,
} from "./format.js";

type Data<R> = Omit<R, "text">;

// Column layout of the kernel's scenarios: the left column's calls start at 2, its title at 7;
// the right column's calls and title both start at 31 ("       CPU0                    CPU1").
const LEFT = "  ";
const RIGHT = " ".repeat(31);
const TITLE_INDENT = " ".repeat(7);

/** Two columns whose titles start where the kernel's `CPU0` and `CPU1` start. */
function columns(left: string, right: string): string {
  return (TITLE_INDENT + left).padEnd(RIGHT.length) + right;
}

/**
 * `print_circular_bug`. Example, A → B recorded, then B held while taking A:
 * next = A (src), prev = B (tgt), chain = [#1 B (edge A → B), #0 A (now)].
 * `parent` is the class just before prev on the cycle; it is next itself for an ABBA, and
 * only a longer cycle prints "Chain exists of:" (`print_circular_lock_scenario`).
 */
export function circular(r: Data<CircularDependencyReport>): string {
  const src = r.next.name;
  const tgt = r.prev.name;
  const parent = r.cycle.length > 2 ? r.cycle[r.cycle.length - 2]! : undefined;
  const lines = [
    ...header("WARNING: possible circular locking dependency detected"),
    `${taskName(r.task)} is trying to acquire lock:`,
    lockLine(r.next),
    "",
    "but task is already holding lock:",
    lockLine(r.prev),
    "",
    "which lock already depends on the new lock.",
    "",
    ...(r.processes !== undefined && r.processes.length > 0
      ? [
          `found in the graph shared with other processes or threads: the chain runs through ${r.processes.join(", ")}`,
          "",
        ]
      : []),
    "",
    "the existing dependency chain (in reverse order) is:",
  ];
  r.chain.forEach((link, i) => {
    const depth = r.chain.length - 1 - i;
    const where =
      link.process !== undefined ? ` (added by ${link.process})` : "";
    lines.push(
      "",
      `-> #${depth} ${className(link.class)}${where}:`,
      ...frames(link.stack),
    );
  });
  lines.push("", "other info that might help us debug this:", "");
  if (parent !== undefined)
    lines.push(
      "Chain exists of:",
      `  ${src} --> ${parent.name} --> ${tgt}`,
      "",
    );
  const middle = parent?.name ?? src;
  lines.push(
    " Possible unsafe locking scenario:",
    "",
    columns("Task0", "Task1"),
    columns("-----", "-----"),
    LEFT + lockCall(tgt, r.prev.read),
    RIGHT + lockCall(middle, 0),
    RIGHT + lockCall(tgt, 0),
    LEFT + lockCall(src, r.next.read),
    "",
    " *** DEADLOCK ***",
    "",
    ...heldLocks(r.task, r.held),
    "",
    ...backtrace(r.stack),
  );
  return lines.join("\n");
}

/**
 * `print_deadlock_bug`. The kernel blames a missing nesting annotation; when the very same
 * instance is taken twice no annotation can help, and the task waits on itself for certain.
 * The kernel's scenario prints `lock(` for both; here a read prints `rlock(`, so a reader
 * taken twice on a writer-preferring RwLock does not read as two exclusive acquisitions.
 */
export function recursive(r: Data<RecursiveLockingReport>): string {
  const lines = [
    ...header("WARNING: possible recursive locking detected"),
    `${taskName(r.task)} is trying to acquire lock:`,
    lockLine(r.next),
    "",
    "but task is already holding lock:",
    lockLine(r.prev),
  ];
  if (r.orderResult !== undefined)
    lines.push(`and the lock comparison function returns ${r.orderResult}:`);
  lines.push(
    "",
    "other info that might help us debug this:",
    " Possible unsafe locking scenario:",
    "",
    TITLE_INDENT + "Task0",
    TITLE_INDENT + "-----",
    LEFT + lockCall(r.prev.name, r.prev.read),
    LEFT + lockCall(r.next.name, r.next.read),
    "",
    " *** DEADLOCK ***",
    "",
    r.certain
      ? " The same lock instance is taken twice: this deadlocks for certain"
      : r.pool !== undefined
        ? ` It has ${r.pool.size} units and this task holds ${unitCount(r.pool.held)}: it deadlocks only under load, once ${r.pool.size} / ${r.pool.held} = ${r.pool.flowsToHang} tasks do the same at once (if that many never run together, say so with the lock's \`concurrency\` option)`
        : r.sameInstance && r.next.read === 0
          ? " The same instance is taken again while one of its units is held: it deadlocks once every unit is held by a task doing the same"
          : r.sameInstance
            ? " The same instance is read again: it deadlocks once a writer queues in between"
            : " May be due to missing lock nesting notation",
    "",
    ...heldLocks(r.task, r.held),
    "",
    ...backtrace(r.stack),
  );
  return lines.join("\n");
}

/**
 * `print_unlock_imbalance_bug`: the kernel names the lock map (the instance), then the
 * release site as `[<ip>] <sym>`. In waitgraph the cause is a releaser called again.
 */
export function badUnlockBalance(r: Data<BadUnlockBalanceReport>): string {
  const at = r.lock.at[0];
  return [
    ...header("WARNING: bad unlock balance detected!"),
    `${taskName(r.task)} is trying to release lock (${r.lock.instance ?? r.lock.name}) at:`,
    at === undefined ? "(unknown)" : `[${site(at)}] ${at.fn}`,
    "but there are no more locks to release!",
    "(its release function was already called)",
    "",
    "other info that might help us debug this:",
    ...heldLocks(r.task, r.held),
    "",
    ...backtrace(r.stack),
  ].join("\n");
}

/** `debug_check_no_locks_held()`: "<comm>/<pid> still has locks held!", for a task that ended. */
export function heldAtTaskEnd(r: Data<HeldAtTaskEndReport>): string {
  return [
    ...header(`WARNING: ${taskName(r.task)} still has locks held!`),
    `${taskName(r.task)} ended with locks still held!`,
    ...heldLocks(r.task, r.locks),
    "",
    ...backtrace(r.stack),
  ].join("\n");
}

/**
 * `print_lock_nested_lock_not_held`. The kernel prints the backtrace twice (before and after
 * the held locks); once, at the end, says the same.
 */
export function nestLockNotHeld(r: Data<NestLockNotHeldReport>): string {
  return [
    ...header("WARNING: Nested lock was not taken"),
    `${taskName(r.task)} is trying to lock:`,
    lockLine(r.lock),
    "",
    "but this task is not holding:",
    r.nestLock.name,
    "",
    "other info that might help us debug this:",
    ...heldLocks(r.task, r.held),
    "",
    ...backtrace(r.stack),
  ].join("\n");
}

const EXPECTATION: Record<
  AssertionFailedReport["assertion"],
  { call: string; expected: string; actual: string }
> = {
  held: {
    call: "assertHeld(lock)",
    expected: "was expected to hold lock:",
    actual: "but it does not hold it.",
  },
  "held-read": {
    call: 'assertHeld(lock, "read")',
    expected: "was expected to hold lock for reading:",
    actual: "but it does not hold it for reading.",
  },
  "held-write": {
    call: 'assertHeld(lock, "write")',
    expected: "was expected to hold lock for writing:",
    actual: "but it does not hold it for writing.",
  },
  "not-held": {
    call: "assertNotHeld(lock)",
    expected: "was expected not to hold lock:",
    actual: "but it holds it.",
  },
};

/** `lockdep_assert_held()` and friends: a WARN_ON in the kernel, a report here. */
export function assertionFailed(r: Data<AssertionFailedReport>): string {
  const e = EXPECTATION[r.assertion];
  return [
    ...header(`WARNING: lock assertion failed: ${e.call}`),
    `${taskName(r.task)} ${e.expected}`,
    className(r.lock),
    "",
    e.actual,
    "",
    "other info that might help us debug this:",
    ...heldLocks(r.task, r.held),
    "",
    ...backtrace(r.stack),
  ].join("\n");
}

export function invalidAnnotation(r: Data<InvalidAnnotationReport>): string {
  return [
    ...header("WARNING: invalid lock annotation"),
    `${taskName(r.task)} used a lock annotation waitgraph cannot use:`,
    r.message,
    "",
    ...backtrace(r.stack),
  ].join("\n");
}

/** lockdep's "BUG: MAX_LOCKDEP_KEYS too low!"; waitgraph keeps running, unvalidated where it ran out. */
export function limitExceeded(r: Data<LimitExceededReport>): string {
  return [
    ...header(`BUG: waitgraph limit "${r.limit}" too low!`),
    `the limit is ${r.max}; raise it with tracker.configure({ limits: { ${r.limit}: … } }).`,
    `what needed more is not validated; the program goes on (in ${taskName(r.task)}).`,
    "",
    ...backtrace(r.stack),
  ].join("\n");
}

export function internalError(r: Data<InternalErrorReport>): string {
  return [
    ...header("BUG: waitgraph internal error"),
    r.message,
    "a bug in waitgraph, not in the program: the program goes on, some checks may be missed.",
    "",
    "error:",
    ...r.error
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "")
      .map((line) => `      ${line}`),
  ].join("\n");
}

function unitCount(n: number): string {
  return n === 1 ? "1 of them" : `${n} of them`;
}
