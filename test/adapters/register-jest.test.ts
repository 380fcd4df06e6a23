// Jest 30 under `NODE_OPTIONS=--import waitgraph/register`: Jest itself depends on p-limit 3
// (CommonJS, the module is the pLimit function; jest-runner calls `_pLimit().default(n)`), so
// an instrumentation that handed it an object made Jest die at start-up. Real jest from npm, run
// in a child process on test/fixtures/jest (two test files, so that jest-runner schedules its
// workers, which inherit NODE_OPTIONS and load the hook too).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { before, it } from "node:test";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

before(() => ensureBuilt());

it("starts Jest 30 and runs its tests under NODE_OPTIONS=--import waitgraph/register, with nothing on stderr but Jest's own", () => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_OPTIONS: "--import waitgraph/register",
    WAITGRAPH: "log",
  };
  delete env["NODE_TEST_CONTEXT"];
  const child = spawnSync(
    process.execPath,
    [
      "node_modules/jest/bin/jest.js",
      "--rootDir",
      "test/fixtures/jest",
      "--maxWorkers=2",
      "--ci",
    ],
    { cwd: root, env, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(child.status, 0, child.stdout + child.stderr);
  assert.match(child.stderr, /Tests:\s+2 passed, 2 total/);
  assert.doesNotMatch(child.stderr, /\(node:\d+\)|WARNING:|TypeError/);
});
