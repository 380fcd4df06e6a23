// `node --import waitgraph/register app.js`, end to end: each fixture under test/fixtures is a
// plain program that imports or requires the libraries themselves, run in a child process.
// (The child imports src/register.ts through tsx, the same module dist/register.js is built from.)
//
//   fixture                 WAITGRAPH   expected
//   register-abba.mjs       (unset)     two circular-dependency reports at the ABBA lines, exit 0
//   register-abba.mjs       throw       DeadlockError at the first ABBA line, exit 1
//   register-abba.mjs       off         nothing instrumented, nothing reported, exit 0
//   register-nested.mjs     log         two recursive-locking reports at the NESTED lines, exit 0
//   register-nested.mjs     off         nothing instrumented, nothing reported, exit 0
//   register-cjs.cjs        log         the two reports at the ABBA lines, exit 0
//   register-adapter.mjs    log         the adapter beside the instrumented library keeps its
//                                       class options and `instanceof` holds both ways
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const root = fileURLToPath(new URL("../../", import.meta.url));
const register = fileURLToPath(
  new URL("../../src/register.ts", import.meta.url),
);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(fixture: string, waitgraph: string | undefined): Run {
  const env = { ...process.env };
  delete env["NODE_TEST_CONTEXT"];
  delete env["WAITGRAPH"];
  if (waitgraph !== undefined) env["WAITGRAPH"] = waitgraph;
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "--import", register, `test/fixtures/${fixture}`],
    { cwd: root, env, encoding: "utf8", timeout: 60_000 },
  );
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** `test/fixtures/<fixture>:<line>` of the line carrying `marker`. */
function site(fixture: string, marker: string): string {
  const lines = readFileSync(
    new URL(`../fixtures/${fixture}`, import.meta.url),
    "utf8",
  ).split("\n");
  const index = lines.findIndex((line) => line.includes(marker));
  assert.notEqual(index, -1, `${marker} in ${fixture}`);
  return `test/fixtures/${fixture}:${index + 1}:`;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("waitgraph/register", () => {
  it("reports an ABBA over async-mutex (ES module) and async-lock (CommonJS) at their lines, and lets the program finish", () => {
    const r = run("register-abba.mjs", undefined);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /instrumented: true\ndone/);
    assert.equal(
      count(r.stderr, "possible circular locking dependency detected"),
      2,
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(site("register-abba.mjs", "ABBA mutex")),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(site("register-abba.mjs", "ABBA async-lock")),
      r.stderr,
    );
    assert.ok(
      !r.stderr.includes("node_modules/async-lock"),
      "library frames are left out",
    );
  });

  it("turns the first ABBA into a DeadlockError at its line under WAITGRAPH=throw", () => {
    const r = run("register-abba.mjs", "throw");
    assert.equal(r.status, 1);
    assert.ok(!r.stdout.includes("done"));
    assert.match(r.stderr, /ERR_WAITGRAPH_DEADLOCK/);
    assert.ok(
      r.stderr.includes(site("register-abba.mjs", "ABBA mutex")),
      r.stderr,
    );
  });

  it("instruments nothing and reports nothing under WAITGRAPH=off", () => {
    const r = run("register-abba.mjs", "off");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /instrumented: false\ndone/);
    assert.equal(r.stderr, "");
  });

  it("reports limited work that waits for its own p-limit or p-queue limiter (p-limit #91)", () => {
    const r = run("register-nested.mjs", "log");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /instrumented: true\ndone/);
    assert.equal(
      count(r.stderr, "possible recursive locking detected"),
      2,
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(site("register-nested.mjs", "NESTED p-limit")),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(site("register-nested.mjs", "NESTED p-queue")),
      r.stderr,
    );
  });

  it("leaves ES-module limiters alone under WAITGRAPH=off", () => {
    const r = run("register-nested.mjs", "off");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /instrumented: false\ndone/);
    assert.equal(r.stderr, "");
  });

  it("instruments libraries a CommonJS program requires", () => {
    const r = run("register-cjs.cjs", "log");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      count(r.stderr, "possible circular locking dependency detected"),
      2,
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(site("register-cjs.cjs", "ABBA mutex")),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(site("register-cjs.cjs", "ABBA async-lock")),
      r.stderr,
    );
  });

  it("keeps the adapter's own options when the program also imports the instrumented library", () => {
    const r = run("register-adapter.mjs", "log");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "plain instrumented: true",
        "adapted is a plain AsyncLock: true",
        "adapted[a] -> adapted[b]",
        "",
      ].join("\n"),
    );
    assert.equal(r.stderr, "");
  });
});
