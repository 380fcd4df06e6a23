// docs/benchmarks.md as a pure function of what bench/run.ts measured: no number in the doc is
// typed by hand, and a target is judged here, from the ratio of medians measured in one run.
// The service benchmark's section and Targets rows come from bench/service/report.ts.
import type { Bench, Suite, Target } from "./harness.js";
import {
  renderService,
  serviceTargets,
  type ServiceOutcome,
} from "./service/report.js";
import { median, range } from "./stats.js";

export interface VariantResult {
  key: string;
  label: string;
  /** Iterations each process ran: warm-up, then batches of batchSize. */
  warmup?: number;
  batchSize?: number;
  /** Process medians in ns/op, indexed by round. */
  medians: number[];
  skipped?: string;
  failed?: string;
}

export interface BenchResult {
  suite: Suite;
  bench: Bench;
  skipped?: string;
  variants: VariantResult[];
}

export interface Machine {
  node: string;
  v8: string;
  cpu: string;
  cores: number;
  os: string;
  date: string;
  /** 1-minute load average before and after the run (the cores are shared). */
  load: [number, number];
  seconds: number;
}

export interface Params {
  processes: number;
  batches: number;
  batchSize: number;
  warmup: number;
}

interface Verdict {
  bench: Bench;
  target: Target;
  text: string;
  measured: string;
  pass: boolean | undefined;
}

function values(v: VariantResult): number[] {
  return v.medians.filter((x) => Number.isFinite(x));
}

