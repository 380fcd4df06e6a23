// `npm run bench:service`: what a user feels when waitgraph stays on in a service. The same
// HTTP service (./server.ts: an async-mutex critical section, pooled reads and transactions on
// a pg.Pool against a real PostgreSQL) runs in three variants, each loaded by the same bounded
// client on 127.0.0.1:
//
//   plain     node --import tsx server.ts                                 (the baseline)
//   off       WAITGRAPH=off node --import waitgraph/register …            (installed, switched off)
//   tracking  node --import waitgraph/register …                          (every lock and pool checked)
//
// Method: a fresh server process per measurement; a warm-up load, then a fixed number of
// requests from a fixed number of connections (autocannon), every response's latency kept, so
// p50 and p99 are exact over the measured requests. Rounds run every variant, in reversed order
// on odd rounds, so drift on the shared machine hits all variants alike; the table gives the
// median over rounds (min..max) and ratios against `plain` from the same run. A variant whose
// server writes anything to stderr (a report, a warning) fails the run: the service is correct,
// so tracking it must be silent.
//
//   node --import tsx bench/service/run.ts [--rounds N] [--requests N] [--connections N]
//                                          [--pool N] [--no-write]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import pg from "pg";
import { startPostgres, type Postgres } from "../../test/helpers/postgres.js";
import { withSection } from "../sections.js";
import { median, range } from "../stats.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DOC = "docs/benchmarks.md";
const SERVER = resolve(root, "bench/service/server.ts");
const REGISTER = pathToFileURL(resolve(root, "dist/register.js")).href;
const PROBE = resolve(root, "bench/service/probe.ts");
const START_TIMEOUT_MS = 30_000;
/** The target of issue 10: tracking on costs at most 10% in throughput and in p99. */
const TARGET = 1.1;

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    requests: { type: "string", default: "20000" },
    connections: { type: "string", default: "32" },
    pool: { type: "string", default: "8" },
    "no-write": { type: "boolean", default: false },
  },
});

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(
      `Expected --${name} to be a positive integer, got ${value}`,
    );
  return n;
}

const rounds = positive("rounds", args.rounds);
const requests = positive("requests", args.requests);
const connections = positive("connections", args.connections);
const poolSize = positive("pool", args.pool);

interface Variant {
  key: string;
  label: string;
  argv: string[];
  env: Record<string, string>;
}

const variants: Variant[] = [
  {
    key: "plain",
    label: "no waitgraph",
    argv: ["--import", "tsx", SERVER],
    env: {},
  },
  {
    key: "off",
    label: "`--import waitgraph/register`, `WAITGRAPH=off`",
    argv: ["--import", REGISTER, "--import", "tsx", "--import", PROBE, SERVER],
    env: { WAITGRAPH: "off" },
  },
  {
    key: "on",
    label: "`--import waitgraph/register`, tracking on",
    argv: ["--import", REGISTER, "--import", "tsx", "--import", PROBE, SERVER],
    env: {},
  },
];

