// `waitgraph report <doc.json> [--format text|json|sarif] [-o FILE]`: a document's reports,
// rendered for a person (text), for another tool (json) or for CI code scanning (sarif).
import { describeOptions, parseArgs, UsageError } from "./args.js";
import type { Command, Io, Outcome } from "./command.js";
import { guarded, loadDocument, writeOutput } from "./documents.js";
import { renderDocument, type ReportDocument } from "../report/json.js";
import { renderSarif } from "../report/sarif.js";
import { version } from "./version.js";

const FORMATS = ["text", "json", "sarif"] as const;
type Format = (typeof FORMATS)[number];

const OPTIONS = [
  {
    name: "format",
    short: "f",
    value: "FORMAT",
    describe:
      "text (default), json (the document, checked) or sarif (SARIF 2.1.0)",
  },
  {
    name: "output",
    short: "o",
    value: "FILE",
    describe: "Write to FILE instead of stdout",
  },
];

const help = `Usage: waitgraph report [options] <doc.json>

Prints the reports of a document that \`waitgraph run --json\` or \`waitgraph merge\` wrote.

Options:
${describeOptions(OPTIONS)}
  -h, --help          Show this help

SARIF paths are relative to the run's working directory (%SRCROOT%), so code scanning shows
each report at its line of the repository.

Exit code: 0 when the document holds no report; 1 when it holds any (so a CI step fails);
2 for a bad command line, a missing file or a file that is not a waitgraph document.

Examples:
  waitgraph report waitgraph.json
  waitgraph report --format sarif -o waitgraph.sarif waitgraph.json
`;

export const report: Command = {
  name: "report",
  summary:
    "Print a document's reports as text, JSON or SARIF; exit 1 if it has any",
  help,
  run: (argv, io) => guarded(io, () => runReport(argv, io)),
};

function runReport(argv: readonly string[], io: Io): Outcome {
  const { options, operands } = parseArgs(argv, OPTIONS, "report");
  const format = options.get("format") ?? "text";
  if (!(FORMATS as readonly unknown[]).includes(format))
    throw new UsageError(
      `unknown format ${JSON.stringify(format)} (formats: ${FORMATS.join(", ")})`,
      "report",
    );
  if (operands.length !== 1)
    throw new UsageError(
      operands.length === 0
        ? "missing the document: waitgraph report <doc.json>"
        : `expected one document, got ${operands.length}: ${operands.join(" ")} (to combine several, use waitgraph merge)`,
      "report",
    );
  const doc = loadDocument(operands[0]!, io);
  const output = options.get("output");
  writeOutput(
    render(doc, format as Format, io),
    typeof output === "string" ? output : undefined,
    io,
  );
  return doc.reports.length > 0 ? 1 : 0;
}

function render(doc: ReportDocument, format: Format, io: Io): string {
  switch (format) {
    case "json":
      return renderDocument(doc);
    case "sarif":
      return renderSarif(doc.reports, {
        root: doc.meta.root ?? io.cwd,
        version: version(),
      });
    case "text":
      return textOf(doc);
  }
}

/** Each report's text, numbered as `waitgraph view` numbers them, then one summary line. */
function textOf(doc: ReportDocument): string {
  const n = doc.reports.length;
  const blocks = doc.reports.map((r, i) => `#${i + 1} ${r.kind}\n${r.text}\n`);
  const counts = new Map<string, number>();
  for (const r of doc.reports)
    counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  const summary =
    n === 0
      ? "waitgraph: no reports"
      : `waitgraph: ${n} report${n === 1 ? "" : "s"}: ${[...counts].map(([k, c]) => `${c} ${k}`).join(", ")}`;
  return [...blocks, summary, ""].join("\n");
}