function ns(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (x >= 10_000) return Math.round(x).toLocaleString("en-US");
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function ratioOf(v: VariantResult, base: VariantResult): number {
  return median(values(v)) / median(values(base));
}

/** The ratio in each round where both ran: the spread of "× baseline" within the run. */
function roundRatios(v: VariantResult, base: VariantResult): number[] {
  const out: number[] = [];
  v.medians.forEach((x, round) => {
    const b = base.medians[round];
    if (Number.isFinite(x) && b !== undefined && Number.isFinite(b))
      out.push(x / b);
  });
  return out;
}

function usable(v: VariantResult | undefined): v is VariantResult {
  return (
    v !== undefined &&
    v.skipped === undefined &&
    v.failed === undefined &&
    values(v).length > 0
  );
}

function judge(result: BenchResult, target: Target): Verdict {
  const { bench } = result;
  const find = (key: string) => result.variants.find((v) => v.key === key);
  const v = find(target.variant);
  const base = find(bench.baseline);
  const label = v?.label ?? target.variant;
  if ("max" in target) {
    const text = `${label}: ≤ ${times(target.max)} ${base?.label ?? bench.baseline}`;
    if (!usable(v) || !usable(base))
      return { bench, target, text, measured: "not measured", pass: undefined };
    const r = ratioOf(v, base);
    return {
      bench,
      target,
      text,
      measured: `${r.toFixed(2)}×`,
      pass: r <= target.max,
    };
  }
  const other = find(target.below);
  const text = `${label}: faster than ${other?.label ?? target.below}`;
  if (!usable(v) || !usable(other))
    return { bench, target, text, measured: "not measured", pass: undefined };
  const a = median(values(v));
  const b = median(values(other));
  return {
    bench,
    target,
    text,
    measured: `${ns(a)} vs ${ns(b)} ns/op`,
    pass: a < b,
  };
}

/** A target's bound as written (1.05×, not 1.1×). */
function times(max: number): string {
  return `${String(max)}×`;
}

function verdictWord(pass: boolean | undefined): string {
  return pass === undefined ? "NOT RUN" : pass ? "PASS" : "MISS";
}

function shortTarget(t: Target, result: BenchResult): string {
  if ("max" in t) return `≤ ${times(t.max)}`;
  const other = result.variants.find((v) => v.key === t.below);
  return `< ${other?.label ?? t.below}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function benchSection(
  result: BenchResult,
  verdicts: Verdict[],
  params: Params,
): string[] {
  const { bench } = result;
  const out = [
    `### ${bench.title}`,
    "",
    `\`${bench.id}\` — one op: ${bench.op}.`,
    "",
  ];
  if (result.skipped !== undefined) {
    out.push(`**Skipped:** ${result.skipped}.`, "");
    return out;
  }
  const base = result.variants.find((v) => v.key === bench.baseline);
  out.push(
    "| variant | ns/op | min..max | × baseline (per-round range) | target |",
    "|---|---:|---:|---:|---|",
  );
  for (const v of result.variants) {
    const isBase = v.key === bench.baseline;
    const label = isBase ? `${v.label} (baseline)` : v.label;
    if (v.skipped !== undefined) {
      out.push(`| ${label} | skipped: ${v.skipped} | | | |`);
      continue;
    }
    if (v.failed !== undefined) {
      out.push(
        `| ${label} | failed: ${v.failed.replace(/\|/g, "\\|")} | | | |`,
      );
      continue;
    }
    const xs = values(v);
    const [lo, hi] = range(xs);
    let ratio = "—";
    if (usable(base) && usable(v)) {
      const rr = roundRatios(v, base);
      const [rlo, rhi] = range(rr);
      ratio = isBase
        ? "1.00"
        : `${ratioOf(v, base).toFixed(2)} (${rlo.toFixed(2)}..${rhi.toFixed(2)})`;
    }
    const targets = verdicts
      .filter((t) => t.bench === bench && t.target.variant === v.key)
      .map((t) => `${shortTarget(t.target, result)} **${verdictWord(t.pass)}**`)
      .join("; ");
    out.push(
      `| ${label} | ${ns(median(xs))} | ${ns(lo)}..${ns(hi)} | ${ratio} | ${targets || "—"} |`,
    );
  }
  out.push("");
  if (bench.derive !== undefined) {
    const medians: Record<string, number> = {};
    for (const v of result.variants)
      if (usable(v)) medians[v.key] = median(values(v));
    for (const line of bench.derive(medians)) out.push(line, "");
  }
  for (const note of bench.notes ?? []) out.push(note, "");
  const scaled = result.variants.filter(
    (v) =>
      v.batchSize !== undefined &&
      v.warmup !== undefined &&
      (v.batchSize !== params.batchSize || v.warmup !== params.warmup),
  );
  const iterations = (v: VariantResult) =>
    `${count(v.warmup!)} warm-up, batches of ${count(v.batchSize!)}`;
  const measured = result.variants.filter((v) => v.batchSize !== undefined);
  if (
    scaled.length > 0 &&
    scaled.length === measured.length &&
    new Set(scaled.map(iterations)).size === 1
  )
    out.push(`Fewer iterations per process: ${iterations(scaled[0]!)}.`, "");
  else if (scaled.length > 0)
    out.push(
      `Fewer iterations per process: ${scaled
        .map((v) => `${v.label}: ${iterations(v)}`)
        .join("; ")}.`,
      "",
    );
  return out;
}

