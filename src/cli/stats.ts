// `waitgraph stats <doc.json> [--json]`: the numbers of a document, as lockdep's
// /proc/lockdep_stats gives them for a kernel: how many classes and dependencies, of which
// kinds, the longest chain of nested acquisitions, the classes most depended on.
import { describeOptions, parseArgs, UsageError } from "./args.js";
import type { Command, Io, Outcome } from "./command.js";
import { guarded, loadDocument } from "./documents.js";
import type { ReportDocument } from "../report/json.js";

const OPTIONS = [{ name: "json", describe: "Print the numbers as JSON" }];

const help = `Usage: waitgraph stats [options] <doc.json>

Prints the numbers of a document that \`waitgraph run --json\` or \`waitgraph merge\` wrote:
classes by type, dependencies by read/write bits, reports by kind, the longest chain of
nested acquisitions, and the classes with the most dependencies.

Options:
${describeOptions(OPTIONS)}
  -h, --help  Show this help
`;

export const stats: Command = {
  name: "stats",
  summary:
    "Print the numbers of a document: classes, dependencies, reports, chains",
  help,
  run: (argv, io) => guarded(io, () => runStats(argv, io)),
};

export interface DocumentStats {
  waitgraph: string;
  merged: number;
  classes: number;
  classesByType: Record<string, number>;
  dependencies: number;
  dependenciesByBit: { SR: number; ER: number; SN: number; EN: number };
  timedDependencies: number;
  reports: number;
  reportsByKind: Record<string, number>;
  /** The longest chain of classes each taken while the one before was held. */
  longestChain: string[];
  /** Classes by number of dependencies (in + out), most first, at most five. */
  busiest: { name: string; held: number; taken: number }[];
}

function runStats(argv: readonly string[], io: Io): Outcome {
  const { options, operands } = parseArgs(argv, OPTIONS, "stats");
  if (operands.length !== 1)
    throw new UsageError(
      operands.length === 0
        ? "missing the document: waitgraph stats <doc.json>"
        : `expected one document, got ${operands.length}: ${operands.join(" ")}`,
      "stats",
    );
  const s = documentStats(loadDocument(operands[0]!, io));
  io.stdout(
    options.get("json") === true
      ? JSON.stringify(s, null, 2) + "\n"
      : format(s),
  );
  return 0;
}

export function documentStats(doc: ReportDocument): DocumentStats {
  const { classes, edges } = doc.snapshot;
  const count = <T>(
    items: readonly T[],
    key: (item: T) => string,
  ): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
    return out;
  };
  const bits = { SR: 0, ER: 0, SN: 0, EN: 0 };
  for (const e of edges)
    for (const b of ["SR", "ER", "SN", "EN"] as const) if (e.read[b]) bits[b]++;
  const degree = new Map(
    classes.map((c) => [c.id, { name: c.name, held: 0, taken: 0 }]),
  );
  for (const e of edges) {
    degree.get(e.fromId)!.held++;
    degree.get(e.toId)!.taken++;
  }
  const busiest = [...degree.values()]
    .filter((d) => d.held + d.taken > 0)
    .sort(
      (a, b) =>
        b.held + b.taken - (a.held + a.taken) || a.name.localeCompare(b.name),
    )
    .slice(0, 5);
  return {
    waitgraph: doc.meta.waitgraph,
    merged: doc.meta.merged?.length ?? 0,
    classes: classes.length,
    classesByType: count(classes, (c) => c.type),
    dependencies: edges.length,
    dependenciesByBit: bits,
    timedDependencies: edges.filter((e) => e.timeout).length,
    reports: doc.reports.length,
    reportsByKind: count(doc.reports, (r) => r.kind),
    longestChain: longestChain(doc),
    busiest,
  };
}

/** The longest path of the snapshot (an edge back onto the path, as in a read-lock cycle, is skipped). */
function longestChain(doc: ReportDocument): string[] {
  const out = new Map<string, string[]>();
  for (const e of doc.snapshot.edges)
    if (e.fromId !== e.toId)
      out.set(e.fromId, [...(out.get(e.fromId) ?? []), e.toId]);
  const best = new Map<string, string[]>();
  const onPath = new Set<string>();
  const visit = (id: string): string[] => {
    const known = best.get(id);
    if (known !== undefined) return known;
    onPath.add(id);
    let tail: string[] = [];
    for (const next of out.get(id) ?? []) {
      if (onPath.has(next)) continue;
      const t = visit(next);
      if (t.length > tail.length) tail = t;
    }
    onPath.delete(id);
    const chain = [id, ...tail];
    best.set(id, chain);
    return chain;
  };
  let longest: string[] = [];
  for (const c of doc.snapshot.classes) {
    const chain = visit(c.id);
    if (chain.length > longest.length) longest = chain;
  }
  const names = new Map(doc.snapshot.classes.map((c) => [c.id, c.name]));
  return longest.length < 2 ? [] : longest.map((id) => names.get(id)!);
}

function format(s: DocumentStats): string {
  const list = (r: Record<string, number>) =>
    Object.keys(r).length === 0
      ? ""
      : `  (${Object.entries(r)
          .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
          .map(([k, v]) => `${v} ${k}`)
          .join(", ")})`;
  const bits = Object.fromEntries(
    Object.entries(s.dependenciesByBit).filter(([, v]) => v > 0),
  );
  const rows: [string, string][] = [
    [
      "written by",
      `waitgraph ${s.waitgraph}${s.merged > 0 ? `, merged from ${s.merged} documents` : ""}`,
    ],
    ["lock classes", `${s.classes}${list(s.classesByType)}`],
    [
      "dependencies",
      `${s.dependencies}${list(bits)}${s.timedDependencies > 0 ? `, ${s.timedDependencies} timed` : ""}`,
    ],
    ["reports", `${s.reports}${list(s.reportsByKind)}`],
    [
      "longest chain",
      s.longestChain.length === 0
        ? "no nested acquisitions"
        : `${s.longestChain.length} classes: ${s.longestChain.join(" -> ")}`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = rows.map(([k, v]) => `${(k + ":").padEnd(width)}${v}`);
  if (s.busiest.length > 0) {
    lines.push(
      "",
      "most dependencies (out: others taken while it was held; in: taken while others were held):",
    );
    for (const b of s.busiest)
      lines.push(`  ${b.name}: ${b.held} out, ${b.taken} in`);
  }
  return lines.join("\n") + "\n";
}
