// Detection produces data; rendering is a separate, pure step (src/report). A report is a
// discriminated union on `kind`. `text` is filled in by the renderer the entry point installs
// (core cannot import src/report), so every report a user sees carries its rendered text.

import type { DeadlockReportFields } from "./deadlock-report.js";

/** One frame of user code, after waitgraph's own frames and Node internals are dropped. */
export interface SourceFrame {
  fn: string;
  file: string;
  line: number;
  column: number;
}

/** Lockdep read modes: 0 exclusive (write), 1 shared non-recursive, 2 shared recursive. */
export type ReadMode = 0 | 1 | 2;

/** A lock (or event) class as it appears in a report. */
export interface ClassRef {
  /** Stable id, the same in every process that builds the same code (used to merge graphs). */
  id: string;
  /** Display name: `name`, else the string key, else the construction site; subclass s adds `/s`. */
  name: string;
  /** What made it: mutex, rwlock, semaphore, completion, … */
  type: string;
  /** lockdep's usage string for a process-context lock: `{+.+.}` write only, `{.+.+}` read only, `{++++}` both. */
  usage: string;
}

/** A lock being taken or held, with where it was taken (the first acquisition of its chain). */
export interface LockRef extends ClassRef {
  read: ReadMode;
  /** The lock instance's own name, when it has one distinct from the class. */
  instance?: string;
  /** Where this hold was taken; with `site: "first-seen"`, where its locking pattern was first taken. */
  at: SourceFrame[];
  /**
   * Present when `at` is not this hold's own site but the first-seen site of the same chain
   * (the default, where a per-acquisition capture would cost 1–8 µs); `sites: 'every'` avoids it.
   */
  site?: "first-seen";
}

/** One edge of a dependency chain, with the stack saved when the edge was first added. */
export interface ChainLink {
  /** The class the edge leads into (`-> #i (<class>)`). */
  class: ClassRef;
  read: ReadMode;
  stack: SourceFrame[];
  /** The process (or thread) that added this edge, when it is not the one reporting (a shared store). */
  process?: string;
}

interface ReportBase {
  /** Identical findings share an id; `log` prints each id once. */
  id: string;
  /** The rendered text (kernel-shaped). */
  text: string;
  /** Display names of the classes involved. */
  classes: string[];
  /** The task that made the finding. */
  task: string;
  /** The locks that task held, bottom first. */
  held: LockRef[];
  /** The user-code stack at the finding. */
  stack: SourceFrame[];
}

/** A class taken while a lock of the same class is held (lockdep `check_deadlock`). */
export interface RecursiveLockingReport extends ReportBase {
  kind: "recursive-locking";
  next: LockRef;
  prev: LockRef;
  /** The class's `order(held, next)` result, when it has one and it did not allow the order. */
  orderResult?: number;
  /** True when it is the very same instance (a certain self-deadlock, not a missing annotation). */
  sameInstance: boolean;
  /**
   * The same instance of a lock only one task can hold, taken again exclusively: this flow
   * hangs for certain. False for a pool or semaphore with more units (it hangs once all units
   * are held by tasks doing the same) and for re-reading.
   */
  certain: boolean;
  /**
   * Same instance, several units: the flow holds `held` of the lock's `size` units and asks for
   * one more. That hangs only under load: when `flowsToHang` = ⌈size / held⌉ flows do the same
   * at once. Absent when the size is unknown.
   */
  pool?: { size: number; held: number; flowsToHang: number };
}

/** Taking `next` while holding `prev` closes a cycle in the class graph. */
export interface CircularDependencyReport extends ReportBase {
  kind: "circular-dependency";
  next: LockRef;
  prev: LockRef;
  /**
   * The existing chain next → … → prev, printed "in reverse order": `chain[0]` is `#N` (prev's
   * class, with the stack of the edge into it) and the last entry is `#0` (next, with the current stack).
   */
  chain: ChainLink[];
  /** The classes of the cycle in order, starting at next and ending at prev. */
  cycle: ClassRef[];
  /** DEPT view of the same cycle when waits or events are part of it (issue 3). */
  waits?: WaitContext[];
  /** A wait with a timeout is on the cycle: a circular dependency, not a certain deadlock. */
  timeout?: boolean;
  /** Other processes (or threads) whose edges are on the cycle, found through a shared store. */
  processes?: string[];
}

