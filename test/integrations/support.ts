// Running a test project (an example under examples/, or a fixture here) as a user would: a copy
// in a fresh temporary folder, its dependencies "installed" offline as symlinks (waitgraph to
// this repository, as `file:../..` would; vitest to the one this repository has), run in a child
// process with a clean environment.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../helpers/build.js";
import { readDocument } from "../../src/report/json.js";

export const root = fileURLToPath(new URL("../../", import.meta.url));

/** Rebuilds dist/ when any file under src/ is newer than the oldest compiled file. */

/** A copy of `source` (relative to the repository) in a temporary folder, ready to run. */
export function project(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), `waitgraph-${basename(source)}-`));
  cpSync(join(root, source), dir, {
    recursive: true,
    filter: (from) => !/[/\\](node_modules|\.waitgraph)$/.test(from),
  });
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "waitgraph"), "dir");
  symlinkSync(
    join(root, "node_modules", "vitest"),
    join(dir, "node_modules", "vitest"),
    "dir",
  );
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
