// The two pool examples, run as a user runs them: `waitgraph run examples/<example>.ts`, each
// starting its own PostgreSQL. Each must report the starvation from a run that does not hang,
// then show `policy: 'throw'` refusing the same wait at the same line, and stop its server.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ensureBuilt } from "../integrations/support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
let scratch: string;

before(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), "waitgraph-pool-examples-"));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The 1-based line of `example` that carries `marker`. */
function lineOf(example: string, marker: string): number {
  const lines = readFileSync(join(root, example), "utf8").split("\n");
  const index = lines.findIndex((line) => line.includes(marker));
  assert.notEqual(index, -1, `${marker} in ${example}`);
  return index + 1;
}

function runExample(example: string) {
  const json = join(scratch, `${example.replaceAll("/", "_")}.json`);
  const env = { ...process.env };
  delete env["NODE_TEST_CONTEXT"];
  delete env["WAITGRAPH"];
  const child = spawnSync(
    process.execPath,
    ["bin/waitgraph.js", "run", example, "--json", json],
    { cwd: root, env, encoding: "utf8", timeout: 120_000 },
  );
  const doc = JSON.parse(readFileSync(json, "utf8")) as {
    reports: { kind: string; classes: string[] }[];
  };
  return { ...child, doc };
}

describe("the pool examples under waitgraph run", () => {
  it("pg-pool-starvation reports pool.query under a held client, then refuses it under 'throw'", () => {
    const example = "examples/pg-pool-starvation.ts";
    const run = runExample(example);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /order 1: widget at 60/);
    const query = lineOf(example, "await pool.query<");
    const connect = lineOf(example, "await pool.connect()");
    assert.match(run.stderr, /possible recursive locking detected/);
    assert.ok(
      run.stderr.includes(`(orders-db){+.+.}, at: ${example}:${query}:`),
      run.stderr,
    );
    assert.ok(
      run.stderr.includes(`(orders-db){+.+.}, at: ${example}:${connect}:`),
      run.stderr,
    );
    assert.ok(
      run.stdout.includes(
        `policy 'throw': ERR_WAITGRAPH_DEADLOCK (recursive-locking) at ${example}:${query}`,
      ),
      run.stdout,
    );
    assert.match(run.stderr, /waitgraph: 1 report: 1 recursive-locking/);
    assert.deepEqual(
      run.doc.reports.map((r) => [r.kind, r.classes]),
      [["recursive-locking", ["orders-db"]]],
    );
  });

  it("knex-nested-transaction reports the nested transaction, then refuses it under 'throw'", () => {
    const example = "examples/knex-nested-transaction.ts";
    const run = runExample(example);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /placed order 1/);
    assert.match(run.stdout, /orders: widget \(the refused one rolled back\)/);
    const nested = lineOf(example, "await knex.transaction(async (trx) =>");
    const outer = lineOf(example, "return knex.transaction(");
    assert.ok(
      run.stderr.includes(`(orders-db){+.+.}, at: ${example}:${nested}:`),
      run.stderr,
    );
    assert.ok(
      run.stderr.includes(`(orders-db){+.+.}, at: ${example}:${outer}:`),
      run.stderr,
    );
    assert.ok(
      run.stdout.includes(
        `policy 'throw': ERR_WAITGRAPH_DEADLOCK (recursive-locking) at ${example}:${nested}`,
      ),
      run.stdout,
    );
    assert.deepEqual(
      run.doc.reports.map((r) => [r.kind, r.classes]),
      [["recursive-locking", ["orders-db"]]],
    );
  });
});