export function renderMarkdown(
  results: BenchResult[],
  machine: Machine,
  params: Params,
  service: ServiceOutcome,
): string {
  const verdicts: Verdict[] = [];
  for (const r of results)
    for (const t of r.bench.targets ?? [])
      if (r.skipped === undefined) verdicts.push(judge(r, t));
  const skippedTargets = results
    .filter((r) => r.skipped !== undefined)
    .flatMap((r) => (r.bench.targets ?? []).map((t) => ({ r, t })));

  const out: string[] = [
    "# Benchmarks",
    "",
    "<!-- Generated by `npm run bench` (bench/run.ts). Do not edit: every number below was measured in one run. -->",
    "",
    `Generated by \`npm run bench\` on ${machine.date}. Every number on this page was measured in one`,
    "run of the harness in `bench/`; ratios compare variants measured in that same run.",
    "",
    "## Machine",
    "",
    "| | |",
    "|---|---|",
    `| Node | ${machine.node} (V8 ${machine.v8}) |`,
    `| CPU | ${machine.cpu}, ${machine.cores} cores |`,
    `| OS | ${machine.os} |`,
    `| date | ${machine.date} |`,
    `| 1-min load average, start / end | ${machine.load[0].toFixed(2)} / ${machine.load[1].toFixed(2)} (cores shared with other work) |`,
    `| run time | ${machine.seconds.toFixed(0)} s |`,
    "",
    "## Method",
    "",
    "The method of `reference/async-context.md` §1:",
    "",
    `* Every sample is a fresh \`node\` process: ${params.warmup.toLocaleString("en-US")} warm-up iterations, then ${params.batches} batches of ${params.batchSize.toLocaleString("en-US")} iterations; the process reports its median batch in ns per operation. Workloads and variants that take microseconds per operation run fewer iterations (their \`scale\`); their tables say so.`,
    `* ${params.processes} processes per variant, run one at a time. The variants of a workload run in rounds, in declared order on even rounds and reversed on odd ones.`,
    "* A table gives the **median of the process medians** and their min..max. `× baseline` is the ratio of that median to the baseline's, both measured in this run; in brackets, the range of the ratio within single rounds.",
    "* A target is judged on the ratio of medians: PASS or MISS. Nothing is tuned after the fact.",
    "* Each process checks afterwards that it measured what its label says: the tracked variants tracked (promise hooks on, acquisitions validated, the chain cache hit — or missed, on the miss path — and no report was made); the untracked ones had no waitgraph core in the process; `enabled: false` validated nothing. A process that fails its check is shown as failed, not as a number.",
    "",
    "What is compared:",
    "",
    "* **untracked build** — the honest baseline. `bench/build.ts` bundles `src/primitives/<name>.ts` with esbuild and resolves its imports of `src/core/seam.ts` to `bench/untracked/seam-stub.ts`: `tracking.on` is a frozen `false` and every seam function is a no-op (`runHolding` still runs its callback). It is the same lock code as the tracked build without the tracker; the build fails if any tracker file of `src/core` reaches the bundle.",
    "* **tracking on** / **`enabled: false`** — `src/` compiled by tsc with the package's build config (`tsconfig.build.json`, as `npm run build` does, into the run's own build directory), after `tracker.configure({ enabled: true | false })` (`false` removes the promise hooks). Adapters are the same build of `src/adapters/`.",
    "* **async-mutex 0.5.0** and other libraries — from `node_modules`, unwrapped, imported as an ES module imports them (for async-mutex that is its `index.mjs`); where async-mutex is a target, its CommonJS build (`lib/`, faster once warm) is measured too.",
    "* **design floor** — `bench/floor/minimal-tracker.ts`, the smallest tracker of waitgraph's design (promise hooks carry held lists, the acquire promise is tagged so only its continuation holds the lock, a chain lookup per acquisition) around a mini mutex, tracked and untracked: what the design itself costs on this machine, read against its own untracked mutex.",
    "",
    "The service benchmark (its own section below, with its method) runs after the micro-benchmarks in the same run, on the same build.",
    "",
    "Reproduce with `npm run bench` (about six minutes on 2 cores, two and a half of them the service benchmark); `npm run bench -- --quick` is a smoke run that leaves this file alone. Parameters: `--processes`, `--batches`, `--batch-size`, `--warmup`, `--filter <id>` (the service benchmark's id is `service`), `--no-service`, `--service-rounds`, `--service-requests`; `npm run bench:service` runs the service benchmark alone and prints it.",
    "",
    "## Targets",
    "",
    "| workload | target | measured | verdict | from |",
    "|---|---|---:|---|---|",
  ];
  for (const v of verdicts)
    out.push(
      `| ${v.bench.title} | ${v.text} | ${v.measured} | **${verdictWord(v.pass)}** | ${v.target.source} |`,
    );
  for (const { r, t } of skippedTargets)
    out.push(
      `| ${r.bench.title} | ${t.variant}: ${"max" in t ? `≤ ${t.max.toFixed(1)}×` : `< ${t.below}`} | skipped | **NOT RUN** | ${t.source} |`,
    );
  for (const t of serviceTargets(service))
    out.push(
      `| ${t.workload} | ${t.target} | ${t.measured} | **${verdictWord(t.pass)}** | ${t.source} |`,
    );
  out.push("", ...renderService(service));
  let section: Suite | undefined;
  for (const r of results) {
    if (r.suite !== section) {
      section = r.suite;
      out.push(`## ${section.title}`, "");
    }
    out.push(...benchSection(r, verdicts, params));
  }
  return out.join("\n").replace(/\n+$/, "\n");
}
