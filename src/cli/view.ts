// `waitgraph view <doc.json> [-o graph.html] [--dot]`: the class graph of a document, as one
// self-contained HTML page (default) or as Graphviz DOT.
import { basename, extname } from "node:path";
import { describeOptions, parseArgs, UsageError } from "./args.js";
import type { Command, Io, Outcome } from "./command.js";
import { guarded, loadDocument, writeOutput } from "./documents.js";
import { renderDot } from "../view/dot.js";
import { renderHtml } from "../view/html.js";

const OPTIONS = [
  {
    name: "output",
    short: "o",
    value: "FILE",
    describe:
      "Write to FILE (`-` for stdout); default: <doc>.html beside the document, DOT to stdout",
  },
  { name: "dot", describe: "Write Graphviz DOT instead of HTML" },
];

const help = `Usage: waitgraph view [options] <doc.json>

Draws the class graph of a document that \`waitgraph run --json\` or \`waitgraph merge\` wrote:
every lock class, every dependency (B taken while A was held), each reported cycle highlighted.

The HTML page is one file with nothing to download: open it in any browser, attach it to a CI
run. Pick a report to highlight its cycle; point at an edge to see where each of its two locks
was taken.

Options:
${describeOptions(OPTIONS)}
  -h, --help          Show this help

Examples:
  waitgraph view waitgraph.json                  # writes waitgraph.html
  waitgraph view merged.json -o artifacts/graph.html
  waitgraph view --dot waitgraph.json | dot -Tsvg > graph.svg
`;

export const view: Command = {
  name: "view",
  summary:
    "Draw a document's class graph as a self-contained HTML page (or DOT)",
  help,
  run: (argv, io) => guarded(io, () => runView(argv, io)),
};

function runView(argv: readonly string[], io: Io): Outcome {
  const { options, operands } = parseArgs(argv, OPTIONS, "view");
  if (operands.length !== 1)
    throw new UsageError(
      operands.length === 0
        ? "missing the document: waitgraph view <doc.json>"
        : `expected one document, got ${operands.length}: ${operands.join(" ")} (to combine several, use waitgraph merge)`,
      "view",
    );
  const source = operands[0]!;
  const doc = loadDocument(source, io);
  const dot = options.get("dot") === true;
  const given = options.get("output");
  const output =
    typeof given === "string"
      ? given
      : dot
        ? undefined
        : source.slice(0, source.length - extname(source).length) + ".html";
  writeOutput(dot ? renderDot(doc) : renderHtml(doc), output, io);
  if (output !== undefined && output !== "-")
    io.stderr(
      `waitgraph: wrote ${output}${typeof given === "string" ? "" : ` (the graph of ${basename(source)})`}\n`,
    );
  return 0;
}
