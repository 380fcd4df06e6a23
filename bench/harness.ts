// What a benchmark is. A suite file under bench/suites/ exports `suite: Suite` and
// `benches: Bench[]`; bench/run.ts finds every suite file, and a later workload plugs in by
// adding a file or a bench (STYLE.md habit 10: every benchmark has a baseline measured in the
// same run, and reports the ratio).
//
// One process measures one variant of one bench: `load()` runs in a fresh `node` process
// (bench/child.ts), imports what it measures, and returns the loop to time. Nothing is loaded
// in the parent, so one variant's module (and its promise hooks) can never slow another.

export interface Suite {
  /** Section heading in docs/benchmarks.md. */
  title: string;
  /** Sections are sorted by it. */
  order: number;
}

/** Runs `n` iterations of the workload and resolves when all are done. */
export type Loop = (n: number) => Promise<void>;

export interface Loaded {
  loop: Loop;
  /** Called before each timed batch, untimed (resetting a graph that would grow without bound). */
  beforeBatch?: () => void;
  /**
   * Called once after the last batch: proof that the variant measured what it claims (the
   * tracked build tracked, the untracked one had no tracker, no report was made). Returns an
   * error message, or undefined when all is well.
   */
  check?: (lastBatch: number) => string | undefined;
}

export interface Variant {
  /** Row label in docs/benchmarks.md. */
  label: string;
  load: () => Promise<Loaded>;
  /** What this variant needs that may not exist yet; see Bench.needs. */
  needs?: Needs;
  /**
   * Multiplies the bench's warm-up and batch size for this variant alone: a variant 10× slower
   * than its baseline gets fewer iterations, so a run stays short. Lower only for slow variants;
   * a baseline must keep the full warm-up (fewer iterations would flatter every ratio).
   */
  scale?: number;
}

export interface Needs {
  /** Repository files (e.g. src/primitives/completion.ts): missing → skipped with a note. */
  files?: string[];
  /** Untracked bundles (bench/build.ts names: "mutex", "completion" …) that must have built. */
  untracked?: string[];
}

export type Target =
  /** ratio of `variant` to the bench's baseline must be ≤ max */
  | { variant: string; max: number; source: string }
  /** `variant` must be faster (lower ns/op) than `than` */
  | { variant: string; below: string; source: string };

export interface Bench {
  /** Stable id, e.g. "mutex.uncontended" (`--filter` matches it). */
  id: string;
  title: string;
  /** One sentence: what one operation is. */
  op: string;
  /** Operations per loop iteration (a nested A-then-B iteration is 2 acquire/release pairs). */
  opsPerIteration?: number;
  /** Multiplies warm-up and batch size for workloads much slower than one lock pair. */
  scale?: number;
  /** The variant key the ratios are against. */
  baseline: string;
  variants: Record<string, Variant>;
  targets?: Target[];
  /** Needed by every variant. */
  needs?: Needs;
  /** Extra lines computed from the measured medians (ns/op by variant key). */
  derive?: (median: Record<string, number>) => string[];
  /** Printed under the table. */
  notes?: string[];
}
