// Helpers for the DEPT suites: verdicts as plain data (kind, the classes of the cycle, whether a
// timed wait is on it), edges among named classes, and source lines of the calling test file.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { task, tracker } from "../../../src/index.js";

export interface Verdict {
  kind: string;
  classes: string[];
  timeout?: true;
}

/** Every report so far as a verdict: `{ kind, classes }`, plus `timeout: true` when it says so. */
export function verdicts(): Verdict[] {
  return tracker.reports().map((r) => ({
    kind: r.kind,
    classes: r.classes,
    ...(r.kind === "circular-dependency" && r.timeout === true
      ? { timeout: true as const }
      : {}),
  }));
}

/** The exact verdicts, in order: a missing report and an extra one both fail. */
export function assertVerdicts(expected: Verdict[], message?: string): void {
  assert.deepEqual(verdicts(), expected, message ?? "reports");
}

/**
 * The graph's edges whose both ends are among `names` (display names), sorted. Tasks add edges
 * from their own classes (`task worker -> M`); a test names the classes it is about.
 */
export function edgesAmong(...names: string[]): string[] {
  const keep = new Set(names);
  return tracker
    .snapshot()
    .edges.filter((e) => keep.has(e.from) && keep.has(e.to))
    .map((e) => `${e.from} -> ${e.to}`)
    .sort();
}

/** Source lines of a test file, found by a trailing `// <marker>` comment. */
export function sourceOf(moduleUrl: string): {
  file: string;
  lineOf(marker: string): number;
  /** A regexp source matching `file:line:column` of the marked line. */
  at(marker: string): string;
} {
  const file = relative(process.cwd(), fileURLToPath(moduleUrl));
  const lines = readFileSync(new URL(moduleUrl), "utf8").split("\n");
  const lineOf = (marker: string): number => {
    const i = lines.findIndex((l) => l.trimEnd().endsWith(`// ${marker}`));
    assert.notEqual(i, -1, `no line marked ${marker}`);
    return i + 1;
  };
  return {
    file,
    lineOf,
    at: (marker) => `${escape(file)}:${lineOf(marker)}:\\d+`,
  };
}

export function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Raises an event from a task of its own once the caller has started to await (one microtask
 * later): a wait counts only when its flow blocks on it, and an event raised before the await
 * means the awaiting flow never blocked.
 */
export function later(name: string, raise: () => void): void {
  void task(name, async () => {
    await null;
    raise();
  });
}
