// `waitgraph/register` never breaks a library it instruments: every instrumented library, in
// each major version and module shape it ships, loaded by an unchanged program — `require`d
// (test/fixtures/shapes/run.cjs) and `import`ed (run.mjs) — through the real hook in a child
// process. Older majors are installed as npm aliases (`p-limit-3` is `npm:p-limit@^3`), which
// the hook recognises by their package.json name.
//
// For each case the program's output with the hook must equal its output without it, and the
// hook must report exactly the scenario's marked deadlock (and nothing at the look-alike next to
// it), with nothing else on stderr. A shape the hook does not know (generic-pool 2) runs as it
// does without the hook, with one warning that names it.
//
//   library        versions (shape)                                   reported at
//   p-limit        2, 3 (CJS: the module is pLimit); 4, 5, 6, 7 (ESM) NESTED p-limit (#91)
//   p-queue        6 (CJS exports.default); 7, 8, 9, 10 (ESM)         NESTED p-queue
//   async-mutex    0.3, 0.4, 0.5 (CJS lib/, ESM index.mjs)            ABBA mutex
//   async-lock     1.4, 1.5 (CJS: the module is AsyncLock)            ABBA async-lock
//   generic-pool   3 (CJS createPool)                                 NESTED generic-pool
//   tarn           3 (CJS exports.Pool)                               NESTED tarn
//   generic-pool   2 (CJS Pool, callbacks): not instrumented           — (one warning)
// pg and knex (which need a database) run through the hook in pg-register.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

interface Case {
  /** Scenario file under test/fixtures/shapes (without .cjs). */
  scenario: string;
  /** The installed package (an npm alias for an older major). */
  package: string;
  /** The scenario's marked line the one report points at; undefined: nothing is reported. */
  marker: string | undefined;
  banner?: string;
}

const RECURSIVE = "possible recursive locking detected";
const CIRCULAR = "possible circular locking dependency detected";

const cases: Case[] = [
  ...[
    "p-limit-2",
    "p-limit-3",
    "p-limit-4",
    "p-limit-5",
    "p-limit-6",
    "p-limit",
  ].map((pkg) => ({
    scenario: "p-limit",
    package: pkg,
    marker: "NESTED p-limit",
    banner: RECURSIVE,
  })),
  ...["p-queue-6", "p-queue-7", "p-queue-8", "p-queue", "p-queue-10"].map(
    (pkg) => ({
      scenario: "p-queue",
      package: pkg,
      marker: "NESTED p-queue",
      banner: RECURSIVE,
    }),
  ),
  ...["async-mutex-0.3", "async-mutex-0.4", "async-mutex"].map((pkg) => ({
    scenario: "async-mutex",
    package: pkg,
    marker: "ABBA mutex",
    banner: CIRCULAR,
  })),
  ...["async-lock-1.4", "async-lock"].map((pkg) => ({
    scenario: "async-lock",
    package: pkg,
    marker: "ABBA async-lock",
    banner: CIRCULAR,
  })),
  {
    scenario: "generic-pool",
    package: "generic-pool",
    marker: "NESTED generic-pool",
    banner: RECURSIVE,
  },
  {
    scenario: "tarn",
    package: "tarn",
    marker: "NESTED tarn",
    banner: RECURSIVE,
  },
  { scenario: "generic-pool", package: "generic-pool-2", marker: undefined },
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(program: string, c: Case, hooked: boolean): Run {
  const env: Record<string, string | undefined> = {
    ...process.env,
    WAITGRAPH: "log",
  };
  delete env["NODE_TEST_CONTEXT"];
  delete env["NODE_OPTIONS"];
  // As users run it: the built package, by its name (a self-reference from the repository).
  const args = hooked ? ["--import", "waitgraph/register"] : [];
  const child = spawnSync(
    process.execPath,
    [...args, `test/fixtures/shapes/${program}`, c.scenario, c.package],
    { cwd: root, env, encoding: "utf8", timeout: 60_000 },
  );
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

function installed(pkg: string): { version: string; node: number } {
  const json = JSON.parse(
    readFileSync(
      new URL(`../../node_modules/${pkg}/package.json`, import.meta.url),
      "utf8",
    ),
  ) as { version: string; engines?: { node?: string } };
  const node = /(\d+)/.exec(json.engines?.node ?? "0")?.[1] ?? "0";
  return { version: json.version, node: Number(node) };
}

/** `test/fixtures/shapes/<scenario>.cjs:<line>:` of the line carrying `marker`. */
function site(scenario: string, marker: string): string {
  const file = `test/fixtures/shapes/${scenario}.cjs`;
  const lines = readFileSync(
    new URL(`../../${file}`, import.meta.url),
    "utf8",
  ).split("\n");
  const index = lines.findIndex((line) => line.includes(marker));
  assert.notEqual(index, -1, `${marker} in ${file}`);
  return `${file}:${index + 1}:`;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

const major = Number(process.versions.node.split(".")[0]);

describe("waitgraph/register on every shape of every instrumented library", () => {
  before(() => ensureBuilt());
  for (const c of cases) {
    const { version, node } = installed(c.package);
    for (const program of ["run.cjs", "run.mjs"]) {
      const how = program === "run.cjs" ? "required" : "imported";
      const name = `${c.scenario}@${version} ${how}: ${
        c.marker === undefined
          ? "runs as without the hook, with one warning naming it"
          : `runs as without the hook and reports ${c.marker} only`
      }`;
      it(name, { skip: major < node ? `needs Node ${node}` : false }, () => {
        const plain = run(program, c, false);
        assert.equal(plain.status, 0, plain.stdout + plain.stderr);
        assert.equal(plain.stderr, "");
        const hooked = run(program, c, true);
        assert.equal(hooked.status, 0, hooked.stdout + hooked.stderr);
        assert.equal(hooked.stdout, plain.stdout, hooked.stderr);
        if (c.marker === undefined) {
          assert.equal(
            count(hooked.stderr, "WAITGRAPH_UNRECOGNISED_EXPORTS"),
            1,
            hooked.stderr,
          );
          assert.ok(
            hooked.stderr.includes(`${c.scenario}@${version} untouched`),
            hooked.stderr,
          );
          assert.equal(count(hooked.stderr, "WARNING:"), 0, hooked.stderr);
          return;
        }
        assert.equal(count(hooked.stderr, "WARNING:"), 1, hooked.stderr);
        assert.equal(count(hooked.stderr, c.banner!), 1, hooked.stderr);
        assert.ok(
          hooked.stderr.includes(site(c.scenario, c.marker)),
          hooked.stderr,
        );
        assert.doesNotMatch(hooked.stderr, /\(node:\d+\)|Warning/);
      });
    }
  }
});
