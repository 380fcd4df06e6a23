// Renders reports as text in the kernel's shapes. (Being written: see the kernel formats in
// reference/lockdep-dept-semantics.md §1.12 and §2.10.)
import type { ReportData } from "../core/report.js";

export function renderText(report: ReportData): string {
  return `waitgraph: ${report.kind} (${report.classes.join(" -> ")}) in task ${report.task}`;
}
