// What happens to a report: loud by default, swappable.
//
//   log     each distinct report (by id) once to stderr, then keep going — DEPT's continuous
//           reporting, not lockdep's stop-after-one (reference §2.8)
//   throw   the acquire or wait that would deadlock rejects with DeadlockError; assertions and
//           task ends throw ReportError; other reports are logged
//   silent  keep the reports (tracker.reports()), print nothing
//   fn      call the handler once per distinct report; a throwing handler is logged, not rethrown
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

const MAX_STORED = 10_000;

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
    } catch (error) {
      text = `${plain(data)}\n(the renderer failed: ${String(error)})`;
    }
    const report = { ...data, text } as Report;
    this.byId.set(report.id, report);
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
      try {
        policy(report);
      } catch (error) {
        this.write(
          `waitgraph: the report handler threw (${String(error)}); the report was:\n${report.text}`,
        );
      }
      return;
    }
    if (
      policy === "throw" &&
      (DEADLOCK_KINDS.has(report.kind) || THROWN_KINDS.has(report.kind))
    )
      return;
    this.write(report.text);
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
    this.logged.add(report.id);
    this.write(report.text);
  }

  reset(): void {
    this.stored.length = 0;
    this.logged.clear();
    this.byId.clear();
    this.counts.clear();
    this.dropped = 0;
  }
}
