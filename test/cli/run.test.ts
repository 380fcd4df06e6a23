// `waitgraph run`, end to end: the built CLI (bin/waitgraph.js → dist/) runs the bundled
// examples and a few fixtures in child processes, as a user's shell would.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "bin", "waitgraph.js");
let scratch = "";

/** Rebuilds dist/ when any file under src/ is newer than the oldest compiled file. */

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `waitgraph …` from the repository root; WAITGRAPH is unset (policy log) unless given. */
function waitgraph(args: string[], env: Record<string, string> = {}): Run {
  const base = { ...process.env };
  delete base["WAITGRAPH"];
  delete base["NODE_TEST_CONTEXT"];
  delete base["NODE_OPTIONS"];
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...base, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** The 1-based line of `file` (relative to the root) that contains `text`; exactly one must. */
function lineOf(file: string, text: string): number {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  assert.equal(hits.length, 1, `expected one line of ${file} with ${text}`);
  return hits[0]!;
}

interface Doc {
  schema: string;
  reports: { kind: string; text: string; classes: string[] }[];
  snapshot: {
    classes: { name: string }[];
    edges: { from: string; to: string }[];
  };
}

function readJson(file: string): Doc {
  return JSON.parse(readFileSync(file, "utf8")) as Doc;
}

/** The last line of stderr: waitgraph's summary. */
function summaryLine(run: Run): string {
  return run.stderr.trimEnd().split("\n").at(-1) ?? "";
}

/** Each report's text was printed live, and points at user code only. */
function assertPrintedFromUserCode(run: Run, doc: Doc): void {
  for (const report of doc.reports) {
    assert.ok(
      run.stderr.includes(report.text),
      "the report is printed on stderr",
    );
    assert.doesNotMatch(report.text, /\b(src|dist)\/(core|primitives|cli)\//);
    assert.doesNotMatch(report.text, /node_modules/);
  }
}

before(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), "waitgraph-cli-test-"));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("waitgraph run, on the bundled examples", () => {
  test("bank-transfer-abba reports a circular dependency at the transfer's lines and exits 1", () => {
    const json = join(scratch, "abba.json");
    const run = waitgraph([
      "run",
      "examples/bank-transfer-abba.ts",
      "--json",
      json,
    ]);
    assert.equal(run.status, 1);
    assert.equal(
      summaryLine(run),
      "waitgraph: 1 report: 1 circular-dependency",
    );
    assert.match(run.stdout, /alice 80, bob 70/);
    const inner = lineOf(
      "examples/bank-transfer-abba.ts",
      "await to.lock.runExclusive",
    );
    const second = lineOf(
      "examples/bank-transfer-abba.ts",
      "await transfer(bob, alice",
    );
    assert.match(
      run.stderr,
      new RegExp(`examples/bank-transfer-abba\\.ts:${inner}:\\d+`),
    );
    assert.match(
      run.stderr,
      new RegExp(
        `at main \\(examples/bank-transfer-abba\\.ts:${second}:\\d+\\)`,
      ),
    );
    const doc = readJson(json);
    assert.equal(doc.schema, "waitgraph/report@2");
    assert.deepEqual(
      doc.reports.map((r) => r.kind),
      ["circular-dependency"],
    );
    assert.deepEqual([...doc.reports[0]!.classes].sort(), [
      "account:alice",
      "account:bob",
    ]);
    assert.deepEqual(
      doc.snapshot.edges.map((e) => `${e.from} -> ${e.to}`),
      ["account:alice -> account:bob"],
    );
    assertPrintedFromUserCode(run, doc);
  });

  test("nested-run-exclusive reports recursive locking; the program stalls and Node exits with it", () => {
    const json = join(scratch, "nested.json");
    const run = waitgraph([
      "run",
      "examples/nested-run-exclusive.ts",
      "--json",
      json,
    ]);
    assert.equal(run.status, 1);
    // The program really hangs: at exit its blocked wait is explained as a live deadlock too.
    assert.equal(
      summaryLine(run),
      "waitgraph: 2 reports: 1 recursive-locking, 1 deadlock",
    );
    assert.doesNotMatch(run.stdout, /reserved/, "reserve() never returns");
    const restock = lineOf(
      "examples/nested-run-exclusive.ts",
      "return this.mutex.runExclusive(() =>",
    );
    assert.match(
      run.stderr,
      new RegExp(`examples/nested-run-exclusive\\.ts:${restock}:\\d+`),
    );
    const doc = readJson(json);
    assert.deepEqual(
      doc.reports.map((r) => r.kind),
      ["recursive-locking", "deadlock"],
    );
    assertPrintedFromUserCode(run, doc);
  });

  test("nested-run-exclusive under WAITGRAPH=throw fails with a DeadlockError instead of hanging", () => {
    const run = waitgraph(["run", "examples/nested-run-exclusive.ts"], {
      WAITGRAPH: "throw",
    });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /reserve failed instead of hanging: ERR_WAITGRAPH_DEADLOCK/,
    );
    assert.equal(summaryLine(run), "waitgraph: 1 report: 1 recursive-locking");
  });

  test("pool-exhaustion reports a second permit of the pool taken under the first, from a run that finishes", () => {
    const json = join(scratch, "pool.json");
    const run = waitgraph([
      "run",
      "examples/pool-exhaustion.ts",
      "--json",
      json,
    ]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /order 1: widget at \d+/);
    assert.equal(summaryLine(run), "waitgraph: 1 report: 1 recursive-locking");
    const nested = lineOf(
      "examples/pool-exhaustion.ts",
      "const price = await loadPrice(sku)",
    );
    assert.match(
      run.stderr,
      new RegExp(`examples/pool-exhaustion\\.ts:${nested}:\\d+`),
    );
    const doc = readJson(json);
    assert.deepEqual(
      doc.reports.map((r) => [r.kind, r.classes]),
      [["recursive-locking", ["db-pool"]]],
    );
    assertPrintedFromUserCode(run, doc);
  });

  test("rwlock-upgrade reports the write lock taken under its own read lock", () => {
    const json = join(scratch, "rwlock.json");
    const run = waitgraph([
      "run",
      "examples/rwlock-upgrade.ts",
      "--json",
      json,
    ]);
    assert.equal(run.status, 1);
    // The program really hangs: at exit its blocked wait is explained as a live deadlock too.
    assert.equal(
      summaryLine(run),
      "waitgraph: 2 reports: 1 recursive-locking, 1 deadlock",
    );
    const write = lineOf(
      "examples/rwlock-upgrade.ts",
      "return this.lock.runWrite(",
    );
    assert.match(
      run.stderr,
      new RegExp(`examples/rwlock-upgrade\\.ts:${write}:\\d+`),
    );
    const doc = readJson(json);
    assert.deepEqual(
      doc.reports.map((r) => r.kind),
      ["recursive-locking", "deadlock"],
    );
    assertPrintedFromUserCode(run, doc);
  });

  test("held-at-task-end reports the task that returned early with the lock, and the program goes on", () => {
    const json = join(scratch, "held.json");
    const run = waitgraph([
      "run",
      "examples/held-at-task-end.ts",
      "--json",
      json,
    ]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /imported 2 rows/);
    assert.equal(summaryLine(run), "waitgraph: 1 report: 1 held-at-task-end");
    const taken = lineOf(
      "examples/held-at-task-end.ts",
      "await importLock.acquire()",
    );
    assert.match(
      run.stderr,
      new RegExp(`examples/held-at-task-end\\.ts:${taken}:\\d+`),
    );
    const doc = readJson(json);
    assert.deepEqual(
      doc.reports.map((r) => r.kind),
      ["held-at-task-end"],
    );
    assertPrintedFromUserCode(run, doc);
  });
});

