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

// An error that carries a report prints as its stack (whose message is the rendered report) and
// its `code`: `report` is an own property but not an enumerable one, so `util.inspect` leaves it
// out. An enumerable `report` made an uncaught DeadlockError print the whole object after the
// text, held locks and frames one property a line (~140 lines for one recursive locking, ~290
// for a cycle). A `[util.inspect.custom]` method would not help there: Node prints a fatal
// exception with `inspect(error, { customInspect: false })` (lib/internal/errors.js,
// fatalExceptionStackEnhancers.afterInspector), so only what is enumerable counts.
function attachReport(error: Error, report: Report): void {
  Object.defineProperty(error, "report", {
    value: report,
    enumerable: false,
    writable: false,
    configurable: true,
  });
}

/** Under `policy: 'throw'`, the acquire or wait that would close a cycle (or re-take a held lock). */
export class DeadlockError extends WaitgraphError {
  declare readonly report: Report;
  constructor(report: Report) {
    super("ERR_WAITGRAPH_DEADLOCK", headline(report));
    attachReport(this, report);
    if (this.stack !== undefined) this.stack = withoutOwnFrames(this.stack);
  }
}

/** Under `policy: 'throw'`, a failed assertion or a task that ended holding a lock. */
export class ReportError extends WaitgraphError {
  declare readonly report: Report;
  constructor(report: Report) {
    super("ERR_WAITGRAPH_REPORT", headline(report));
    attachReport(this, report);
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
