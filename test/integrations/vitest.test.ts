// waitgraph/vitest, end to end, under each supported Vitest major (the real Vitest of that
// major from npm, installed by this repository's `npm install` in test/integrations/vitest-majors):
// examples/vitest-project run by Vitest in a child process, as its `npm test` would, in its
// broken and its fixed form; a fixture for which test a report is charged to; and a fixture
// whose locks are plain async-mutex and async-lock, set up with the plugin alone. Vitest's JSON
// reporter says which test failed with what message. A major that does not run on this Node
// line (Vitest 5 needs Node 22.12) is skipped, with the reason.
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
  type Run,
  VITEST_MAJORS,
  vitestOnThisNode,
} from "./support.js";

interface Results {
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: {
      title: string;
      status: string;
      failureMessages: string[];
    }[];
  }[];
}

const dirs: string[] = [];

/** The project's `test` script (`vitest run`), with file filters and flags, plus a JSON reporter. */
function vitest(
  dir: string,
  filters: string[] = [],
  env: Record<string, string> = {},
): Run & { results: Results } {
  const script = (
    JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      scripts?: { test?: string };
    }
  ).scripts?.test;
  const command = (script ?? "vitest run").split(" ");
  assert.equal(command[0], "vitest", `an unexpected test script: ${script}`);
  const run = node(
    dir,
    [
      join("node_modules", "vitest", "vitest.mjs"),
      ...command.slice(1),
      ...filters,
      "--reporter=default",
      "--reporter=json",
      "--outputFile.json=results.json",
    ],
    env,
  );
  assert.ok(existsSync(join(dir, "results.json")), run.output);
  const results = JSON.parse(
    readFileSync(join(dir, "results.json"), "utf8"),
  ) as Results;
  return { ...run, results };
}

function file(results: Results, name: string): Results["testResults"][number] {
  const found = results.testResults.find((f) => f.name.endsWith(name));
  assert.ok(found, `no result for ${name}`);
  return found;
}

before(() => {
  ensureBuilt();
});

after(() => {
  for (const dir of dirs) removeProject(dir);
});

