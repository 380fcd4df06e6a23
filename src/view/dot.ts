// The class graph as Graphviz DOT: `waitgraph view doc.json --dot | dot -Tsvg > graph.svg`.
//
// One node per class (name, type), one edge per dependency. An edge that is not a plain
// exclusive dependency (EN only) is labelled with its read/write bits; a timed one is dotted.
// Each reported cycle is drawn in a colour of its own, thick, with its closing edge — the one
// the validator refused, so not in the snapshot — dashed and labelled with the report's number
// as `waitgraph view` and `waitgraph report` count them (#1 first).
import { isAbsolute, relative } from "node:path";
import type { SourceFrame } from "../core/report.js";
import type { ReportDocument } from "../report/json.js";
import { edgeLabel, viewGraph } from "./graph.js";

/** Colours of reported cycles, in report order (then round again). */
export const CYCLE_COLOURS = [
  "#d32f2f",
  "#7b1fa2",
  "#ef6c00",
  "#00838f",
  "#2e7d32",
];

export function renderDot(document: ReportDocument): string {
  const graph = viewGraph(document.snapshot, document.reports);
  const n = document.reports.length;
  const lines = [
    "digraph waitgraph {",
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=11, labelloc=t, label=${quote(
      `waitgraph: ${count(graph.nodes.length, "class", "classes")}, ${count(document.snapshot.edges.length, "dependency", "dependencies")}, ${count(n, "report", "reports")}`,
    )}];`,
    '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const node of graph.nodes) {
    const attrs = [
      `label=${quote(`${node.name}\n${node.type}`)}`,
      `tooltip=${quote(node.id)}`,
    ];
    if (node.reports.length > 0)
      attrs.push(`color=${quote(colour(node.reports[0]!))}`, "penwidth=2");
    lines.push(`  ${quote(node.id)} [${attrs.join(", ")}];`);
  }
  for (const e of graph.edges) {
    const attrs: string[] = [];
    const label = [edgeLabel(e), ...e.reports.map((i) => `#${i + 1}`)].filter(
      (s) => s !== "",
    );
    if (label.length > 0) attrs.push(`label=${quote(label.join(" "))}`);
    if (e.reports.length > 0) {
      attrs.push(
        `color=${quote(e.reports.map((i) => colour(i)).join(":"))}`,
        "penwidth=2.5",
      );
      if (e.closing) attrs.push("style=dashed");
    } else if (e.timeout) attrs.push("style=dotted");
    const site = e.stack[0];
    if (site !== undefined)
      attrs.push(`tooltip=${quote(siteOf(site, document.meta.root))}`);
    lines.push(
      `  ${quote(e.from)} -> ${quote(e.to)}${attrs.length > 0 ? ` [${attrs.join(", ")}]` : ""};`,
    );
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `file:line:col`, the file relative to the root when it is below it. */
function siteOf(f: SourceFrame, root: string | undefined): string {
  let file = f.file;
  if (root !== undefined && isAbsolute(file)) {
    const rel = relative(root, file);
    if (!rel.startsWith("..") && !isAbsolute(rel)) file = rel;
  }
  return `${file}:${f.line}:${f.column}`;
}

function colour(report: number): string {
  return CYCLE_COLOURS[report % CYCLE_COLOURS.length]!;
}

/** A DOT double-quoted string: `"` and `\` escaped, newlines as `\n`. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
