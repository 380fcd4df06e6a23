// `node --import waitgraph/register` with the pools: a program that imports pg, knex,
// generic-pool and tarn itself (test/fixtures/register-pools.mjs) and never names waitgraph, run
// in a child process against a real PostgreSQL. Each pool is tracked as it is made, its class
// the site that made it, and each nested checkout is reported at its line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, it } from "node:test";
import { startPostgres, type Postgres } from "../helpers/postgres.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const register = fileURLToPath(
  new URL("../../src/register.ts", import.meta.url),
);
const FIXTURE = "test/fixtures/register-pools.mjs";

let db: Postgres;
before(async () => {
  db = await startPostgres();
  process.stdout.write(
    `# PostgreSQL started in ${Math.round(db.startupMs)} ms\n`,
  );
});
after(() => db?.stop());

/** `test/fixtures/register-pools.mjs:<line>:` of the line carrying `marker`. */
function site(marker: string): string {
  const lines = readFileSync(
    new URL(`../../${FIXTURE}`, import.meta.url),
    "utf8",
  ).split("\n");
  const index = lines.findIndex((line) => line.includes(marker));
  assert.notEqual(index, -1, marker);
  return `${FIXTURE}:${index + 1}:`;
}

it("tracks pg, knex, generic-pool and tarn pools as the program makes them, and reports each nested checkout at its line", () => {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PGHOST: db.connection.host,
    PGPORT: String(db.connection.port),
    PGUSER: db.connection.user,
    PGPASSWORD: db.connection.password,
    PGDATABASE: db.connection.database,
    WAITGRAPH: "log",
  };
  delete env["NODE_TEST_CONTEXT"];
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "--import", register, FIXTURE],
    { cwd: root, env, encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /done/);
  const reports =
    child.stderr.split("possible recursive locking detected").length - 1;
  assert.equal(reports, 4, child.stderr);
  for (const marker of [
    "NESTED pg",
    "NESTED knex",
    "NESTED generic-pool",
    "NESTED tarn",
  ])
    assert.ok(
      child.stderr.includes(site(marker)),
      `${marker}:\n${child.stderr}`,
    );
  // The advisory keys of a pool register tracked: one circular dependency, at its line.
  assert.equal(
    child.stderr.split("possible circular locking dependency detected").length -
      1,
    1,
    child.stderr,
  );
  assert.ok(child.stderr.includes(site("ADVISORY pg")), child.stderr);
  assert.ok(child.stderr.includes("(pg advisory 1)"), child.stderr);
  // The knex pool's class is the user's knex() call, not tarn's construction inside knex.
  assert.ok(child.stderr.includes(`(knex@${site("// KNEX")}`), child.stderr);
  assert.doesNotMatch(child.stderr, /tarn@node_modules/);
});
