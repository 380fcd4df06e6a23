// DEPT's report (`print_circle` in kernel/dependency/dept.c, reference §2.10), for a cycle
// that runs through waits and events. One context per edge of the cycle; context A is the
// edge that closed it. Example, a completion waited for under a mutex the completer takes:
//   context A: [S] lock(m)   [W] wait(done)   [E] unlock(m)
//   context B: [S] wait(done) [W] lock(m)     [E] complete(done)
import type {
  CircularDependencyReport,
  SourceFrame,
  WaitContext,
} from "../../core/report.js";
import { IDENT, backtrace, frames, heldLocks, site } from "./format.js";

type Data = Omit<CircularDependencyReport, "text"> & { waits: WaitContext[] };

/** DEPT's rulers are a fixed 51 columns, whatever the title. */
const RULE = "-".repeat(51);
/** `print_spc(1)`: `%*c` of width 3. */
const SPC = "   ";
const TIMEOUT_MARK = "--------------- >8 timeout ---------------";

/** `A`, `B`, … `Z`, then `AA`, `AB`, … */
function contextName(i: number): string {
  let name = "";
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26))
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

function event(e: { fn: string; class: { name: string } }): string {
  return `${e.fn}(${e.class.name})`;
}

/**
 * Whether to print the timeout mark under each context's [W]. A wait that carries its own
 * `timeout` flag decides for itself; when the report only says that some wait on the cycle
 * had a timeout, every wait is marked, since any of them may be the one.
 */
function timedWaits(r: Data): boolean[] {
  const flagged = r.waits.map((w) => w.wait.timeout === true);
  if (flagged.some(Boolean)) return flagged;
  return r.waits.map(() => r.timeout === true);
}

function diagram(name: string, w: WaitContext, timed: boolean): string[] {
  return [
    `context ${name}`,
    `${SPC}[S] ${event(w.start)}`,
    `${SPC}[W] ${event(w.wait)}`,
    ...(timed ? [SPC + TIMEOUT_MARK] : []),
    `${SPC}[E] ${event(w.event)}`,
  ];
}

/** `[<ip>] <sym>` then `stacktrace:`; `(N/A)` when nothing was recorded. */
function detail(
  label: string,
  e: { fn: string; class: { name: string }; at: SourceFrame[] },
): string[] {
  const first = e.at[0];
  if (first === undefined) return [`${label} ${event(e)}:`, "(N/A)"];
  return [
    `${label} ${event(e)}:`,
    `[${site(first)}] ${first.fn}`,
    "stacktrace:",
    ...frames(e.at),
  ];
}

export function deptCircular(r: Data): string {
  const timed = timedWaits(r);
  const names = r.waits.map((_, i) => contextName(i));
  // One context is one edge: a class that depends on itself (DEPT's `fc == tc`).
  const aa = r.waits.length === 1;
  const verdict = timed.some(Boolean)
    ? [
        "NOT A DEADLOCK BUT A CIRCULAR DEPENDENCY",
        "CHECK IF THE TIMEOUT IS INTENDED",
      ]
    : [aa ? "*** AA DEADLOCK ***" : "*** DEADLOCK ***"];
  const lines = [
    "=".repeat(RULE.length),
    "DEPT: Circular dependency has been detected.",
    IDENT,
    RULE,
    "summary",
    RULE,
    ...verdict,
    "",
  ];
  r.waits.forEach((w, i) =>
    lines.push(...diagram(names[i]!, w, timed[i]!), ""),
  );
  lines.push(
    "[S]: start of the event context",
    "[W]: the wait blocked",
    "[E]: the event not reachable",
  );
  r.waits.forEach((w, i) => {
    lines.push(
      RULE,
      `context ${names[i]!}'s detail`,
      RULE,
      ...diagram(names[i]!, w, timed[i]!),
      "",
      ...detail("[S]", w.start),
      "",
      ...detail("[W]", w.wait),
      "",
      ...detail("[E]", w.event),
    );
  });
  lines.push(
    RULE,
    "information that might be helpful",
    RULE,
    ...heldLocks(r.task, r.held),
    "",
    ...backtrace(r.stack),
  );
  return lines.join("\n");
}
