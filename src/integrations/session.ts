// A test process's side of the runner integrations (Vitest, node:test): tracking on with the
// policy tests want, which reports belong to which test, and the error that fails a test with
// them. Runner-neutral: vitest-setup.ts and node-test.ts call it from their runner's hooks.
import { settingsFromEnvironment } from "../core/environment.js";
import { reportTitle, WaitgraphError } from "../core/errors.js";
import type { Report } from "../core/report.js";
import { tracker } from "../core/tracker.js";
import { renderText } from "../report/text.js";

/**
 * Tracking on, with the policy from WAITGRAPH=off|log|throw|silent, else `throw`. In a test,
 * `throw` is the one that fails fast: a lock re-taken by its own holder is a certain deadlock,
 * and under `log` the test would hang until its timeout; under `throw` that acquire rejects at
 * once with a DeadlockError whose message is the report. Findings that do not throw (a lock
 * still held when a `task()` ends, a cycle the test caught and ignored) fail the test at its end.
 */
export function startTracking(env: Record<string, string | undefined>): void {
  tracker.setRenderer(renderText);
  const settings = settingsFromEnvironment(env);
  tracker.configure({ ...settings, policy: settings.policy ?? "throw" });
}

/**
 * Which reports are whose. A report is charged to the test that was running when it was made;
 * one made between tests (module top level, `beforeAll`, `afterAll`) is charged to the file.
 * Each report is charged once. Reports are told apart by identity, not id, so a finding made
 * again after `tracker.reset()` is charged again.
 *
 * Design limit: tests that run at the same time in one process (`test.concurrent`, node:test's
 * `concurrency`) share one tracker; a report is then charged to the first of them to end.
 */
export class Ledger {
  private readonly seen = new WeakSet<Report>();
  private outside: Report[] = [];

  constructor() {
    // What an earlier file in this process found was charged there.
    for (const r of tracker.reports()) this.seen.add(r);
  }

  private fresh(): Report[] {
    const out: Report[] = [];
    for (const r of tracker.reports())
      if (!this.seen.has(r)) {
        this.seen.add(r);
        out.push(r);
      }
    return out;
  }

  /** A test begins: whatever was found since the last test ended belongs to the file. */
  testStarts(): void {
    this.outside.push(...this.fresh());
  }

  /** A test ended: what was found while it ran. */
  testEnds(): Report[] {
    return this.fresh();
  }

  /** The file is done: what was found outside its tests. */
  fileEnds(): Report[] {
    const out = [...this.outside, ...this.fresh()];
    this.outside = [];
    return out;
  }
}

/**
 * A test (or a file) made reports. The message is the rendered reports, headed by the first
 * one's WARNING line; the stack is left out, because it would point into waitgraph's hook,
 * while each report carries the stacks of the user's code.
 */
export class ReportedError extends WaitgraphError {
  readonly reports: readonly Report[];
  constructor(reports: readonly Report[], where: string) {
    super("ERR_WAITGRAPH_REPORTED", message(reports, where));
    this.reports = reports;
    this.stack = `${this.name}: ${this.message}`;
  }
}

function message(reports: readonly Report[], where: string): string {
  const first = reports[0];
  if (first === undefined) return `waitgraph reported nothing ${where}`;
  const more =
    reports.length > 1 ? ` and ${reports.length - 1} more report(s)` : "";
  return [
    `${reportTitle(first)} ${where}${more}`,
    ...reports.map((r) => r.text),
  ].join("\n");
}

/** `WARNING: possible circular locking dependency detected (A, B)`, the kernel's banner line. */

/**
 * The reports a test's own error already carries: under `throw` the acquire that would deadlock
 * rejected with a DeadlockError, and if the test let it through, that error is its failure.
 * Failing the test a second time with the same text would only repeat it.
 */
export function alreadyThrown(errors: readonly unknown[]): Set<string> {
  const ids = new Set<string>();
  for (const e of errors) {
    const report = (e as { report?: { id?: unknown } } | null)?.report;
    if (typeof report?.id === "string") ids.add(report.id);
  }
  return ids;
}