describe("waitgraph run, on other programs", () => {
  test("a plain JavaScript program runs without the TypeScript loader and is reported at its own lines", () => {
    const json = join(scratch, "js.json");
    const run = waitgraph([
      "run",
      "test/cli/fixtures/abba.mjs",
      "--json",
      json,
    ]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /abba done/);
    const closing = lineOf("test/cli/fixtures/abba.mjs", "the closing acquire");
    assert.match(
      run.stderr,
      new RegExp(`test/cli/fixtures/abba\\.mjs:${closing}:\\d+`),
    );
    assert.deepEqual(
      readJson(json).reports.map((r) => r.kind),
      ["circular-dependency"],
    );
  });

  test('TypeScript in a CommonJS package (no "type": "module") runs as CommonJS', () => {
    const run = waitgraph(["run", "test/cli/fixtures/commonjs/app.ts"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, "commonjs: object, 42\n");
    assert.equal(summaryLine(run), "waitgraph: no reports");
  });

  test("arguments reach the program, with waitgraph's options taken from anywhere before --", () => {
    const json = join(scratch, "args.json");
    const run = waitgraph([
      "run",
      "test/cli/fixtures/print-args.mjs",
      "a",
      "--json",
      json,
      "b c",
      "--",
      "--flag",
      "-x",
      "--json",
    ]);
    assert.equal(run.status, 0);
    assert.deepEqual(JSON.parse(run.stdout), [
      "a",
      "b c",
      "--flag",
      "-x",
      "--json",
    ]);
    assert.equal(summaryLine(run), "waitgraph: no reports");
    const doc = readJson(json);
    assert.equal(doc.schema, "waitgraph/report@2");
    assert.deepEqual(doc.reports, []);
  });

  test("a program that never settles its last promise still hands over its reports, and its exit code wins", () => {
    const json = join(scratch, "never.json");
    const run = waitgraph([
      "run",
      "test/cli/fixtures/never-settles.ts",
      "--json",
      json,
    ]);
    // 13: Node's exit code for a top-level await that never settled.
    assert.equal(run.status, 13);
    assert.match(run.stdout, /holding never-released/);
    assert.doesNotMatch(run.stdout, /unreachable/);
    // The program really hangs: at exit its blocked wait is explained as a live deadlock too.
    assert.equal(
      summaryLine(run),
      "waitgraph: 2 reports: 1 recursive-locking, 1 deadlock",
    );
    assert.deepEqual(
      readJson(json).reports.map((r) => r.kind),
      ["recursive-locking", "deadlock"],
    );
  });

  test("a program's own failure is waitgraph's exit code", () => {
    const run = waitgraph(["run", "test/cli/fixtures/exit-code.mjs"]);
    assert.equal(run.status, 7);
    assert.equal(summaryLine(run), "waitgraph: no reports");
  });

  test("a program killed by a signal kills waitgraph with the same signal", () => {
    const run = waitgraph(["run", "test/cli/fixtures/killed.mjs"]);
    assert.equal(run.signal, "SIGTERM");
    assert.match(
      run.stderr,
      /the program ended by SIGTERM before waitgraph could collect its reports/,
    );
  });

  test("WAITGRAPH=off runs the program unchecked and says so", () => {
    const run = waitgraph(["run", "examples/bank-transfer-abba.ts"], {
      WAITGRAPH: "off",
    });
    assert.equal(run.status, 0);
    assert.equal(
      summaryLine(run),
      "waitgraph: tracking was off (WAITGRAPH=off): nothing was checked",
    );
  });

  test("WAITGRAPH=silent prints only the summary, and still exits 1", () => {
    const run = waitgraph(["run", "examples/bank-transfer-abba.ts"], {
      WAITGRAPH: "silent",
    });
    assert.equal(run.status, 1);
    assert.equal(run.stderr, "waitgraph: 1 report: 1 circular-dependency\n");
  });
});

describe("waitgraph's command line", () => {
  const usage = (args: string[], message: RegExp): void => {
    const run = waitgraph(args);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, "");
  };

  test("a missing script is a usage error (exit 2)", () =>
    usage(["run"], /^waitgraph: missing the script to run/));

  test("a script that does not exist is a usage error (exit 2)", () =>
    usage(["run", "examples/nope.ts"], /script not found: examples\/nope\.ts/));

  test("an unknown option is a usage error that says how to pass it to the program", () =>
    usage(
      ["run", "examples/bank-transfer-abba.ts", "--verbose"],
      /unknown option --verbose for `waitgraph run` .*-- --verbose/,
    ));

  test("an option without its value is a usage error", () => {
    usage(
      ["run", "examples/bank-transfer-abba.ts", "--json"],
      /option --json needs a value: --json FILE/,
    );
    usage(
      ["run", "--json", "--sarif", "x", "examples/bank-transfer-abba.ts"],
      /option --json needs a value/,
    );
  });

  test("an unknown command is a usage error", () =>
    usage(["runn", "x.ts"], /unknown command "runn" \(commands: run/));

  test("no arguments print the overview on stderr (exit 2)", () =>
    usage([], /Usage: waitgraph <command>/));

  test("--help, help run and run --help print help on stdout", () => {
    const overview = waitgraph(["--help"]);
    assert.equal(overview.status, 0);
    assert.match(overview.stdout, /Commands:\n\s+run\s/);
    const help = waitgraph(["help", "run"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: waitgraph run \[options\] <script>/);
    assert.match(help.stdout, /--json FILE/);
    assert.equal(waitgraph(["run", "--help"]).stdout, help.stdout);
  });

  test("--version prints the package's version", () => {
    const pkg = JSON.parse(
      readFileSync(join(root, "package.json"), "utf8"),
    ) as { version: string };
    const run = waitgraph(["--version"]);
    assert.equal(run.status, 0);
    assert.equal(run.stdout, `${pkg.version}\n`);
  });
});
