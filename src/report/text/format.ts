// The pieces every kernel-shaped report shares: the title block, lock lines, held-lock lists
// and stack frames. Each returns lines; the report assembles them and joins once.
import type {
  ClassRef,
  LockRef,
  ReadMode,
  SourceFrame,
} from "../../core/report.js";
import { relativeFile } from "../../core/stack.js";
import { VERSION } from "../version.js";

/** `print_kernel_ident()`: what build produced the report. */
export const IDENT = `waitgraph ${VERSION}`;

/** lockdep indents saved stacks by 6 (`print_lock_trace(trace, 6)`); DEPT's `stacktrace:` too. */
const FRAME_INDENT = "      ";

/**
 * The title block: `=` ruler, title, ident, `-` ruler, the rulers as long as the title
 * (`print_circular_bug_header` and the other lockdep headers).
 */
export function header(title: string): string[] {
  return ["=".repeat(title.length), title, IDENT, "-".repeat(title.length)];
}

/** `<comm>/<pid>` in the kernel; a task in waitgraph. */
export function taskName(task: string): string {
  return `task ${JSON.stringify(task)}`;
}

/** `print_lock_name()`: ` (<name>){usage}` without the kernel's `-{o:i}` wait-type suffix. */
export function className(cls: ClassRef): string {
  return `(${cls.name})${cls.usage}`;
}

/** `file:line:col` relative to the working directory, or `(unknown)`. */
export function site(frame: SourceFrame | undefined): string {
  return frame === undefined
    ? "(unknown)"
    : `${relativeFile(frame.file)}:${frame.line}:${frame.column}`;
}

/**
 * `print_lock()`: `<instance> (<class>){usage}, at: <site>`. The kernel's instance address
 * becomes the instance's own name when it has one; the site is where it was taken.
 */
export function lockLine(lock: LockRef): string {
  const instance = lock.instance !== undefined ? `${lock.instance} ` : "";
  const seen =
    lock.site === "first-seen"
      ? " (where this locking pattern was first seen; WAITGRAPH_SITES=every shows this hold's own)"
      : "";
  return `${instance}${className(lock)}, at: ${site(lock.at[0])}${seen}`;
}

/** The scenario verb: `rlock(` for a shared mode, `lock(` for exclusive (as the kernel prints). */
export function lockCall(name: string, read: ReadMode): string {
  return `${read !== 0 ? "rlock" : "lock"}(${name});`;
}

/** `lockdep_print_held_locks()`: the held list, bottom first. */
export function heldLocks(task: string, held: readonly LockRef[]): string[] {
  if (held.length === 0) return [`no locks held by ${taskName(task)}.`];
  const n = held.length;
  return [
    `${n} lock${n > 1 ? "s" : ""} held by ${taskName(task)}:`,
    ...held.map((lock, i) => ` #${i}: ${lockLine(lock)}`),
  ];
}

/** One frame as Node prints it: `at fn (file:line:col)`, or `at file:line:col` when anonymous. */
export function frameText(frame: SourceFrame): string {
  const where = site(frame);
  return frame.fn === "" || frame.fn === "<anonymous>"
    ? `at ${where}`
    : `at ${frame.fn} (${where})`;
}

/** A saved stack, indented as lockdep indents it. */
export function frames(stack: readonly SourceFrame[]): string[] {
  if (stack.length === 0) return [`${FRAME_INDENT}(no user frames)`];
  return stack.map((f) => FRAME_INDENT + frameText(f));
}

/** `stack backtrace:` and the frames of the finding. */
export function backtrace(stack: readonly SourceFrame[]): string[] {
  return ["stack backtrace:", ...frames(stack)];
}
