// The service benchmark's part of docs/benchmarks.md (bench/service/report.ts) from fixed
// samples: which ratio is judged, which way round, and what a page says when the service did
// not run. No timing: the numbers are made up, the verdicts follow from them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderMarkdown, type Machine } from "../../bench/report.js";
import {
  renderService,
  SERVICE_VARIANTS,
  serviceRatio,
  serviceTargets,
  type ServiceResult,
  type ServiceSample,
} from "../../bench/service/report.js";
import { percentile } from "../../bench/stats.js";

const params = {
  rounds: 3,
  requests: 20_000,
  warmup: 4_000,
  connections: 32,
  pool: 8,
};

function sample(
  throughput: number,
  p99: number,
  checked?: number,
): ServiceSample {
  return { throughput, p50: p99 / 3, p99, cpu: 1e6 / throughput, checked };
}

/** plain, off and on over three rounds; `on` costs `cost` in both metrics, round by round. */
function result(cost: number): ServiceResult {
  const plain = [1000, 1200, 1100].map((t) => sample(t, 30));
  return {
    params,
    variants: SERVICE_VARIANTS.map((v) => ({
      ...v,
      samples:
        v.key === "plain"
          ? plain
          : plain.map((s) =>
              v.key === "off"
                ? { ...s, checked: 0 }
                : {
                    ...sample(s.throughput / cost, s.p99 * cost, 2.25),
                    graph: {
                      classes: 2,
                      edges: 0,
                      chains: 2,
                      acquisitions: 4500,
                      chainHits: 4498,
                    },
                  },
            ),
    })),
  };
}

test("the throughput ratio is plain ÷ variant and the p99 ratio variant ÷ plain: above 1 is a cost", () => {
  const r = result(1.25);
  assert.equal(serviceRatio(r, "on", "throughput").toFixed(3), "1.250");
  assert.equal(serviceRatio(r, "on", "p99").toFixed(3), "1.250");
  assert.equal(serviceRatio(r, "off", "throughput"), 1);
});

test("ratios are of the medians over rounds, not of one round", () => {
  const r = result(1);
  const on = r.variants.find((v) => v.key === "on")!;
  // One slow round of the tracked variant moves neither median.
  on.samples[0] = sample(500, 90, 2.25);
  assert.equal(serviceRatio(r, "on", "throughput"), 1);
  assert.equal(serviceRatio(r, "on", "p99"), 1);
});

test("tracking on within 1.10× passes both targets; above it misses both", () => {
  assert.deepEqual(
    serviceTargets({ result: result(1.05) }).map((t) => t.pass),
    [true, true],
  );
  assert.deepEqual(
    serviceTargets({ result: result(1.2) }).map((t) => t.pass),
    [false, false],
  );
  assert.deepEqual(
    serviceTargets({ result: result(1.1) }).map((t) => t.pass),
    [true, true],
    "the target is ≤ 1.10, inclusive",
  );
});

test("a service that was skipped or failed leaves its targets NOT RUN, never a number", () => {
  for (const outcome of [
    { skipped: "--no-service" },
    { failed: "on: the server wrote to stderr:" },
  ]) {
    assert.deepEqual(
      serviceTargets(outcome).map((t) => t.pass),
      [undefined, undefined],
    );
    const text = renderService(outcome).join("\n");
    assert.doesNotMatch(text, /\| variant \|/);
  }
  assert.match(
    renderService({ skipped: "`--no-service`" }).join("\n"),
    /\*\*Not run:\*\* `--no-service`\./,
  );
  assert.match(
    renderService({ failed: "a | b" }).join("\n"),
    /\*\*Failed:\*\* a \\\| b/,
  );
});

test("the service table has a row per variant with its ratios, verdicts and acquisitions per request", () => {
  const lines = renderService({ result: result(1.2) });
  const row = (key: string) => lines.find((l) => l.startsWith(`| ${key}: `))!;
  assert.match(row("plain"), /\| 1100 \(1000\.\.1200\) \|/);
  assert.match(row("plain"), /\(baseline\)/);
  assert.match(
    row("on"),
    /\| 1\.200 \(1\.20\.\.1\.20\) \| 1\.200 \(1\.20\.\.1\.20\) \|/,
  );
  assert.match(
    row("on"),
    /requests\/s ≤ 1\.10 \*\*MISS\*\*; p99 ≤ 1\.10 \*\*MISS\*\*/,
  );
  assert.match(row("on"), /\| 2\.25 \|$/);
  assert.match(row("off"), /\| 0\.00 \|$/);
  assert.match(row("plain"), /\| — \|$/);
  assert.match(lines.join("\n"), /3 rounds\./);
});

test("the page says what the tracked servers' trackers saw, and that a service without nested locks validated no dependency", () => {
  const r = result(1.05);
  const text = () => renderService({ result: r }).join("\n");
  assert.match(
    text(),
    /held 2 lock classes, 0 dependencies and\n2 chains; all but 2 of its 4,500 acquisitions hit the chain cache\./,
  );
  assert.match(text(), /no dependency was ever validated/);
  const on = r.variants.find((v) => v.key === "on")!;
  on.samples = on.samples.map((s, i) => ({
    ...s,
    graph: { ...s.graph!, classes: 3, edges: i === 0 ? 1 : 2 },
  }));
  assert.match(text(), /held 3 lock classes, 1\.\.2 dependencies/);
  assert.doesNotMatch(text(), /no dependency was ever validated/);
});

test("server CPU per request is the median over rounds, with its ratio to plain; without /proc it is a dash", () => {
  const row = (r: ServiceResult, key: string) =>
    renderService({ result: r }).find((l) => l.startsWith(`| ${key}: `))!;
  const r = result(1.2);
  assert.match(row(r, "plain"), /\| 909 \(833\.\.1000\), 1\.00× \|/);
  assert.match(row(r, "on"), /\| 1091 \(1000\.\.1200\), 1\.20× \|/);
  for (const v of r.variants)
    v.samples = v.samples.map((s) => ({ ...s, cpu: undefined }));
  assert.match(row(r, "on"), /\| — \| 2\.25 \|$/);
});

test("the page of a run carries the service section and its rows in the Targets table", () => {
  const machine: Machine = {
    node: "v22.0.0",
    v8: "12",
    cpu: "a CPU",
    cores: 2,
    os: "linux x64",
    date: "2026-01-01",
    load: [0.5, 1.5],
    seconds: 400,
  };
  const page = renderMarkdown(
    [],
    machine,
    { processes: 7, batches: 5, batchSize: 100_000, warmup: 50_000 },
    { result: result(1.05) },
  );
  const targets = page.slice(
    page.indexOf("## Targets"),
    page.indexOf("## Service"),
  );
  assert.match(
    targets,
    /tracking on: plain ÷ tracked requests\/s ≤ 1\.10 \| 1\.050× \| \*\*PASS\*\* \| issue 10 \|/,
  );
  assert.match(
    targets,
    /tracking on: tracked ÷ plain p99 ≤ 1\.10 \| 1\.050× \| \*\*PASS\*\* \| issue 10 \|/,
  );
  assert.equal(
    page.match(/^## Machine$/gm)?.length,
    1,
    "one machine block for the whole page",
  );
  assert.equal(
    page.match(/2026-01-01/g)?.length,
    2,
    "the run's date, in the header and the machine block only",
  );
});

test("percentile is nearest-rank: p99 of 1..100 is 99, p50 is 50, one value is every percentile", () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 0.99), 99);
  assert.equal(percentile(xs, 0.5), 50);
  assert.equal(percentile(xs, 1), 100);
  assert.equal(percentile([7], 0.99), 7);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});
