// Running a test project (an example under examples/, or a fixture here) as a user would: a copy
// in a fresh temporary folder, its dependencies installed offline as `npm install` would lay them
// out, run in a child process with a clean environment.
//
// waitgraph is installed as a real folder, a copy of exactly the files `npm pack` ships, not as a
// symlink to this repository: Node resolves a package's own imports from its real path, so a
// symlinked waitgraph would import `vitest` from this repository (Vitest 3) whatever Vitest the
// project has, and a run under Vitest 4 would mix two Vitests. The copy resolves `vitest` from
// the project's node_modules, as a user's install does. Every other package (waitgraph's runtime
// dependencies and the project's devDependencies) is a symlink to this repository's install:
// those resolve their own imports from there, as they would from their hoisted place.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { ensureBuilt } from "../helpers/build.js";
import { readDocument } from "../../src/report/json.js";

export const root = fileURLToPath(new URL("../../", import.meta.url));

/** The Vitest majors the plugin supports, each installed in test/integrations/vitest-majors/. */
export const VITEST_MAJORS = [3, 4, 5] as const;
export type VitestMajor = (typeof VITEST_MAJORS)[number];

/** The folder of the Vitest of `major` that `npm install` put in this repository. */
export function vitestDir(major: VitestMajor): string {
  const require = createRequire(
    join(root, "test", "integrations", "vitest-majors", String(major), "_"),
  );
  return dirname(require.resolve("vitest/package.json"));
}

/** Vitest `major`'s version, and why it cannot run on this Node (undefined when it can). */
export function vitestOnThisNode(major: VitestMajor): {
  version: string;
  skip: string | undefined;
} {
  const manifest = JSON.parse(
    readFileSync(join(vitestDir(major), "package.json"), "utf8"),
  ) as { version: string; engines?: { node?: string } };
  const range = manifest.engines?.node ?? "*";
  const skip = semver.satisfies(process.versions.node, range)
    ? undefined
    : `Vitest ${manifest.version} needs Node ${range}; this is Node ${process.versions.node}`;
  return { version: manifest.version, skip };
}

let packed: string[] | undefined;

/** The files `npm pack` puts in waitgraph's tarball, relative to the repository. */
export function packedFiles(): string[] {
  if (packed !== undefined) return packed;
  const r = spawnSync(
    "npm",
    ["pack", "--dry-run", "--json", "--ignore-scripts"],
    { cwd: root, encoding: "utf8" },
  );
  assert.equal(r.status, 0, `npm pack --dry-run failed:\n${r.stderr}`);
  const [tarball] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  assert.ok(tarball, r.stdout);
  packed = tarball.files.map((f) => f.path);
  return packed;
}

/** `name` in this repository's node_modules (resolved from `from`, the repository by default). */
function installed(name: string, from = root): string {
  const require = createRequire(join(from, "_"));
  return dirname(require.resolve(`${name}/package.json`));
}

export interface ProjectOptions {
  /** The Vitest major to install as the project's `vitest` (default: this repository's). */
  vitest?: VitestMajor;
}

/** A copy of `source` (relative to the repository) in a temporary folder, ready to run. */
export function project(source: string, options: ProjectOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `waitgraph-${basename(source)}-`));
  cpSync(join(root, source), dir, {
    recursive: true,
    filter: (from) => !/[/\\](node_modules|\.waitgraph)$/.test(from),
  });
  const modules = join(dir, "node_modules");
  const own = join(modules, "waitgraph");
  for (const file of packedFiles()) {
    mkdirSync(dirname(join(own, file)), { recursive: true });
    cpSync(join(root, file), join(own, file));
  }
  const self = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const manifest = JSON.parse(
    readFileSync(join(dir, "package.json"), "utf8"),
  ) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const wanted = new Set([
    ...Object.keys(self.dependencies ?? {}),
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.devDependencies ?? {}),
  ]);
  wanted.delete("waitgraph");
  for (const name of wanted) {
    const target =
      name === "vitest" && options.vitest !== undefined
        ? vitestDir(options.vitest)
        : installed(name);
    const link = join(modules, name);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync(target, link, "dir");
  }
  return dir;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, one after the other. */
  output: string;
}

/**
 * `node <args>` in `cwd`. The environment is this one without what would change the child's
 * behaviour: this process is itself a node:test child (NODE_TEST_CONTEXT would make a nested
 * `node --test` speak the child protocol), and WAITGRAPH* / VITEST* settings of the outer run.
 */
export function node(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Run {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(base))
    if (/^(WAITGRAPH|VITEST|NODE_TEST_CONTEXT$|NODE_OPTIONS$)/.test(name))
      delete base[name];
  const r = spawnSync(process.execPath, args, {
    cwd,
    env: { ...base, NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.error !== undefined) throw r.error;
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    output: `${r.stdout}\n${r.stderr}`,
  };
}

export { ensureBuilt };

/**
 * The run's merged graph file (`.waitgraph/<runner>.json`) holds the graph of each of the three
 * example test files and both reports: the one-file recursive lock and the cross-file cycle.
 */
export function assertMergedGraph(
  dir: string,
  runner: string,
  ext: string,
): void {
  const document = readDocument(
    readFileSync(join(dir, ".waitgraph", `${runner}.json`), "utf8"),
  );
  assert.deepEqual(document.meta.merged?.map((m) => m.source).sort(), [
    `test/audit.test.${ext}`,
    `test/payments.test.${ext}`,
    `test/refunds.test.${ext}`,
  ]);
  assert.deepEqual(document.reports.map((r) => r.kind).sort(), [
    "circular-dependency",
    "recursive-locking",
  ]);
}

/**
 * The two cross-file cycles of the libraries fixture, each with the test file each dependency
 * came from: plain async-mutex Mutexes (a class per construction line) and async-lock keys.
 */
export function assertLibraryCycles(stderr: string): void {
  assert.match(
    stderr,
    /async-mutex@src\/mutexes\.js:8:\d+ -> async-mutex@src\/mutexes\.js:9:\d+: test\/mutex-payments\.test\.js\n\s+async-mutex@src\/mutexes\.js:9:\d+ -> async-mutex@src\/mutexes\.js:8:\d+: test\/mutex-refunds\.test\.js \(closes the cycle\)/,
  );
  assert.match(
    stderr,
    /async-lock@src\/keys\.js:5:\d+\[alice\] -> async-lock@src\/keys\.js:5:\d+\[bob\]: test\/lock-payments\.test\.js\n\s+async-lock@src\/keys\.js:5:\d+\[bob\] -> async-lock@src\/keys\.js:5:\d+\[alice\]: test\/lock-refunds\.test\.js \(closes the cycle\)/,
  );
}

/** Fixed, the libraries fixture's merged graph has one edge per library: alice before bob. */
export function assertLibraryEdges(dir: string, runner: string): void {
  const document = readDocument(
    readFileSync(join(dir, ".waitgraph", `${runner}.json`), "utf8"),
  );
  assert.deepEqual(document.reports, []);
  assert.deepEqual(
    document.snapshot.edges.map((e) => `${e.from} -> ${e.to}`).sort(),
    [
      "async-lock@src/keys.js:5:14[alice] -> async-lock@src/keys.js:5:14[bob]",
      "async-mutex@src/mutexes.js:8:22 -> async-mutex@src/mutexes.js:9:20",
    ],
  );
}
