// Errors are classes with a stable `code`. Callers match on `code` or `instanceof`, never on
// message text. Messages say what was expected and what was received.
import type { Report } from "./report.js";
import { withoutOwnFrames } from "./stack.js";

export class WaitgraphError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input at an API boundary. Nothing was changed. */
export class InvalidArgumentError extends WaitgraphError {
  constructor(message: string) {
    super("ERR_WAITGRAPH_INVALID_ARGUMENT", message);
  }
}

/** Under `policy: 'throw'`, the acquire or wait that would close a cycle (or re-take a held lock). */
export class DeadlockError extends WaitgraphError {
  readonly report: Report;
  constructor(report: Report) {
    super("ERR_WAITGRAPH_DEADLOCK", headline(report));
    this.report = report;
    if (this.stack !== undefined) this.stack = withoutOwnFrames(this.stack);
  }
}

/** Under `policy: 'throw'`, a failed assertion or a task that ended holding a lock. */
export class ReportError extends WaitgraphError {
  readonly report: Report;
  constructor(report: Report) {
    super("ERR_WAITGRAPH_REPORT", headline(report));
    this.report = report;
    if (this.stack !== undefined) this.stack = withoutOwnFrames(this.stack);
  }
}

/** An acquire or wait that gave up after its `timeout`. */
export class TimeoutError extends WaitgraphError {
  constructor(what: string, ms: number) {
    super("ERR_WAITGRAPH_TIMEOUT", `${what} timed out after ${ms} ms`);
  }
}

function headline(report: Report): string {
  return `${reportTitle(report)}\n${report.text}`;
}

/** One line that names a report: its kernel banner (or kind) and its classes. */
export function reportTitle(report: Report): string {
  const banner = report.text
    .split("\n")
    .find((line) => line.startsWith("WARNING:") || line.startsWith("DEPT:"));
  return `${banner ?? `waitgraph: ${report.kind}`} (${report.classes.join(", ")})`;
}

/** `Expected \`name\` to be …, got …` — the p-limit phrasing. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number")
    return `${Object.is(value, -0) ? "-0" : String(value)} (number)`;
  if (typeof value === "string") return `${JSON.stringify(value)} (string)`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object")
    return `an object (${value.constructor?.name ?? "null prototype"})`;
  return `${String(value)} (${typeof value})`;
}

export function expected(
  name: string,
  what: string,
  value: unknown,
): InvalidArgumentError {
  return new InvalidArgumentError(
    `Expected \`${name}\` to be ${what}, got ${describe(value)}`,
  );
}
