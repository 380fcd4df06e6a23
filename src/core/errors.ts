// Errors are classes with a stable `code`. Callers match on `code` or `instanceof`, never on
// message text. Messages say what was expected and what was received.
//
// Bad arguments are the exception to "extends WaitgraphError": they are a TypeError or a
// RangeError, as Node's own argument errors are (src/core/arguments.ts). `instanceof
// WaitgraphError` still holds for them, by their brand.
import type { Report } from "./report.js";
import { withoutOwnFrames } from "./stack.js";
import { expected, isInvalidArgument } from "./arguments.js";
import { brand, isInstance } from "./brand.js";

export {
  ArgumentRangeError,
  InvalidArgumentError,
  describe,
  expected,
} from "./arguments.js";

export class WaitgraphError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    // The error's class and its ancestors, for `instanceof` in any copy (brand.ts).
    const names: string[] = [];
    for (
      let c: unknown = new.target;
      c !== Error && typeof c === "function";
      c = Object.getPrototypeOf(c)
    )
      names.push((c as { name: string }).name);
    brand(this, ...names);
  }
  // instanceof by class or by brand, for every subclass and every installed copy; WaitgraphError
  // itself also answers true for the argument errors, which cannot extend it (they extend
  // TypeError / RangeError).
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      isInstance(this, value) ||
      (this === WaitgraphError && isInvalidArgument(value))
    );
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

/**
 * The constructors take a report the tracker made. Anything else — `new DeadlockError()`,
 * `new DeadlockError({})` — is refused with an InvalidArgumentError rather than a default
 * report: an error that claims a deadlock must carry one (its `report` is what handlers and
 * renderers read), and reading `report.text` of undefined used to fail with a bare TypeError.
 */
function checkReport(report: unknown): Report {
  let ok = false;
  try {
    const r = report as Partial<Report> | null;
    ok =
      typeof r === "object" &&
      r !== null &&
      typeof r.kind === "string" &&
      typeof r.text === "string" &&
      Array.isArray(r.classes);
  } catch {
    ok = false; // a Proxy whose `get` throws
  }
  if (!ok)
    throw expected(
      "report",
      "a waitgraph report (an object with `kind`, `text` and `classes`)",
      report,
    );
  return report as Report;
}

/** Under `policy: 'throw'`, the acquire or wait that would close a cycle (or re-take a held lock). */
export class DeadlockError extends WaitgraphError {
  declare readonly report: Report;
  constructor(report: Report) {
    super("ERR_WAITGRAPH_DEADLOCK", headline(checkReport(report)));
    attachReport(this, report);
    if (this.stack !== undefined) this.stack = withoutOwnFrames(this.stack);
  }
}

/** Under `policy: 'throw'`, a failed assertion or a task that ended holding a lock. */
export class ReportError extends WaitgraphError {
  declare readonly report: Report;
  constructor(report: Report) {
    super("ERR_WAITGRAPH_REPORT", headline(checkReport(report)));
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
