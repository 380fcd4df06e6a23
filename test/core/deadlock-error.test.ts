// What a person sees when a DeadlockError is not caught: Node prints the error with
// util.inspect (customInspect off), and that must be the rendered report and the stack — not
// the report object's every property after it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { DeadlockError } from "../../src/core/errors.js";
import type { Report } from "../../src/core/report.js";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = join(root, "test", "fixtures", "uncaught-deadlock.mjs");

describe("an uncaught DeadlockError", () => {
  test("prints the report text and the stack, and nothing of the report object", () => {
    ensureBuilt();
    const env: NodeJS.ProcessEnv = { ...process.env, WAITGRAPH: "throw" };
    delete env["NODE_OPTIONS"];
    delete env["NODE_TEST_CONTEXT"];
    const run = spawnSync(process.execPath, [fixture], {
      cwd: root,
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(run.status, 1, run.stderr);
    const err = run.stderr;
    assert.match(
      err,
      /^DeadlockError: WARNING: possible circular locking dependency detected \(account:(alice|bob), account:(alice|bob)\)$/m,
    );
    // The report, as the log policy would print it…
    assert.match(err, /^ \*\*\* DEADLOCK \*\*\*$/m);
    assert.match(err, /^stack backtrace:$/m);
    // …then the JavaScript stack, at the acquire that was refused (the second transfer)…
    assert.match(err, /^ {4}at .*uncaught-deadlock\.mjs:9:\d+$/m);
    // …then the code, and the end.
    assert.match(err, /\{\n {2}code: 'ERR_WAITGRAPH_DEADLOCK'\n\}\n/);
    for (const field of ["report:", "kind:", "classes:", "held:", "text:"])
      assert.ok(!err.includes(field), `stderr shows ${field}\n${err}`);
    const lines = err.trimEnd().split("\n").length;
    assert.ok(lines < 70, `${lines} lines:\n${err}`);
  });

  test("still carries its report, as a property that inspect leaves out", () => {
    const report = {
      kind: "recursive-locking",
      classes: ["m"],
      text: "WARNING: possible recursive locking detected\n…",
    } as unknown as Report;
    const error = new DeadlockError(report);
    assert.equal(error.report, report);
    assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
    assert.deepEqual(Object.keys(error).sort(), ["code", "name"]);
    const shown = inspect(error);
    assert.ok(shown.startsWith(error.stack!), shown);
    assert.ok(!shown.includes("report"), shown);
  });
});
