// What the benchmarks measure, loaded lazily inside the child process (bench/child.ts runs with
// the repository root as its working directory):
//
//   untracked  <build dir>/untracked/<name>.mjs — a primitive bundled with the seam stubbed
//              out (bench/build.ts, bench/untracked/seam-stub.ts)
//   tracked    <build dir>/dist/ (src/ compiled as `npm run build` compiles it),
//              tracker.configure({ enabled: true })
//   off        the same, tracker.configure({ enabled: false }) — promise hooks removed
//   libraries  from node_modules, as users import them
//
// Each loader comes with a check that runs after the timed batches, so a table can never show
// a "tracked" number that tracked nothing, or an "untracked" one that had a tracker.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Waitgraph from "../src/index.js";

export type WaitgraphModule = typeof Waitgraph;

/**
 * Where bench/run.ts put this run's builds, relative to the repository root. Each run builds
 * into a directory of its own (two runs at once on a shared tree must not rebuild each other's
 * files), and passes it to its child processes in this variable.
 */
export const BUILD_DIR_VARIABLE = "BENCH_BUILD_DIR";

export function buildDir(): string {
  const dir = process.env[BUILD_DIR_VARIABLE];
  if (dir === undefined || dir === "")
    throw new Error(
      `${BUILD_DIR_VARIABLE} is not set: run benchmarks through bench/run.ts`,
    );
  return dir;
}

/** Imports a repository file (path relative to the repository root). */
export function importRepoFile<T>(path: string): Promise<T> {
  return import(pathToFileURL(resolve(process.cwd(), path)).href) as Promise<T>;
}

/** The untracked bundle of src/primitives/<name>.ts. */
export function untracked<T>(name: string): Promise<T> {
  return importRepoFile<T>(`${buildDir()}/untracked/${name}.mjs`);
}

const CORE_SLOT = Symbol.for("waitgraph.core/v1");

/** Proof that no waitgraph core (and so no promise hook) was ever created in this process. */
export function noTracker(): string | undefined {
  return (globalThis as Record<symbol, unknown>)[CORE_SLOT] === undefined
    ? undefined
    : "a waitgraph core exists in the untracked process";
}

/**
 * Large enough that a miss-path benchmark never runs out of a capacity within one batch (the
 * graph is reset between batches). Classes stop at 65,535: edge keys hold two 16-bit indexes.
 */
const BENCH_LIMITS = { classes: 0xffff, chains: 1 << 20, edges: 1 << 20 };

/** waitgraph as built by tsc, with tracking on or off. Reports are stored, never printed. */
export async function waitgraph(enabled: boolean): Promise<WaitgraphModule> {
  const wg = await importRepoFile<WaitgraphModule>(
    `${buildDir()}/dist/index.js`,
  );
  wg.tracker.configure({ enabled, policy: "silent", limits: BENCH_LIMITS });
  return wg;
}

/**
 * "hit": the chain cache answered (a few misses while warming up, none after); "miss": every
 * iteration of the last batch missed (the workload resets the tracker before each batch).
 */
export type ChainPath = "hit" | "miss";

/** Misses a hit-path workload may make in all: the first sight of each of its few chains. */
const WARM_UP_MISSES = 8;

/** Proof that tracking was on, with promise hooks (workloads that take no lock). */
export function on(wg: WaitgraphModule): () => string | undefined {
  return () => {
    const s = wg.tracker.stats();
    if (!s.enabled) return "tracking was off in the tracked variant";
    if (s.context !== "promise-hooks")
      return `tracked with ${s.context}, not promise hooks`;
    return undefined;
  };
}

/** Proof that the tracked variant tracked (and, where it matters, hit or missed the chain cache). */
export function tracked(
  wg: WaitgraphModule,
  path: ChainPath = "hit",
): (lastBatch: number) => string | undefined {
  const tracking = on(wg);
  return (lastBatch) => {
    const s = wg.tracker.stats();
    const reports = wg.tracker.reports();
    const problem = tracking();
    if (problem !== undefined) return problem;
    if (s.acquisitions === 0) return "the tracked variant made no acquisition";
    if (reports.length > 0)
      return `the workload made reports: ${reports.map((r) => r.kind).join(", ")}`;
    if (path === "hit" && s.chainMisses > WARM_UP_MISSES)
      return `${s.chainMisses} chain-cache misses on the hit path`;
    if (path === "miss" && s.chainMisses < lastBatch)
      return `${s.chainMisses} chain-cache misses in a batch of ${lastBatch} first-seen chains`;
    return undefined;
  };
}

/** Proof that the `enabled: false` variant tracked nothing. */
export function off(wg: WaitgraphModule): () => string | undefined {
  return () => {
    const s = wg.tracker.stats();
    if (s.enabled) return "tracking was on in the tracking-off variant";
    if (s.acquisitions !== 0)
      return `${s.acquisitions} acquisitions were validated with tracking off`;
    return undefined;
  };
}
