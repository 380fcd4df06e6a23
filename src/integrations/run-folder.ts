// The graph of a whole test run, from the processes that ran it.
//
// A test runner spreads files over worker processes or threads, and each has its own tracker:
// an inversion between two files that ran in different workers (file 1 takes A then B, file 2
// takes B then A) is in no worker's graph. So each test process writes its graph and reports as
// a `waitgraph/report@2` document into one run folder, and when the run is over the runner's
// main process merges them (src/report/merge.ts: union by stable class id, cycle search on the
// union) into one document, the run's graph file. A cycle that only the union has fails the run.
//
//   <run folder>/<test file, URI-encoded>.<pid>.<thread>.<n>.<random>.json   one per test file
//   <output, default .waitgraph/<runner>.json>                                the merged document
import { createHash, randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import {
  basename,
  dirname,
  isAbsolute,
  join,
  relative,
  resolve,
} from "node:path";
import { threadId } from "node:worker_threads";
import type { CircularDependencyReport } from "../core/report.js";
import { tracker } from "../core/tracker.js";
import { readDocument, renderDocument, toDocument } from "../report/json.js";
import { mergeDocuments, type MergeInput } from "../report/merge.js";
import { VERSION } from "../report/version.js";

/** The environment variable that names the run folder in test processes. */
export const RUN_DIR_ENV = "WAITGRAPH_RUN_DIR";
/** The environment variable that names the merged graph file (`off`: none). */
export const OUTPUT_ENV = "WAITGRAPH_OUTPUT";
/** Where each runner's merged graph goes by default, relative to the project root. */
export const DEFAULT_OUTPUT = {
  vitest: ".waitgraph/vitest.json",
  "node-test": ".waitgraph/node-test.json",
} as const;

/** A fresh run folder under the system's temporary directory. */
export function createRunFolder(runner: string): string {
  return mkdtempSync(join(tmpdir(), `waitgraph-${runner}-`));
}

let documentsWritten = 0;

/**
 * Writes this process's reports and graph into `dir`, named after `testFile`. Synchronous (it runs
 * in `exit` listeners) and never throws: a failure to write is a line on stderr, not a crash of
 * the test process.
 */
export function writeProcessDocument(dir: string, testFile: string): void {
  try {
    if (!tracker.enabled) return;
    const document = toDocument(tracker.reports(), tracker.snapshot(), {
      waitgraph: VERSION,
      root: process.cwd(),
    });
    const name = `${fileKey(testFile)}.${process.pid}.${threadId}.${documentsWritten++}.${randomBytes(3).toString("hex")}.json`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), renderDocument(document));
  } catch (error) {
    process.stderr.write(
      `waitgraph: could not write the graph of ${testFile} to ${dir}: ${String(error)}\n`,
    );
  }
}

export interface RunOutcome {
  /** Test files whose graphs were merged. */
  files: string[];
  /** Cycles only the union of the files' graphs has: each fails the run. */
  found: CircularDependencyReport[];
  /** Reports the test processes made themselves (each already failed a test or a file). */
  reported: number;
  /** Where the merged document was written, if anywhere. */
  output: string | undefined;
  /** Documents that could not be read (a process killed while writing one). */
  unreadable: string[];
}

/**
 * Merges the documents in `dir`, writes the merged document to `output` (resolved against `cwd`;
 * undefined writes none), and removes `dir`. Synchronous: node:test's reporter and Vitest's
 * reporter both call it once every test process has exited.
 */
export function finishRun(
  dir: string,
  output: string | undefined,
  cwd: string,
): RunOutcome {
  const inputs: MergeInput[] = [];
  const unreadable: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch {
    // No test process wrote anything (tracking off, or no test ran).
  }
  for (const name of names) {
    const source = sourceOf(name);
    try {
      inputs.push({
        source,
        document: readDocument(readFileSync(join(dir, name), "utf8")),
      });
    } catch {
      unreadable.push(source);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const files = [...new Set(inputs.map((i) => i.source))];
  if (inputs.length === 0)
    return { files, found: [], reported: 0, output: undefined, unreadable };
  const { document, found } = mergeDocuments(inputs, { waitgraph: VERSION });
  let written: string | undefined;
  if (output !== undefined) {
    written = resolve(cwd, output);
    mkdirSync(dirname(written), { recursive: true });
    writeFileSync(written, renderDocument(document));
  }
  const reported = document.reports.length - found.length;
  return { files, found, reported, output: written, unreadable };
}

/**
 * The test file as the first part of a document's name: relative to the working directory (all
 * test processes of a run share it), URI-encoded. A path too long for a file name (255 bytes)
 * keeps its base name and a hash of the rest.
 */
function fileKey(testFile: string): string {
  const file = isAbsolute(testFile)
    ? relative(process.cwd(), testFile)
    : testFile;
  const key = encodeURIComponent(file);
  if (key.length <= 180) return key;
  const hash = createHash("sha256").update(file).digest("hex").slice(0, 12);
  return encodeURIComponent(`…${hash}/${basename(file)}`).slice(-180);
}

/** `test/a.test.ts` from `test%2Fa.test.ts.123.0.0.ab12cd.json`. */
function sourceOf(name: string): string {
  return decodeURIComponent(name.split(".").slice(0, -5).join("."));
}

/** The merged graph file: `WAITGRAPH_OUTPUT`, else `fallback`; `off` (or `false`, `0`) for none. */
export function outputFrom(
  env: Record<string, string | undefined>,
  fallback: string | false,
): string | undefined {
  const value = env[OUTPUT_ENV]?.trim();
  if (value === undefined || value === "")
    return fallback === false ? undefined : fallback;
  return /^(off|false|0)$/i.test(value) ? undefined : value;
}

/**
 * What the run's end prints: each cycle only the union has, then one line. Empty when there is
 * nothing to say beyond where the graph went.
 */
export function describeOutcome(outcome: RunOutcome, cwd: string): string {
  const lines: string[] = [];
  for (const r of outcome.found) lines.push(r.text, "");
  for (const file of outcome.unreadable)
    lines.push(`waitgraph: could not read the graph written for ${file}`);
  const where =
    outcome.output !== undefined
      ? `; merged graph in ${relative(cwd, outcome.output) || outcome.output}`
      : "";
  const n = outcome.files.length;
  const of = `${n} test file${n === 1 ? "" : "s"}`;
  const { found, reported } = outcome;
  lines.push(
    found.length > 0
      ? `waitgraph: ${plural(found.length, "circular dependency", "circular dependencies")} across ${of} that no single file saw${where}`
      : reported > 0
        ? `waitgraph: ${of}, ${plural(reported, "report", "reports")} (each failed where it was made), no cycle across files${where}`
        : `waitgraph: ${of}, no reports${where}`,
  );
  return lines.join("\n") + "\n";
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
