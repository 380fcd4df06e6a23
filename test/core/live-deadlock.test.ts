// Deadlocks that really happen, in child processes (a hang ends a process): reported at exit
// or by the watchdog, broken under `throw`; and look-alikes that must not be reported.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../helpers/build.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const abba = "test/fixtures/live/mutex-abba.mjs";
const scenarios = "test/fixtures/live/scenarios.mjs";
const scratch = mkdtempSync(join(tmpdir(), "waitgraph-live-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
ensureBuilt();

function run(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base["WAITGRAPH"];
  delete base["NODE_TEST_CONTEXT"];
  delete base["NODE_OPTIONS"];
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...base, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.error !== undefined) throw r.error;
  return r;
}

function lineOf(file: string, text: string): number {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  assert.equal(hits.length, 1, `expected one line of ${file} with ${text}`);
  return hits[0]!;
}

test("an own-Mutex ABBA that really hangs is reported at exit, with both locks and both flows' sites", () => {
  const r = run([abba], { VALIDATE: "0" });
  assert.equal(r.status, 13, "Node still ends an unsettled top-level await");
  assert.match(r.stderr, /WARNING: deadlock: 2 flows wait for each other/);
  assert.match(r.stderr, /the event loop drained/);
  assert.match(r.stderr, /flow 1 holds A, waits for B/);
  assert.match(r.stderr, /flow 2 holds B, waits for A/);
  // Where each flow waits, and where it took what it holds.
  for (const text of [
    "first waits for b",
    "second waits for a",
    "first takes a",
    "second takes b",
  ])
    assert.match(
      r.stderr,
      new RegExp(`mutex-abba\\.mjs:${lineOf(abba, text)}:`),
    );
});

test("waitgraph run --json holds the deadlock report the child made at its exit", () => {
  const json = join(scratch, "abba.json");
  const r = run(["bin/waitgraph.js", "run", abba, "--json", json], {
    VALIDATE: "0",
  });
  assert.notEqual(r.status, 0);
  const doc = JSON.parse(readFileSync(json, "utf8")) as {
    reports: {
      kind: string;
      found?: string;
      flows?: { holds: { name: string }[]; waitsFor: { name: string } }[];
    }[];
  };
  const dl = doc.reports.find((x) => x.kind === "deadlock");
  assert.ok(dl, `no deadlock report in ${doc.reports.map((x) => x.kind)}`);
  assert.equal(dl.found, "exit");
  assert.deepEqual(
    dl.flows!.map((f) => [f.holds.map((h) => h.name), f.waitsFor.name]),
    [
      [["A"], "B"],
      [["B"], "A"],
    ],
  );
});

test("a real async-mutex ABBA under waitgraph/register is reported at exit", () => {
  const r = run([
    "--import",
    "waitgraph/register",
    "test/fixtures/live/async-mutex-abba.mjs",
  ]);
  assert.match(r.stderr, /WARNING: deadlock: 2 flows wait for each other/);
  const file = "test/fixtures/live/async-mutex-abba.mjs";
  for (const text of ["first waits for b", "second waits for a"])
    assert.match(
      r.stderr,
      new RegExp(`async-mutex-abba\\.mjs:${lineOf(file, text)}:`),
    );
  assert.doesNotMatch(r.stdout, /never printed/);
});

test("a Semaphore of two, each flow holding one permit and waiting for a second, is a deadlock of both flows", () => {
  const r = run([scenarios], { SCENARIO: "semaphore-exhausted" });
  assert.match(r.stderr, /WARNING: deadlock: 2 flows wait for each other/);
  assert.match(r.stderr, /pool is held by flow 1, flow 2/);
  assert.doesNotMatch(r.stdout, /RESULTS/);
});

test("the watchdog reports a deadlock in a process that never drains, after deadlockTimeout", () => {
  const r = run([abba], { VALIDATE: "0", KEEPALIVE: "1" });
  assert.equal(r.status, 0);
  const after = Number(/DEADLOCK_AFTER (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(
    after >= 1000,
    `reported after ${after} ms, before deadlockTimeout`,
  );
  assert.ok(after < 10_000, `reported after ${after} ms`);
  assert.match(r.stdout, /blocked longer than deadlockTimeout/);
});

test("under throw one waiter of the cycle rejects with DeadlockError and the program completes", () => {
  const r = run([abba], { VALIDATE: "0", POLICY: "throw" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /RESULTS \["first done","ERR_WAITGRAPH_DEADLOCK"\]/);
  assert.match(r.stderr, /broken: flow 2's wait was rejected/);
});

for (const [scenario, results] of [
  ["slow-holder", '"finished"'],
  ["timeout-wait", '["ERR_WAITGRAPH_TIMEOUT","second done"]'],
  ["healthy-contention", "[0,1,2,3,4,5]"],
] as const)
  test(`${scenario} is no deadlock: it completes and reports nothing`, () => {
    const r = run([scenarios], { SCENARIO: scenario });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`RESULTS ${results.replace(/[[\]]/g, "\\$&")}`),
    );
    assert.match(r.stdout, /KINDS \[\]/);
  });

test("a real pg.Pool of two, exhausted by nested pool.query against PostgreSQL, is found by the watchdog", () => {
  const r = run(["--import", "tsx", "test/fixtures/live/pg-pool-hang.ts"]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const after = Number(/DEADLOCK_AFTER (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(after >= 1000 && after < 10_000, `reported after ${after} ms`);
  assert.match(r.stdout, /WARNING: deadlock: 2 flows wait for each other/);
  assert.match(r.stdout, /orders-db is held by flow 1, flow 2/);
  const file = "test/fixtures/live/pg-pool-hang.ts";
  assert.match(
    r.stdout,
    new RegExp(`pg-pool-hang\\.ts:${lineOf(file, "holding client, waiting")}:`),
  );
});

test("a knex pool of one, with a query outside the transaction inside it, is found by the watchdog long before knex's own timeout", () => {
  const r = run(["--import", "tsx", "test/fixtures/live/knex-pool-hang.ts"]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const after = Number(/DEADLOCK_AFTER (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(after >= 1000 && after < 10_000, `reported after ${after} ms`);
  assert.match(r.stdout, /WARNING: deadlock/);
  assert.match(r.stdout, /app-db/);
  const file = "test/fixtures/live/knex-pool-hang.ts";
  assert.match(
    r.stdout,
    new RegExp(
      `knex-pool-hang\\.ts:${lineOf(file, "outside the transaction")}:`,
    ),
  );
});