/** DEPT's per-edge context block: [S] start of the event context, [W] the wait, [E] the event. */
export interface WaitContext {
  start: { fn: string; class: ClassRef; at: SourceFrame[] };
  wait: {
    fn: string;
    class: ClassRef;
    at: SourceFrame[];
    /** This wait had a timeout: DEPT prints `>8 timeout` between its [W] and [E]. */
    timeout?: boolean;
  };
  event: { fn: string; class: ClassRef; at: SourceFrame[] };
}

/** A releaser called again after the lock was released. */
export interface BadUnlockBalanceReport extends ReportBase {
  kind: "bad-unlock-balance";
  lock: LockRef;
}

/** A `task()` settled while still holding locks it took. */
export interface HeldAtTaskEndReport extends ReportBase {
  kind: "held-at-task-end";
  locks: LockRef[];
}

export type AssertionKind = "held" | "held-read" | "held-write" | "not-held";

export interface AssertionFailedReport extends ReportBase {
  kind: "assertion-failed";
  assertion: AssertionKind;
  lock: ClassRef;
}

/** `nestLock` given, but the nest lock is not held by this task. */
export interface NestLockNotHeldReport extends ReportBase {
  kind: "nest-lock-not-held";
  lock: LockRef;
  nestLock: ClassRef;
}

/** An annotation the validator cannot use (an `order` function that throws or returns a non-number, …). */
export interface InvalidAnnotationReport extends ReportBase {
  kind: "invalid-annotation";
  message: string;
}

/** A named capacity ran out; validation of what needed it stops, the program goes on. */
export interface LimitExceededReport extends ReportBase {
  kind: "limit-exceeded";
  limit: string;
  max: number;
}

/** A bug in waitgraph, caught before it could reach the program. */
export interface InternalErrorReport extends ReportBase {
  kind: "internal-error";
  message: string;
  error: string;
}

/** Waits that are stuck now: a live deadlock (./deadlock-report.ts). */
export interface DeadlockReport extends ReportBase, DeadlockReportFields {}

export type Report =
  | RecursiveLockingReport
  | CircularDependencyReport
  | BadUnlockBalanceReport
  | HeldAtTaskEndReport
  | AssertionFailedReport
  | NestLockNotHeldReport
  | InvalidAnnotationReport
  | LimitExceededReport
  | InternalErrorReport
  | DeadlockReport;

export type ReportKind = Report["kind"];

/** A report before its text is rendered. */
export type ReportData = Report extends infer R
  ? R extends Report
    ? Omit<R, "text">
    : never
  : never;

/** Renders a report to text; installed by the entry point (src/report/text.ts). */
export type Renderer = (report: ReportData) => string;

// Names in reports are bounded. A class name (a string key, a `name` option), a task name or
// a lock instance's name is user data of any length, and a report repeats it — the text
// renderer once per line that mentions the class, JSON in every ClassRef. Before this bound a
// 1 MB key made a 4 MB report text and a 16 MB JSON document. Past MAX_NAME_CHARS a name is
// cut where it is made (LockClass, newTask), so every renderer — text, JSON, SARIF, DOT,
// HTML — shows the same bounded name: `aaaa…(+999800 chars)`.

/** The longest name a report shows, in UTF-16 code units, before `…(+N chars)`. */
export const MAX_NAME_CHARS = 200;

/** `name`, or its first MAX_NAME_CHARS characters and how many were cut. */
export function boundedName(name: string): string {
  if (name.length <= MAX_NAME_CHARS) return name;
  // Do not split a surrogate pair: a lone half renders as U+FFFD and is invalid in JSON tools.
  let end = MAX_NAME_CHARS;
  const last = name.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${name.slice(0, end)}…(+${name.length - end} chars)`;
}

/**
 * A short, stable digest of a long name (FNV-1a, 32 bits, hex), for stable ids: two keys that
 * share their first MAX_NAME_CHARS characters are still two classes, in every process.
 */
export function nameDigest(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** A name for an id: the bounded name, plus the digest of the whole when it was cut. */
export function boundedIdName(name: string): string {
  return name.length <= MAX_NAME_CHARS
    ? name
    : `${boundedName(name)}#${nameDigest(name)}`;
}