for (const major of VITEST_MAJORS) {
  const { version, skip } = vitestOnThisNode(major);
  describe(`Vitest ${major} (${version})`, { skip }, () => {
    describe("examples/vitest-project, with the inversion", () => {
      let dir = "";
      let run: ReturnType<typeof vitest>;
      before(() => {
        dir = project("examples/vitest-project", { vitest: major });
        dirs.push(dir);
        run = vitest(dir);
      });

      test("the run fails with the circular-dependency report naming both test files' lines", () => {
        assert.equal(run.status, 1, run.output);
        assert.match(
          run.stderr,
          /WARNING: possible circular locking dependency detected/,
        );
        // The chain: payments took alice then bob; refunds took bob, then alice closed the cycle.
        assert.match(run.stderr, /test\/payments\.test\.ts:5:\d+/);
        assert.match(run.stderr, /test\/refunds\.test\.ts:5:\d+/);
        assert.match(
          run.stderr,
          /account:alice -> account:bob: test\/payments\.test\.ts\n\s+account:bob -> account:alice: test\/refunds\.test\.ts \(closes the cycle\)/,
        );
        assert.match(
          run.stderr,
          /waitgraph: 1 circular dependency across 3 test files that no single file saw; merged graph in \.waitgraph\/vitest\.json/,
        );
      });

      test("each ABBA test passes by itself: only the merge of their graphs finds the cycle", () => {
        for (const name of ["payments.test.ts", "refunds.test.ts"]) {
          const f = file(run.results, name);
          assert.equal(f.status, "passed", `${name}: ${f.message}`);
        }
      });

      test("the nested recursive lock fails its own test, the rendered report as the failure message", () => {
        const f = file(run.results, "audit.test.ts");
        const [audit] = f.assertionResults;
        assert.equal(audit?.status, "failed");
        // Once: the DeadlockError the acquire threw, not again from waitgraph's afterEach.
        assert.equal(audit.failureMessages.length, 1);
        const message = audit.failureMessages[0]!;
        assert.match(
          message,
          /^DeadlockError: WARNING: possible recursive locking detected \(account:alice\)\n=+\nWARNING: possible recursive locking detected\n/,
        );
        assert.match(
          message,
          /task "main" is trying to acquire lock:\n\(account:alice\)\{\+\.\+\.\}, at: src\/bank\.ts:\d+:\d+/,
        );
        assert.match(message, /\*\*\* DEADLOCK \*\*\*/);
      });

      test("the merged graph file holds every file's graph and the cross-file report", () => {
        assertMergedGraph(dir, "vitest", "ts");
      });
    });

    describe("examples/vitest-project, file by file", () => {
      let dir = "";
      before(() => {
        dir = project("examples/vitest-project", { vitest: major });
        dirs.push(dir);
      });

      test("the two ABBA files fail the run although every test in them passes", () => {
        const run = vitest(dir, ["payments", "refunds"]);
        assert.equal(run.status, 1, run.output);
        assert.ok(
          run.results.testResults.every((f) => f.status === "passed"),
          run.output,
        );
        assert.match(
          run.stderr,
          /1 circular dependency across 2 test files that no single file saw/,
        );
      });

      test("either ABBA file alone passes: neither order is a cycle by itself", () => {
        for (const name of ["payments", "refunds"]) {
          const run = vitest(dir, [name]);
          assert.equal(run.status, 0, run.output);
          assert.match(
            run.stderr,
            /waitgraph: 1 test file, no reports; merged graph in/,
          );
        }
      });
    });

    describe("examples/vitest-project, fixed (FIXED=1)", () => {
      test("the run passes, and still writes the merged graph", () => {
        const dir = project("examples/vitest-project", { vitest: major });
        dirs.push(dir);
        const run = vitest(dir, [], { FIXED: "1" });
        assert.equal(run.status, 0, run.output);
        assert.match(
          run.stderr,
          /waitgraph: 3 test files, no reports; merged graph in \.waitgraph\/vitest\.json/,
        );
        const document = readDocument(
          readFileSync(join(dir, ".waitgraph", "vitest.json"), "utf8"),
        );
        assert.deepEqual(document.reports, []);
        assert.deepEqual(
          document.snapshot.edges.map((e) => `${e.from} -> ${e.to}`),
          ["account:alice -> account:bob"],
        );
      });
    });

    describe("which test a report is charged to (fixture)", () => {
      let run: ReturnType<typeof vitest>;
      before(() => {
        const dir = project("test/integrations/fixtures/vitest-charging", {
          vitest: major,
        });
        dirs.push(dir);
        run = vitest(dir);
      });

      test("a test that swallowed its DeadlockError fails, with the report as the message", () => {
        const [swallows, next] = file(
          run.results,
          "caught.test.js",
        ).assertionResults;
        assert.equal(swallows?.status, "failed");
        assert.match(
          swallows.failureMessages[0] ?? "",
          /^ReportedError: WARNING: possible recursive locking detected \(ledger\) during this test\n=+\nWARNING: possible recursive locking detected\n/,
        );
        assert.equal(
          next?.status,
          "passed",
          "the next test is charged nothing",
        );
      });

      test("a report made while the file loads fails the file, not its test", () => {
        const f = file(run.results, "outside.test.js");
        assert.equal(f.status, "failed");
        assert.equal(f.assertionResults[0]?.status, "passed");
        assert.match(
          run.output,
          /ReportedError: WARNING: possible recursive locking detected \(registry\) in this file, outside its tests/,
        );
        assert.equal(run.status, 1);
      });

      test("the run's last line counts the tests' reports; output: false writes no graph file", () => {
        assert.match(
          run.stderr,
          /^waitgraph: 2 test files, 2 reports \(each failed where it was made\), no cycle across files$/m,
        );
      });
    });

    describe("plain async-mutex and async-lock, with the plugin alone (fixture)", () => {
      let dir = "";
      before(() => {
        dir = project("test/integrations/fixtures/vitest-libraries", {
          vitest: major,
        });
        dirs.push(dir);
      });

      for (const pool of ["forks", "threads"]) {
        test(`a cross-file ABBA on each library fails the run (pool: ${pool})`, () => {
          const run = vitest(dir, [`--pool=${pool}`]);
          assert.equal(run.status, 1, run.output);
          assert.ok(
            run.results.testResults.every((f) => f.status === "passed"),
            run.output,
          );
          assertLibraryCycles(run.stderr);
          assert.doesNotMatch(run.output, /points to missing source files/);
          assert.match(
            run.stderr,
            /waitgraph: 2 circular dependencies across 4 test files that no single file saw/,
          );
        });
      }

      test("a rerun, whose importers come from Vitest's on-disk module cache (Vitest 5), is checked the same", () => {
        // The runs above filled node_modules/.vitest-cache where Vitest caches modules.
        // An importer read back from it names the re-exporting module without resolving
        // the bare import again: this run fails unless that module loads in a new process.
        const run = vitest(dir);
        assert.equal(run.status, 1, run.output);
        assert.doesNotMatch(run.output, /null bytes/);
        assertLibraryCycles(run.stderr);
      });

      test("an ES-module library Vite inlines (server.deps.inline) is checked too", () => {
        const run = vitest(dir, ["mutex", "--config=vitest.inline.config.js"]);
        assert.equal(run.status, 1, run.output);
        assert.match(
          run.stderr,
          /async-mutex@src\/mutexes\.js:9:\d+ -> async-mutex@src\/mutexes\.js:8:\d+: test\/mutex-refunds\.test\.js \(closes the cycle\)/,
        );
      });

      test("the same tests with the locks taken in one order pass (FIXED=1)", () => {
        const run = vitest(dir, [], { FIXED: "1" });
        assert.equal(run.status, 0, run.output);
        assert.match(
          run.stderr,
          /waitgraph: 4 test files, no reports; merged graph in \.waitgraph\/vitest\.json/,
        );
        assertLibraryEdges(dir, "vitest");
      });
    });
  });
}
