// The files `waitgraph run` can write besides its live output: one option each, rendered from
// the run's result. An output whose renderer does not exist yet is refused before the program
// runs. Wiring a renderer is its `render` line, e.g. for SARIF:
//
//   render: (result) => renderSarif(result.reports),   // import { renderSarif } from "../report/sarif.js"
import type { Report } from "../core/report.js";
import type { Snapshot } from "../core/tracker.js";
import type { RunResult } from "./protocol.js";

export interface OutputFormat {
  /** The option: `json` is `--json FILE`. */
  readonly option: string;
  readonly describe: string;
  /** The file's content; undefined while this version of waitgraph has no renderer for it. */
  readonly render: ((result: RunResult) => string) | undefined;
}

/** The `--json` document. Consumers check `schema` before reading anything else. */
export interface ReportDocument {
  schema: "waitgraph/report@1";
  reports: Report[];
  snapshot: Snapshot;
}

export const REPORT_SCHEMA = "waitgraph/report@1";

export function reportDocument(result: RunResult): ReportDocument {
  return {
    schema: REPORT_SCHEMA,
    reports: result.reports,
    snapshot: result.snapshot,
  };
}

export const outputs: readonly OutputFormat[] = [
  {
    option: "json",
    describe: `Write the reports and the class graph as JSON (schema ${REPORT_SCHEMA})`,
    render: (result) => JSON.stringify(reportDocument(result), null, 2) + "\n",
  },
  {
    option: "sarif",
    describe: "Write the reports as SARIF 2.1.0, for code scanning in CI",
    render: undefined,
  },
  {
    option: "html",
    describe: "Write the class graph as one self-contained HTML page",
    render: undefined,
  },
];
