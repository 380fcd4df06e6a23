// The `deadlock` report: flows that are stuck now, each with what it waits for, where it asked,
// and what it holds (where it took it). Shaped like lockdep's hung-task output
// (`debug_show_all_locks`) under a lockdep header, ending as lockdep's scenarios do.
import type { BlockedFlow } from "../../core/deadlock-report.js";
import type { DeadlockReport, LockRef } from "../../core/report.js";
import { backtrace, header, lockLine, taskName } from "./format.js";

type Data = Omit<DeadlockReport, "text">;

function name(l: LockRef): string {
  return l.instance ?? l.name;
}

function flowLines(f: BlockedFlow): string[] {
  const lines = [
    `flow ${f.flow} (${taskName(f.task)}) has been blocked for ${f.blockedMs} ms waiting for:`,
    ` ${lockLine(f.waitsFor)}`,
    f.holds.length === 0
      ? "while holding no lock"
      : `while holding ${f.holds.length} lock${f.holds.length > 1 ? "s" : ""}:`,
    ...f.holds.map((l, i) => ` #${i}: ${lockLine(l)}`),
  ];
  if (f.heldBy.length > 0)
    lines.push(
      `${name(f.waitsFor)} is held by flow ${f.heldBy.join(", flow ")}`,
    );
  if (f.reason !== undefined) lines.push(f.reason);
  return lines;
}

export function deadlock(r: Data): string {
  const title =
    r.flows.length > 1
      ? `WARNING: deadlock: ${r.flows.length} flows wait for each other`
      : r.flows.length === 1
        ? "WARNING: deadlock: a flow waits for what it holds itself"
        : "WARNING: deadlock: waits that nothing will end";
  const lines = [
    ...header(title),
    r.found === "exit"
      ? "the event loop drained with these waits still blocked: nothing is left to run that could end them."
      : "blocked longer than deadlockTimeout, and every flow that could release what they wait for is blocked too.",
    "",
  ];
  for (const f of r.flows) lines.push(...flowLines(f), "");
  if (r.blocked.length > 0) {
    lines.push(
      r.flows.length > 0 ? "blocked behind them:" : "blocked waits:",
      "",
    );
    for (const f of r.blocked) lines.push(...flowLines(f), "");
  }
  if (r.flows.length > 0) {
    lines.push(" Cycle:", "");
    for (const f of r.flows)
      lines.push(
        `  flow ${f.flow} holds ${f.holds.map(name).join(", ") || "nothing"}, waits for ${name(f.waitsFor)}`,
      );
    lines.push("", " *** DEADLOCK ***", "");
  }
  if (r.broken !== undefined)
    lines.push(
      `broken: flow ${r.broken}'s wait was rejected with DeadlockError; the others proceed.`,
      "",
    );
  lines.push(...backtrace(r.stack));
  return lines.join("\n");
}
