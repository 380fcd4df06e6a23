// `waitgraph/node-test`: waitgraph for Node's own test runner. One module, named twice:
//
//   node --test --import waitgraph/node-test --test-reporter=waitgraph/node-test
//
// `node --test` runs each test file in a child process, passing on `--import` but not the
// reporter; reporters run in the runner's own process. So:
//
// - As `--import`, in each test process: tracking on, the supported libraries (async-mutex,
//   async-lock, p-limit, p-queue, the pools) instrumented as the test file loads them, and
//   root-level `beforeEach`/`afterEach` hooks (they wrap every test of the file, in suites too)
//   that fail the test in which a report happened, with the rendered report as the failure
//   message. When the process exits, its graph goes into the run folder, and a report made
//   outside any test fails the file (exit code 1, the report on stderr: the runner shows it
//   and fails the file).
// - As the reporter, in the runner: when the runner sets up its reporters — before it starts any
//   test process — it makes the run folder and names it in WAITGRAPH_RUN_DIR, which the test
//   processes inherit. It passes the runner's events to Node's default reporter (as that Node
//   line chooses: Node 20 and 22 spec on a terminal, else TAP; Node 23 on spec always; nothing
//   when other reporters are given too). When the last test process has exited, it merges
//   their graphs into the run's graph file (default `.waitgraph/node-test.json`,
//   WAITGRAPH_OUTPUT to change it or `off`), prints each cycle that only the union has, and
//   sets the exit code to 1.
//
// Why a reporter: Node 20 and 22 have no global setup or teardown (`--test-global-setup` is
// Node 24 on), so one integration for every line has to do without it; and the runner process
// does not load `--import` modules. A reporter is the one piece of user code that runs in the
// runner, before the first test process starts and after the last ends.
// Without the reporter, each test still fails on its own reports; only the cross-file merge is
// missing.
import { Readable } from "node:stream";
import { afterEach, beforeEach } from "node:test";
import type { TestEvent } from "node:test/reporters";
import { isMainThread } from "node:worker_threads";
import { installInstrumentation } from "../adapters/instrument.js";
import { settingsFromEnvironment } from "../core/environment.js";
import { tracker } from "../core/tracker.js";
import {
  createRunFolder,
  DEFAULT_OUTPUT,
  describeOutcome,
  finishRun,
  outputFrom,
  RUN_DIR_ENV,
  writeProcessDocument,
} from "./run-folder.js";
import { Ledger, ReportedError, startTracking } from "./session.js";

const flags = process.execArgv;
/** This process is `node --test` itself, running test files in child processes. */
const isRunner =
  process.env["NODE_TEST_CONTEXT"] === undefined &&
  flags.some((f) => f === "--test" || f.startsWith("--test=")) &&
  !flags.some((f) => /^--(experimental-)?test-isolation=none$/.test(f));
/**
 * Test files run in this very process (no runner, or a runner without isolation). Not in a
 * worker thread a test starts, which inherits `--import` but is no test process of its own.
 */
const runsTests = !isRunner && isMainThread;

if (runsTests) watchTests();

function watchTests(): void {
  startTracking(process.env);
  // `--import` modules run before the test file, so every supported library the file loads,
  // by `import` or `require`, comes through these hooks: tracked with no other setup.
  if (tracker.enabled) installInstrumentation();
  const ledger = new Ledger();
  beforeEach(() => {
    ledger.testStarts();
  });
  afterEach(() => {
    // A test that already failed keeps its first error (node:test reports one per test), so
    // there is nothing to filter here: a DeadlockError it threw stays its message.
    const reports = ledger.testEnds();
    if (reports.length > 0)
      throw new ReportedError(reports, "during this test");
  });
  // Reports outside tests are judged at exit rather than in a root `after` hook: node:test
  // names a failing root hook after the file that registered it (this one), while a test
  // process that exits with 1 fails under its own test file's name.
  process.on("exit", () => {
    const dir = process.env[RUN_DIR_ENV];
    if (dir !== undefined && dir !== "" && !mergesHere)
      writeProcessDocument(dir, process.argv[1] ?? "(no file)");
    const reports = ledger.fileEnds();
    if (reports.length > 0) {
      process.stderr.write(
        `${new ReportedError(reports, "in this file, outside its tests").message}\n`,
      );
      process.exitCode = 1;
    }
  });
}

/** This process's reporter merges the run (it then writes its own graph before merging). */
let mergesHere = false;

/**
 * The reporter (`--test-reporter=waitgraph/node-test`). Called by the runner while it sets up
 * its reporters, before any test process starts: the run folder is named in the environment
 * here, synchronously, so that every test process inherits it. An arrow function on purpose:
 * the runner constructs (`new`, with no arguments) a default export that has a `prototype`.
 */
const reporter = (
  source: AsyncGenerator<TestEvent, void>,
): AsyncGenerator<string | Buffer, void> => {
  const dir = createRunFolder("node-test");
  process.env[RUN_DIR_ENV] = dir;
  mergesHere = true;
  return report(source, dir);
};
export default reporter;

async function* report(
  source: AsyncGenerator<TestEvent, void>,
  dir: string,
): AsyncGenerator<string | Buffer, void> {
  if (reportersGiven() > 1) for await (const _ of source);
  else yield* defaultReporter(source);
  const cwd = process.cwd();
  if (runsTests) writeProcessDocument(dir, process.argv[1] ?? "(no file)");
  const outcome = finishRun(
    dir,
    outputFrom(process.env, DEFAULT_OUTPUT["node-test"]),
    cwd,
  );
  if (outcome.files.length === 0) {
    if (settingsFromEnvironment(process.env).enabled !== false)
      process.stderr.write(
        "waitgraph: no test process sent its graph; is `--import waitgraph/node-test` missing?\n",
      );
    return;
  }
  process.stderr.write(describeOutcome(outcome, cwd));
  if (outcome.found.length > 0) process.exitCode = 1;
}

function reportersGiven(): number {
  return flags.filter(
    (f) => f === "--test-reporter" || f.startsWith("--test-reporter="),
  ).length;
}

/** Node's own default: spec on a terminal, TAP otherwise (Node 20–22); spec from Node 23. */
async function* defaultReporter(
  source: AsyncGenerator<TestEvent, void>,
): AsyncGenerator<string | Buffer, void> {
  const { spec, tap } = await import("node:test/reporters");
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 23 && process.stdout.isTTY !== true) {
    yield* tap(source);
    return;
  }
  for await (const chunk of Readable.from(source).pipe(new spec()))
    yield chunk as string | Buffer;
}
