// waitgraph/node-test, end to end: examples/node-test-project run by `node --test` in a child
// process with the flags of its `npm test`, in its broken and its fixed form; and a fixture for
// which test a report is charged to. Where a test needs to know exactly which test failed with
// what message, a small reporter (fixtures/events-reporter.mjs) writes the runner's events as
// JSON lines next to waitgraph's reporter.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readDocument } from "../../src/report/json.js";
import {
  assertLibraryCycles,
  assertLibraryEdges,
  assertMergedGraph,
  ensureBuilt,
  node,
  project,
  removeProject,
  root,
  type Run,
} from "./support.js";

const dirs: string[] = [];
const eventsReporter = join(
  root,
  "test",
  "integrations",
  "fixtures",
  "events-reporter.mjs",
);

/** The `node` arguments of the project's `test` script (which lets node find the test files), then `files`. */
function scriptArgs(dir: string, files?: string[]): string[] {
  const script = (
    JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      scripts?: { test?: string };
    }
  ).scripts?.test;
  const words = (
    script ??
    "node --test --import waitgraph/node-test --test-reporter=waitgraph/node-test"
  ).split(" ");
  assert.equal(words[0], "node", `an unexpected test script: ${script}`);
  return [...words.slice(1), ...(files ?? [])];
}

interface Event {
  type: "test:pass" | "test:fail" | "test:stderr";
  name?: string;
  file?: string;
  error?: string;
  message?: string;
}

