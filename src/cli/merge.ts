// `waitgraph merge <a.json> <b.json> … [-o merged.json]`: the union of several runs' documents
// (test workers, CI shards, services), checked again as one graph — an inversion between two
// test files that never ran in one process is found here.
import { describeOptions, parseArgs, UsageError } from "./args.js";
import type { Command, Io, Outcome } from "./command.js";
import { guarded, loadDocument, writeOutput } from "./documents.js";
import { renderDocument } from "../report/json.js";
import { mergeDocuments } from "../report/merge.js";
import { version } from "./version.js";

const OPTIONS = [
  {
    name: "output",
    short: "o",
    value: "FILE",
    describe: "Write the merged document to FILE (default: stdout)",
  },
];

const help = `Usage: waitgraph merge [options] <a.json> <b.json> …

Merges documents that \`waitgraph run --json\` (or the test-runner integrations) wrote into one:
classes and dependencies are united by their stable class ids, reports by their ids. Then the
united graph is checked for cycles as one run's graph would be: a lock-order inversion spread
over two runs — test file 1 takes A then B, test file 2 takes B then A — becomes a
circular-dependency report here, although neither run reported anything.

Options:
${describeOptions(OPTIONS)}
  -h, --help          Show this help

Prints one line on stderr: how many documents, classes, dependencies and reports, and how many
cycles only the union has.

Exit code: 0 when the merged document holds no report; 1 when it holds any; 2 for a bad
command line, a missing file or a file that is not a waitgraph document.

Example:
  waitgraph merge shards/*.json -o merged.json && waitgraph view merged.json
`;

export const merge: Command = {
  name: "merge",
  summary:
    "Merge documents of several runs and find the cycles only their union has",
  help,
  run: (argv, io) => guarded(io, () => runMerge(argv, io)),
};

function runMerge(argv: readonly string[], io: Io): Outcome {
  const { options, operands } = parseArgs(argv, OPTIONS, "merge");
  if (operands.length === 0)
    throw new UsageError(
      "missing the documents: waitgraph merge <a.json> <b.json> … -o merged.json",
      "merge",
    );
  const inputs = operands.map((source) => ({
    source,
    document: loadDocument(source, io),
  }));
  const { document, found } = mergeDocuments(inputs, { waitgraph: version() });
  const output = options.get("output");
  writeOutput(
    renderDocument(document),
    typeof output === "string" ? output : undefined,
    io,
  );
  const n = document.reports.length;
  const plural = (count: number, word: string, many = `${word}s`) =>
    `${count} ${count === 1 ? word : many}`;
  io.stderr(
    `waitgraph: merged ${plural(inputs.length, "document")}: ${plural(document.snapshot.classes.length, "class", "classes")}, ` +
      `${plural(document.snapshot.edges.length, "dependency", "dependencies")}, ${plural(n, "report")}` +
      (found.length > 0
        ? ` (${found.length} circular-dependency found only in the union)`
        : "") +
      "\n",
  );
  for (const r of found) io.stderr(`${r.text}\n`);
  return n > 0 ? 1 : 0;
}
