// The files `waitgraph run` can write besides its live output: one option each, rendered from
// the run's result and the directory it ran in (the root that SARIF paths are relative to).
import {
  renderDocument,
  REPORT_SCHEMA_ID,
  toDocument,
  type ReportDocument,
} from "../report/json.js";
import { renderSarif } from "../report/sarif.js";
import { renderHtml } from "../view/html.js";
import type { RunResult } from "./protocol.js";
import { version } from "./version.js";

export interface OutputFormat {
  /** The option: `json` is `--json FILE`. */
  readonly option: string;
  readonly describe: string;
  /** The file's content. */
  readonly render: (result: RunResult, cwd: string) => string;
}

export type { ReportDocument };

/** The `--json` document. Consumers check `schema` before reading anything else. */
export const REPORT_SCHEMA = REPORT_SCHEMA_ID;

export function reportDocument(result: RunResult, cwd: string): ReportDocument {
  return toDocument(result.reports, result.snapshot, {
    waitgraph: version(),
    root: cwd,
  });
}

export const outputs: readonly OutputFormat[] = [
  {
    option: "json",
    describe: `Write the reports and the class graph as JSON (schema ${REPORT_SCHEMA})`,
    render: (result, cwd) => renderDocument(reportDocument(result, cwd)),
  },
  {
    option: "sarif",
    describe: "Write the reports as SARIF 2.1.0, for code scanning in CI",
    render: (result, cwd) =>
      renderSarif(result.reports, { root: cwd, version: version() }),
  },
  {
    option: "html",
    describe: "Write the class graph as one self-contained HTML page",
    render: (result, cwd) => renderHtml(reportDocument(result, cwd)),
  },
];