interface Sample {
  /** Completed requests per second over the measured load. */
  throughput: number;
  /** Acquisitions the tracker checked in the server's life, per request served. */
  checked: number | undefined;
  p50: number;
  p99: number;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function build(): void {
  const tsc = resolve(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error("bench:service: the build failed");
}

async function prepare(db: Postgres): Promise<void> {
  const client = new pg.Client(db.connection);
  await client.connect();
  await client.query(
    "CREATE TABLE account (id int PRIMARY KEY, balance int NOT NULL)",
  );
  await client.query(
    "INSERT INTO account SELECT g, 100 FROM generate_series(0, 999) g",
  );
  await client.end();
}

/** Starts the server of `variant`; resolves with its port and process. */
function startServer(
  variant: Variant,
  db: Postgres,
  probe: string,
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const { host, port, user, password, database } = db.connection;
  const env: Record<string, string | undefined> = {
    ...process.env,
    PGHOST: host,
    PGPORT: String(port),
    PGUSER: user,
    PGPASSWORD: password,
    PGDATABASE: database,
    POOL_SIZE: String(poolSize),
    WAITGRAPH_BENCH_PROBE: probe,
    ...variant.env,
  };
  if (variant.env["WAITGRAPH"] === undefined) delete env["WAITGRAPH"];
  delete env["NODE_OPTIONS"];
  const child = spawn(process.execPath, variant.argv, {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${variant.key}: no "listening" line\n${err}`));
    }, START_TIMEOUT_MS);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stderr: () => err });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${variant.key}: the server exited (${code})\n${err}`));
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** `amount` requests from `connections` connections; every latency in ms, wall time in s. */
async function load(
  port: number,
  amount: number,
): Promise<{ latencies: Float64Array; seconds: number }> {
  const latencies = new Float64Array(amount);
  let n = 0;
  let next = 0;
  let bad = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        amount,
        requests: [
          {
            method: "GET",
            setupRequest: (request) => ({
              ...request,
              path: `/?id=${next++ % 1000}`,
            }),
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on("response", (_client, statusCode, _bytes, ms) => {
      if (statusCode !== 200) bad++;
      if (n < amount) latencies[n++] = ms;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  if (bad > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(
      `load: ${bad} non-200 responses, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return { latencies: latencies.subarray(0, n), seconds };
}

function percentile(sorted: Float64Array, p: number): number {
  const at = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, at)]!;
}

interface Probe {
  enabled: boolean;
  acquisitions: number;
  classes: number;
}

async function measure(variant: Variant, db: Postgres): Promise<Sample> {
  const probe = join(tmpdir(), `waitgraph-bench-probe-${process.pid}.json`);
  rmSync(probe, { force: true });
  const server = await startServer(variant, db, probe);
  const warmup = Math.max(1000, Math.floor(requests / 5));
  let sample: Omit<Sample, "checked">;
  try {
    await load(server.port, warmup);
    const { latencies, seconds } = await load(server.port, requests);
    const sorted = latencies.slice().sort();
    sample = {
      throughput: latencies.length / seconds,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
    };
  } finally {
    await stopServer(server.child);
  }
  const err = server.stderr().trim();
  if (err !== "")
    throw new Error(`${variant.key}: the server wrote to stderr:\n${err}`);
  if (variant.key === "plain") return { ...sample, checked: undefined };
  // The waitgraph variants prove what they measured: `off` checked nothing, `on` checked at
  // least the async-mutex and the pool checkout of every request.
  const stats = JSON.parse(readFileSync(probe, "utf8")) as Probe;
  rmSync(probe, { force: true });
  const served = warmup + requests;
  const tracked = variant.key === "on";
  if (stats.enabled !== tracked || (tracked && stats.acquisitions < 2 * served))
    throw new Error(
      `${variant.key}: the tracker ${tracked ? "should" : "should not"} have checked every request (${JSON.stringify(stats)})`,
    );
  return { ...sample, checked: stats.acquisitions / served };
}

function fmt(values: number[], digits: number): string {
  const [lo, hi] = range(values);
  return `${median(values).toFixed(digits)} (${lo.toFixed(digits)}..${hi.toFixed(digits)})`;
}

function checked(s: Sample[]): string {
  const values = s.flatMap((x) => (x.checked === undefined ? [] : [x.checked]));
  return values.length === 0 ? "—" : median(values).toFixed(2);
}

function render(
  samples: Map<string, Sample[]>,
  machine: { node: string; cpu: string; cores: number; load: number[] },
  seconds: number,
): string {
  const base = samples.get("plain")!;
  const baseThroughput = median(base.map((s) => s.throughput));
  const baseP99 = median(base.map((s) => s.p99));
  const lines = [
    "## Service: an HTTP API on a pg pool and an async-mutex",
    "",
    "<!-- Generated by `npm run bench:service` (bench/service/run.ts). Do not edit. -->",
    "",
    `Generated by \`npm run bench:service\` on ${new Date().toISOString().slice(0, 10)}: Node ${machine.node},`,
    `${machine.cpu}, ${machine.cores} cores shared by the server, PostgreSQL and the load client; 1-min load`,
    `average ${machine.load.map((l) => l.toFixed(2)).join(" → ")}; ${seconds.toFixed(0)} s.`,
    "",
    "The service (`bench/service/server.ts`, unchanged in every variant) takes an async-mutex, reads",
    `through a \`pg.Pool\` of ${poolSize} against a real PostgreSQL and runs a transaction on a checked-out`,
    `client on every fourth request. Load: ${requests.toLocaleString("en-US")} requests over ${connections} connections from`,
    `127.0.0.1 after a warm-up, ${rounds} rounds, a fresh server each time; median over rounds (min..max).`,
    "Ratios are against `plain` in this run: throughput as plain ÷ variant, p99 as variant ÷ plain.",
    `Target for tracking on: ≤ ${TARGET.toFixed(2)}× on both.`,
    "",
    "| variant | requests/s | p50 ms | p99 ms | throughput ratio | p99 ratio | acquisitions checked per request |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const v of variants) {
    const s = samples.get(v.key)!;
    const tput = median(s.map((x) => x.throughput));
    const p99 = median(s.map((x) => x.p99));
    const tRatio = baseThroughput / tput;
    const pRatio = p99 / baseP99;
    const verdict = (r: number): string =>
      v.key === "on" ? ` ${r <= TARGET ? "(met)" : "(**missed**)"}` : "";
    lines.push(
      `| ${v.key}: ${v.label} | ${fmt(
        s.map((x) => x.throughput),
        0,
      )} | ${fmt(
        s.map((x) => x.p50),
        2,
      )} | ${fmt(
        s.map((x) => x.p99),
        2,
      )} | ${tRatio.toFixed(3)}×${verdict(tRatio)} | ${pRatio.toFixed(3)}×${verdict(pRatio)} | ${checked(s)} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0] ?? 0;
  build();
  const db = await startPostgres();
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.key, []]));
  try {
    await prepare(db);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const s = await measure(v, db);
        samples.get(v.key)!.push(s);
        log(
          `round ${round + 1}/${rounds} ${v.key}: ${s.throughput.toFixed(0)} req/s, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`,
        );
      }
    }
  } finally {
    await db.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const section = render(
    samples,
    {
      node: process.version,
      cpu: cpus()[0]?.model.trim() ?? "unknown",
      cores: cpus().length,
      load: [loadStart, loadavg()[0] ?? 0],
    },
    seconds,
  );
  process.stdout.write(`${section}\n`);
  if (!args["no-write"]) {
    const path = resolve(root, DOC);
    const old = existsSync(path) ? readFileSync(path, "utf8") : "";
    writeFileSync(path, withSection(old, "service", section));
    log(`bench:service: wrote the service section of ${DOC}`);
  }
}

await main();
