// Shared helpers for tests that assert the exact dependency graph and the exact reports.
import assert from "node:assert/strict";
import { Mutex, tracker, type Policy } from "../../src/index.js";

/** Forget every class, edge, chain and report; reports are kept but not printed. */
export function fresh(policy: Policy = "silent"): void {
  tracker.configure({ enabled: true, policy });
  tracker.reset();
}

/** The graph's edges as sorted `from -> to` strings (display names). */
export function edges(): string[] {
  return tracker
    .snapshot()
    .edges.map((e) => `${e.from} -> ${e.to}`)
    .sort();
}

/** The kinds of the reports made so far, in order. */
export function reportKinds(): string[] {
  return tracker.reports().map((r) => r.kind);
}

/**
 * Asserts the edge set exactly (a false edge and a missing edge both fail) and the report kinds
 * exactly (none unless given).
 */
export function assertGraph(expected: string[], kinds: string[] = []): void {
  assert.deepEqual(edges(), [...expected].sort(), "edge set");
  assert.deepEqual(reportKinds(), kinds, "report kinds");
}

/** A mutex whose class is named `name` (a string key: one class per name). */
export function mutex(name: string): Mutex {
  return new Mutex({ key: name });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs `fn` as a callback flow of its own (a timer's), as top-level code and servers do. */
export function inCallback<T>(fn: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    setImmediate(() => void fn().then(resolve, reject)),
  );
}

/** One macrotask turn: every continuation queued so far has run. Not a sleep: no clock is involved. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Captures what `log` would print to stderr; `restore` puts stderr back. */
export function captureLog(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  tracker.setWriter((text) => lines.push(text));
  return {
    lines,
    restore: () =>
      tracker.setWriter(
        (text) =>
          void process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
      ),
  };
}
