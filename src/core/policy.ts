// What happens to a report: loud by default, swappable.
//
//   log     each distinct report (by id) once to stderr, then keep going — DEPT's continuous
//           reporting, not lockdep's stop-after-one (reference §2.8)
//   throw   the acquire or wait that would deadlock rejects with DeadlockError; assertions and
//           task ends throw ReportError; other reports are logged
//   silent  keep the reports (tracker.reports()), print nothing
//   fn      call the handler once per distinct report; a throwing handler — or an async one whose
//           promise rejects — is logged, not rethrown (no exception, no unhandledRejection)
//
// The tracker never hurts its host: whatever the user's code plugged in here (a handler, a
// renderer, the writer) runs inside a try, and what it threw is shown without running more of
// its code than String() (itself guarded: an error whose toString throws is described instead).
// Every report is frozen deep when it is made: the one object handed to the handler, stored for
// tracker.reports() and carried by DeadlockError cannot be changed by one reader under another.
import { describe } from "./arguments.js";
import type { Renderer, Report, ReportData, ReportKind } from "./report.js";

export type Policy = "log" | "throw" | "silent" | ((report: Report) => void);

/** Kinds that stand for a deadlock that may happen: under `throw` the acquire rejects. */
export const DEADLOCK_KINDS: ReadonlySet<ReportKind> = new Set([
  "recursive-locking",
  "circular-dependency",
]);
/** Kinds that `throw` raises where they happen (an assertion, a task's end). */
export const THROWN_KINDS: ReadonlySet<ReportKind> = new Set([
  "assertion-failed",
  "held-at-task-end",
]);

/** Reports kept for tracker.reports(); later ones are delivered but counted in `reportsDropped`. */
export const MAX_STORED = 10_000;
/**
 * Distinct report ids remembered (to report each finding once) until tracker.reset(). Past it a
 * new finding is still delivered, but a repeat of it may be delivered again: memory stays
 * bounded (an id names its classes, up to MAX_NAME_CHARS each) at the price of a repeated line.
 */
export const MAX_REPORT_IDS = 65_536;

/** String(value), or a description of it when its toString / Symbol.toPrimitive throws. */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return describe(value);
  }
}

/**
 * Freezes a report and everything in it: the arrays and plain objects it is made of (all of it
 * is fresh data built for this report — lockRef, userFrames and ClassRef copy, never share, the
 * tracker's own state). Reports are rare (one per distinct finding, deduplicated by id), so
 * this walk is off the hot path: measured in test/core/host-safety.test.ts.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value))
    return value;
  Object.freeze(value);
  for (const key of Object.keys(value))
    deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

const plain: Renderer = (r) =>
  `waitgraph: ${r.kind} (${r.classes.join(" -> ")}) in task ${r.task}`;

export class Reporter {
  policy: Policy = "log";
  renderer: Renderer = plain;
  readonly stored: Report[] = [];
  readonly counts = new Map<ReportKind, number>();
  private readonly byId = new Map<string, Report>();
  /** Ids of deadlock findings logged under `throw` because nothing could throw them. */
  private readonly logged = new Set<string>();
  dropped = 0;
  /** Where `log` writes; replaced in tests. */
  write: (text: string) => void = (text) =>
    process.stderr.write(text.endsWith("\n") ? text : text + "\n");

  /** Records a finding and applies the policy. Returns the report (the first one for a repeated id). */
  emit(data: ReportData): Report {
    const known = this.byId.get(data.id);
    if (known !== undefined) return known;
    let text: string;
    try {
      text = this.renderer(data);
      if (typeof text !== "string")
        throw new TypeError(`it returned ${describe(text)}, not text`);
    } catch (error) {
      text = `${plain(data)}\n(the renderer failed: ${safeString(error)})`;
    }
    const report = deepFreeze({ ...data, text } as Report);
    if (this.byId.size < MAX_REPORT_IDS) this.byId.set(report.id, report);
    this.counts.set(report.kind, (this.counts.get(report.kind) ?? 0) + 1);
    if (this.stored.length < MAX_STORED) this.stored.push(report);
    else this.dropped++;
    this.deliver(report);
    return report;
  }

  private deliver(report: Report): void {
    const policy = this.policy;
    if (policy === "silent") return;
    if (typeof policy === "function") {
      let result: unknown;
      try {
        result = policy(report);
      } catch (error) {
        this.handlerFailed("threw", error, report);
        return;
      }
      // An async handler: its rejection is this report's failure too, logged the same way.
      // Promise.resolve adopts any thenable (a `then` getter that throws becomes a rejection),
      // and the handler is attached before this call returns, so no unhandledRejection fires.
      if (
        (typeof result === "object" && result !== null) ||
        typeof result === "function"
      )
        Promise.resolve(result).then(undefined, (error: unknown) =>
          this.handlerFailed("rejected", error, report),
        );
      return;
    }
    if (
      policy === "throw" &&
      (DEADLOCK_KINDS.has(report.kind) || THROWN_KINDS.has(report.kind))
    )
      return;
    this.safeWrite(report.text);
  }

  /** The writer (stderr, or one a test installed) failing must not fail the lock operation. */
  private safeWrite(text: string): void {
    try {
      this.write(text);
    } catch {
      // Nowhere left to say it; the report is still stored.
    }
  }

  /** A handler's failure, logged with the report; the writer failing too is swallowed. */
  private handlerFailed(how: string, error: unknown, report: Report): void {
    this.safeWrite(
      `waitgraph: the report handler ${how} (${safeString(error)}); the report was:\n${report.text}`,
    );
  }

  throws(report: Report): boolean {
    return this.policy === "throw" && DEADLOCK_KINDS.has(report.kind);
  }

  /**
   * A deadlock finding that nothing can throw under `throw`: a cycle closed by an event
   * (complete, resolve, notify) or by an `await`, which cannot be refused. Logged once, so it
   * is not lost between "the acquirer throws it" and "other reports are logged".
   */
  unthrown(report: Report): void {
    if (!this.throws(report) || this.logged.has(report.id)) return;
    if (this.logged.size < MAX_REPORT_IDS) this.logged.add(report.id);
    this.safeWrite(report.text);
  }

  reset(): void {
    this.stored.length = 0;
    this.logged.clear();
    this.byId.clear();
    this.counts.clear();
    this.dropped = 0;
  }
}
