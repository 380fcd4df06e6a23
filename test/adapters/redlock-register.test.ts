// `node --import waitgraph/register` with redlock: a program that makes its Redlocks itself
// (test/fixtures/register-redlock.mjs) and never names waitgraph, run in a child process against
// a real redis-server. redlock 4's CommonJS module, redlock 5's ES module and redlock 5's
// CommonJS build are each instrumented, and each ABBA is reported at its line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, it } from "node:test";
import { redisMissing, startRedis, type Redis } from "../helpers/redis.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const register = fileURLToPath(
  new URL("../../src/register.ts", import.meta.url),
);
const FIXTURE = "test/fixtures/register-redlock.mjs";
const skip = redisMissing();

let redis: Redis | undefined;
before(async () => {
  if (skip === undefined) redis = await startRedis();
});
after(() => redis?.stop());

/** `test/fixtures/register-redlock.mjs:<line>:` of the line carrying `marker`. */
function site(marker: string): string {
  const lines = readFileSync(
    new URL(`../../${FIXTURE}`, import.meta.url),
    "utf8",
  ).split("\n");
  const index = lines.findIndex((line) => line.includes(marker));
  assert.notEqual(index, -1, marker);
  return `${FIXTURE}:${index + 1}:`;
}

it(
  "tracks redlock 4 and 5 (ES module and CommonJS) as the program makes them, and reports each ABBA at its line",
  { skip },
  () => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      REDIS_URL: redis!.url,
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
      child.stderr.split("possible circular locking dependency detected")
        .length - 1;
    assert.equal(reports, 3, child.stderr);
    assert.ok(child.stderr.includes(site("ABBA v4")), child.stderr);
    // The ES module and the CommonJS build run the same line of the fixture.
    const v5 = child.stderr.split(site("ABBA v5")).length - 1;
    assert.ok(v5 >= 2, child.stderr);
    for (const cls of ["redlock v4:a", "redlock esm:a", "redlock cjs:a"])
      assert.ok(child.stderr.includes(`(${cls})`), cls);
  },
);
