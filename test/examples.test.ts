// The bundled examples, each run as its header tells a user to run it. Most are run, and their
// reports checked line by line, where their subject is tested (test/cli/run.test.ts,
// test/adapters/pg-examples.test.ts, test/integrations/*); this file runs the three DEPT
// examples no other test runs, and checks that no example is left unrun: every file and project
// under examples/ must be named by some test.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./helpers/build.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const bin = join(root, "bin", "waitgraph.js");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** The `[S]`/`[W]`/`[E]` lines an example's header comment says its report will show. */
function legend(example: string): string[] {
  const header = readFileSync(join(root, example), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("//"));
  return header.flatMap((line) =>
    [...line.matchAll(/\[([SWE])\] (\w+\([^)]*\))/g)].map(
      (m) => `[${m[1]}] ${m[2]}`,
    ),
  );
}

before(() => ensureBuilt());

describe("the DEPT examples under waitgraph run", () => {
  for (const example of [
    "examples/task-awaits-child-under-lock.ts",
    "examples/deferred-after-lock.ts",
    "examples/completion-under-lock.ts",
  ])
    test(`${example} finishes, and reports the cycle its header describes`, () => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env["WAITGRAPH"];
      delete env["NODE_OPTIONS"];
      delete env["NODE_TEST_CONTEXT"];
      const run = spawnSync(process.execPath, [bin, "run", example], {
        cwd: root,
        env,
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(run.signal, null, "it finished by itself");
      assert.equal(run.status, 1, run.stderr);
      assert.notEqual(run.stdout.trim(), "", "the program printed its output");
      assert.equal(
        run.stderr.trimEnd().split("\n").at(-1),
        "waitgraph: 1 report: 1 circular-dependency",
      );
      assert.match(
        run.stderr,
        /^DEPT: Circular dependency has been detected\.$/m,
      );
      const expected = legend(example);
      assert.ok(expected.length >= 5, `${example}: its header has a legend`);
      for (const line of expected)
        assert.ok(
          run.stderr.includes(line),
          `${line} is reported\n${run.stderr}`,
        );
    });
});

test("every example under examples/ is run by some test", () => {
  const tests = files(join(root, "test"))
    .filter((f) => /\.test\.ts$/.test(f))
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  const examples = readdirSync(join(root, "examples")).map(
    (name) => `examples/${name}`,
  );
  assert.ok(examples.length > 0);
  const unrun = examples.filter((e) => !tests.includes(e));
  assert.deepEqual(unrun, [], "examples that no test under test/ names");
});