/** The script's run with the events reporter added; waitgraph's reporter then prints only its own lines. */
function withEvents(
  dir: string,
  files?: string[],
  env: Record<string, string> = {},
): Run & { events: Event[] } {
  const args = scriptArgs(dir, files).flatMap((a) =>
    a.startsWith("--test-reporter=")
      ? [
          a,
          "--test-reporter-destination=stdout",
          `--test-reporter=${eventsReporter}`,
          "--test-reporter-destination=events.jsonl",
        ]
      : [a],
  );
  const run = node(dir, args, env);
  const events = readFileSync(join(dir, "events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Event);
  return { ...run, events };
}

function result(events: Event[], name: string): Event {
  const found = events.find(
    (e) =>
      (e.type === "test:pass" || e.type === "test:fail") && e.name === name,
  );
  assert.ok(found, `no result for ${name}`);
  return found;
}

before(() => {
  ensureBuilt();
});

after(() => {
  for (const dir of dirs) removeProject(dir);
});

describe("examples/node-test-project, with the inversion, as `npm test` runs it", () => {
  let dir = "";
  let run: Run;
  before(() => {
    dir = project("examples/node-test-project");
    dirs.push(dir);
    run = node(dir, scriptArgs(dir));
  });

  test("the run fails with the circular-dependency report naming both test files' lines", () => {
    assert.equal(run.status, 1, run.output);
    assert.match(
      run.stderr,
      /WARNING: possible circular locking dependency detected/,
    );
    assert.match(run.stderr, /\(test\/payments\.test\.js:6:\d+\)/);
    assert.match(run.stderr, /\(test\/refunds\.test\.js:6:\d+\)/);
    assert.match(
      run.stderr,
      /account:alice -> account:bob: test\/payments\.test\.js\n\s+account:bob -> account:alice: test\/refunds\.test\.js \(closes the cycle\)/,
    );
    assert.match(
      run.stderr,
      /waitgraph: 1 circular dependency across 3 test files that no single file saw; merged graph in \.waitgraph\/node-test\.json/,
    );
  });

  test("alone, waitgraph's reporter shows the output `node --test` shows without it on this Node line", () => {
    // Off a terminal, Node 20 and 22 default to TAP and Node 23 on to spec. The same run
    // without waitgraph's reporter says which one this Node uses, and the reporter's own
    // choice must agree with it.
    const plain = node(dir, ["--test", "--import", "waitgraph/node-test"]);
    const tap = /^TAP version 13$/m.test(plain.stdout);
    const major = Number(process.versions.node.split(".")[0]);
    assert.equal(tap, major < 23, plain.stdout);
    if (tap) {
      assert.match(run.stdout, /^TAP version 13$/m);
      assert.match(run.stdout, /^ok \d+ - alice pays bob the rent$/m);
      assert.match(run.stdout, /^ok \d+ - bob refunds alice$/m);
      assert.match(
        run.stdout,
        /^not ok \d+ - an audit finds alice's balance in order\n[^]*?error: \|-\n\s+WARNING: possible recursive locking detected \(account:alice\)\n\s+=+\n\s+WARNING: possible recursive locking detected\n/m,
      );
    } else {
      assert.doesNotMatch(run.stdout, /TAP version/);
      assert.match(run.stdout, /^✔ alice pays bob the rent \(/m);
      assert.match(run.stdout, /^✔ bob refunds alice \(/m);
      assert.match(
        run.stdout,
        /^✖ an audit finds alice's balance in order \([^]*?DeadlockError\]?: WARNING: possible recursive locking detected \(account:alice\)\n\s+=+\n\s+WARNING: possible recursive locking detected\n/m,
      );
      assert.match(run.stdout, /^ℹ pass 2$/m);
      assert.match(run.stdout, /^ℹ fail 1$/m);
    }
  });

  test("the merged graph file holds every file's graph and the cross-file report", () => {
    assertMergedGraph(dir, "node-test", "js");
  });
});

describe("examples/node-test-project, file by file", () => {
  let dir = "";
  before(() => {
    dir = project("examples/node-test-project");
    dirs.push(dir);
  });

  test("the nested recursive lock fails its own test, the rendered report as the failure message", () => {
    const run = withEvents(dir, ["test/audit.test.js"]);
    assert.equal(run.status, 1, run.output);
    const audit = result(run.events, "an audit finds alice's balance in order");
    assert.equal(audit.type, "test:fail");
    assert.match(
      audit.error ?? "",
      /^WARNING: possible recursive locking detected \(account:alice\)\n=+\nWARNING: possible recursive locking detected\n[^]*at: src\/bank\.js:\d+:\d+[^]*\*\*\* DEADLOCK \*\*\*/,
    );
  });

  test("the two ABBA files fail the run although every test in them passes", () => {
    const run = withEvents(dir, [
      "test/payments.test.js",
      "test/refunds.test.js",
    ]);
    assert.equal(run.status, 1, run.output);
    assert.equal(
      result(run.events, "alice pays bob the rent").type,
      "test:pass",
    );
    assert.equal(result(run.events, "bob refunds alice").type, "test:pass");
    assert.ok(
      !run.events.some((e) => e.type === "test:fail"),
      JSON.stringify(run.events),
    );
    assert.match(
      run.stderr,
      /1 circular dependency across 2 test files that no single file saw/,
    );
  });

  test("either ABBA file alone passes: neither order is a cycle by itself", () => {
    for (const name of ["payments", "refunds"]) {
      const run = withEvents(dir, [`test/${name}.test.js`]);
      assert.equal(run.status, 0, run.output);
      assert.match(
        run.stderr,
        /waitgraph: 1 test file, no reports; merged graph in/,
      );
    }
  });
});

describe("examples/node-test-project, fixed (FIXED=1)", () => {
  test("the run passes, and still writes the merged graph", () => {
    const dir = project("examples/node-test-project");
    dirs.push(dir);
    const run = node(dir, scriptArgs(dir), { FIXED: "1" });
    assert.equal(run.status, 0, run.output);
    assert.match(
      run.stderr,
      /waitgraph: 3 test files, no reports; merged graph in \.waitgraph\/node-test\.json/,
    );
    const document = readDocument(
      readFileSync(join(dir, ".waitgraph", "node-test.json"), "utf8"),
    );
    assert.deepEqual(document.reports, []);
    assert.deepEqual(
      document.snapshot.edges.map((e) => `${e.from} -> ${e.to}`),
      ["account:alice -> account:bob"],
    );
  });
});

describe("which test a report is charged to (fixture)", () => {
  let dir = "";
  let run: ReturnType<typeof withEvents>;
  before(() => {
    dir = project("test/integrations/fixtures/node-test-charging");
    dirs.push(dir);
    run = withEvents(dir, ["test/caught.test.js", "test/outside.test.js"], {
      WAITGRAPH_OUTPUT: "off",
    });
  });

  test("a test that swallowed its DeadlockError fails, with the report as the message", () => {
    const swallows = result(run.events, "swallows the deadlock error");
    assert.equal(swallows.type, "test:fail");
    assert.match(
      swallows.error ?? "",
      /^WARNING: possible recursive locking detected \(ledger\) during this test\n=+\nWARNING: possible recursive locking detected\n/,
    );
    assert.equal(
      result(run.events, "runs after it").type,
      "test:pass",
      "the next test is charged nothing",
    );
  });

  test("a report made while the file loads fails the file, not its test", () => {
    assert.equal(result(run.events, "passes").type, "test:pass");
    const file = run.events.find(
      (e) => e.type === "test:fail" && e.name?.endsWith("outside.test.js"),
    );
    assert.ok(file, JSON.stringify(run.events));
    const stderr = run.events
      .filter((e) => e.type === "test:stderr")
      .map((e) => e.message)
      .join("");
    assert.match(
      stderr,
      /WARNING: possible recursive locking detected \(registry\) in this file, outside its tests/,
    );
    assert.equal(run.status, 1);
  });

  test("the run's last line counts the tests' reports; WAITGRAPH_OUTPUT=off writes no graph file", () => {
    assert.match(
      run.stderr,
      /^waitgraph: 2 test files, 2 reports \(each failed where it was made\), no cycle across files$/m,
    );
    assert.equal(existsSync(join(dir, ".waitgraph")), false);
  });
});

describe("plain async-mutex and async-lock, with the documented command alone (fixture)", () => {
  let dir = "";
  before(() => {
    dir = project("test/integrations/fixtures/node-test-libraries");
    dirs.push(dir);
  });

  test("a cross-file ABBA on each library fails the run although every test passes", () => {
    const run = withEvents(dir);
    assert.equal(run.status, 1, run.output);
    assert.equal(
      run.events.filter((e) => e.type === "test:pass").length,
      4,
      JSON.stringify(run.events),
    );
    assert.ok(
      !run.events.some((e) => e.type === "test:fail"),
      JSON.stringify(run.events),
    );
    assertLibraryCycles(run.stderr);
    assert.match(
      run.stderr,
      /waitgraph: 2 circular dependencies across 4 test files that no single file saw/,
    );
  });

  test("the same tests with the locks taken in one order pass (FIXED=1)", () => {
    const run = node(dir, scriptArgs(dir), { FIXED: "1" });
    assert.equal(run.status, 0, run.output);
    assert.match(
      run.stderr,
      /waitgraph: 4 test files, no reports; merged graph in \.waitgraph\/node-test\.json/,
    );
    assertLibraryEdges(dir, "node-test");
  });
});

test("without `--import waitgraph/node-test`, the reporter says what is missing", () => {
  const dir = project("examples/node-test-project");
  dirs.push(dir);
  const run = node(dir, [
    "--test",
    "--test-reporter=waitgraph/node-test",
    "test/payments.test.js",
  ]);
  assert.equal(run.status, 0, run.output);
  assert.match(
    run.stderr,
    /waitgraph: no test process sent its graph; is `--import waitgraph\/node-test` missing\?/,
  );
});
