// Two installed copies of waitgraph in one process share one tracker (issue 10, "one process
// state"): a lock, a key, a wait or an error made by one copy is one to the other. The copies
// are laid out as npm does when a library pins its own version, each a copy of the built
// package, and the app runs in a child process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../helpers/build.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const app = mkdtempSync(join(tmpdir(), "waitgraph-two-copies-"));
after(() => rmSync(app, { recursive: true, force: true }));
ensureBuilt();

function install(dir: string): void {
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, "package.json"), join(dir, "package.json"));
  cpSync(join(root, "dist"), join(dir, "dist"), { recursive: true });
}
install(join(app, "node_modules", "waitgraph"));
const lib = join(app, "node_modules", "lib");
install(join(lib, "node_modules", "waitgraph"));
writeFileSync(
  join(lib, "package.json"),
  JSON.stringify({ name: "lib", type: "module", exports: "./index.js" }),
);
writeFileSync(join(lib, "index.js"), 'export * from "waitgraph";\n');
cpSync(join(root, "test/fixtures/two-copies/app.mjs"), join(app, "app.mjs"));

function run(scenario: string): { status: number | null; out: unknown } {
  const env = { ...process.env };
  for (const name of ["WAITGRAPH", "NODE_TEST_CONTEXT", "NODE_OPTIONS"])
    delete env[name];
  const r = spawnSync(process.execPath, ["app.mjs", scenario], {
    cwd: app,
    env,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.error !== undefined) throw r.error;
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  let out: unknown;
  try {
    out = JSON.parse(line);
  } catch {
    assert.fail(`no JSON line from ${scenario}:\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, out };
}

test("an inversion between one copy's lock and the other's is one report, seen by both", () => {
  assert.deepEqual(run("abba").out, {
    distinct: true,
    a: ["circular-dependency"],
    b: ["circular-dependency"],
  });
});

test("look-alike: the same two locks of two copies taken in one order are not reported", () => {
  assert.deepEqual(run("ordered").out, { a: [], b: [] });
});

test("a LockClassKey of one copy keys locks of both: one class, nested is recursive locking", () => {
  assert.deepEqual(run("key").out, {
    isKey: true,
    a: ["recursive-locking"],
    classes: 1,
  });
});

test("a Condition of one copy waits with the other copy's Mutex", () => {
  assert.deepEqual(run("condition").out, { isMutex: true, a: [] });
});

test("under throw, one copy's DeadlockError is an error to the other copy's Mutex and to both classes", () => {
  assert.deepEqual(run("throws").out, {
    code: "ERR_WAITGRAPH_DEADLOCK",
    isA: true,
    isB: true,
    isWaitgraphError: true,
    xLocked: false,
    yLocked: false,
  });
});

test("a real hang across copies is reported once, at exit, with both locks", () => {
  const { status, out } = run("hang");
  assert.equal(status, 13, "Node still ends an unsettled top-level await");
  assert.deepEqual(out, { deadlocks: 1, classes: ["x", "y"] });
});
