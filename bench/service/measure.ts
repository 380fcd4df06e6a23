// The service benchmark's measurement: what a user feels when waitgraph stays on in a service.
// The same HTTP service (./server.ts: an async-mutex critical section, pooled reads and
// transactions on a pg.Pool against a real PostgreSQL) runs in three variants, each loaded by
// the same bounded client on 127.0.0.1:
//
//   plain  node --import tsx server.ts                              (the baseline)
//   off    WAITGRAPH=off node --import <dist>/register.js …         (installed, switched off)
//   on     node --import <dist>/register.js …                       (every lock and pool checked)
//
// A fresh server process per measurement; a warm-up load, then a fixed number of requests from
// a fixed number of connections (autocannon), every response's latency kept, so p50 and p99 are
// exact over the measured requests. Rounds run every variant, in reversed order on odd rounds,
// so drift on the shared machine hits all variants alike. A variant whose server writes anything
// to stderr (a report, a warning) fails the run: the service is correct, so tracking it must be
// silent. bench/run.ts runs this after the micro-benchmarks, on the same build; bench/service/
// run.ts runs it alone.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import pg from "pg";
import { startPostgres, type Postgres } from "../../test/helpers/postgres.js";
import {
  SERVICE_VARIANTS,
  warmupOf,
  type ServiceParams,
  type ServiceResult,
  type ServiceSample,
  type ServiceVariant,
} from "./report.js";
import { percentile } from "../stats.js";

const START_TIMEOUT_MS = 30_000;

export interface MeasureOptions {
  /** The repository root: the server's working directory, where `tsx` and the libraries resolve. */
  root: string;
  /** A directory holding src/ compiled by tsc (register.js, index.js). */
  dist: string;
  params: ServiceParams;
  log: (line: string) => void;
}

interface Command {
  argv: string[];
  env: Record<string, string>;
}

function commandOf(
  key: ServiceVariant["key"],
  root: string,
  dist: string,
): Command {
  const server = resolve(root, "bench/service/server.ts");
  const register = pathToFileURL(resolve(dist, "register.js")).href;
  const probe = resolve(root, "bench/service/probe.ts");
  const tracked = ["--import", register, "--import", "tsx", "--import", probe];
  switch (key) {
    case "plain":
      return { argv: ["--import", "tsx", server], env: {} };
    case "off":
      return { argv: [...tracked, server], env: { WAITGRAPH: "off" } };
    case "on":
      return { argv: [...tracked, server], env: {} };
  }
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

interface Server {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

function startServer(
  key: string,
  command: Command,
  options: MeasureOptions,
  db: Postgres,
  probe: string,
): Promise<Server> {
  const { host, port, user, password, database } = db.connection;
  const env: Record<string, string | undefined> = {
    ...process.env,
    PGHOST: host,
    PGPORT: String(port),
    PGUSER: user,
    PGPASSWORD: password,
    PGDATABASE: database,
    POOL_SIZE: String(options.params.pool),
    WAITGRAPH_BENCH_PROBE: probe,
    WAITGRAPH_BENCH_DIST: pathToFileURL(resolve(options.dist, "index.js")).href,
  };
  // Only the variant's own settings: no WAITGRAPH* or NODE_OPTIONS from the caller's shell.
  for (const k of Object.keys(env))
    if (k === "NODE_OPTIONS" || /^WAITGRAPH(?!_BENCH_)/.test(k)) delete env[k];
  Object.assign(env, command.env);
  const child = spawn(process.execPath, command.argv, {
    cwd: options.root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${key}: no "listening" line\n${err}`));
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
      reject(new Error(`${key}: the server exited (${code})\n${err}`));
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

/**
 * `amount` requests from `connections` connections; every latency in ms, and the seconds from
 * the start to the last response. Not autocannon's own duration: it ends a run only on its next
 * one-second sample tick, so its wall time comes in whole seconds (20,000 requests in 8.1 s or
 * in 8.9 s both took "9 s"), a step of more than 10% at these rates.
 */
async function load(
  port: number,
  amount: number,
  connections: number,
): Promise<{ latencies: Float64Array; seconds: number }> {
  const latencies = new Float64Array(amount);
  let n = 0;
  let next = 0;
  let bad = 0;
  let last = 0;
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
      last = performance.now();
      if (statusCode !== 200) bad++;
      if (n < amount) latencies[n++] = ms;
    });
  });
  if (bad > 0 || result.errors > 0 || result.timeouts > 0 || n < amount)
    throw new Error(
      `load: ${n} of ${amount} responses, ${bad} non-200, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return { latencies, seconds: (last - started) / 1000 };
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (getconf CLK_TCK; 100 on Linux). */
let ticksPerSecond: number | undefined;

/**
 * The CPU seconds (user + system) process `pid` has used, from /proc; undefined where there is
 * no /proc (then the table shows no CPU column values). Read by the parent around the measured
 * load, so the server's start-up and warm-up are not in it.
 */
function cpuSeconds(pid: number | undefined): number | undefined {
  const stat = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(stat)) return undefined;
  ticksPerSecond ??=
    Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) ||
    100;
  // The command name (field 2) is in brackets and may hold spaces: count from after it.
  const text = readFileSync(stat, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** What ./probe.ts wrote: the fields of tracker.stats() the check reads. */
interface Probe {
  enabled: boolean;
  classes: number;
  edges: number;
  chains: number;
  acquisitions: number;
  chainHits: number;
  reports?: Record<string, number>;
}

/**
 * One unmeasured load on a plain server before the first round: a PostgreSQL that has just
 * started runs its first thousands of queries slower (cold caches, first plans), and the first
 * variant of round 1 would pay for it alone.
 */
async function warmPostgres(options: MeasureOptions, db: Postgres) {
  const probe = join(tmpdir(), `waitgraph-bench-probe-${process.pid}.json`);
  const command = commandOf("plain", options.root, options.dist);
  const server = await startServer("warm-up", command, options, db, probe);
  try {
    await load(server.port, options.params.warmup, options.params.connections);
  } finally {
    await stopServer(server.child);
  }
}

async function measureOne(
  key: ServiceVariant["key"],
  options: MeasureOptions,
  db: Postgres,
): Promise<ServiceSample> {
  const { requests, connections } = options.params;
  const probe = join(tmpdir(), `waitgraph-bench-probe-${process.pid}.json`);
  rmSync(probe, { force: true });
  const command = commandOf(key, options.root, options.dist);
  const server = await startServer(key, command, options, db, probe);
  const warmup = warmupOf(requests);
  let timed: Omit<ServiceSample, "checked">;
  try {
    await load(server.port, warmup, connections);
    const cpuBefore = cpuSeconds(server.child.pid);
    const { latencies, seconds } = await load(
      server.port,
      requests,
      connections,
    );
    const cpuAfter = cpuSeconds(server.child.pid);
    const sorted = latencies.slice().sort();
    timed = {
      throughput: latencies.length / seconds,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      cpu:
        cpuBefore === undefined || cpuAfter === undefined
          ? undefined
          : ((cpuAfter - cpuBefore) * 1e6) / requests,
    };
  } finally {
    await stopServer(server.child);
  }
  const err = server.stderr().trim();
  if (err !== "")
    throw new Error(`${key}: the server wrote to stderr:\n${err}`);
  if (key === "plain") return { ...timed, checked: undefined };
  // The waitgraph variants prove what they measured: `off` checked nothing, `on` checked at
  // least the async-mutex and the pool checkout of every request, and reported nothing.
  const stats = JSON.parse(readFileSync(probe, "utf8")) as Probe;
  rmSync(probe, { force: true });
  const served = warmup + requests;
  const tracked = key === "on";
  const reports = Object.values(stats.reports ?? {}).reduce((a, b) => a + b, 0);
  if (
    stats.enabled !== tracked ||
    (tracked && stats.acquisitions < 2 * served) ||
    (!tracked && stats.acquisitions !== 0) ||
    reports !== 0
  )
    throw new Error(
      `${key}: the tracker ${tracked ? "should" : "should not"} have checked every request, silently (${JSON.stringify(stats)})`,
    );
  const { classes, edges, chains, acquisitions, chainHits } = stats;
  return {
    ...timed,
    checked: acquisitions / served,
    ...(tracked
      ? { graph: { classes, edges, chains, acquisitions, chainHits } }
      : {}),
  };
}

/**
 * Starts a PostgreSQL, runs every round, stops it. Rejects on the first failure (a server that
 * wrote to stderr, a failed request, a probe that disagrees with its label): a partial table
 * would read as a measurement.
 */
export async function measureService(
  options: MeasureOptions,
): Promise<ServiceResult> {
  const { params, log } = options;
  const variants = SERVICE_VARIANTS.map((v) => ({
    ...v,
    samples: [] as ServiceSample[],
  }));
  const db = await startPostgres();
  try {
    await prepare(db);
    await warmPostgres(options, db);
    for (let round = 0; round < params.rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const s = await measureOne(v.key, options, db);
        v.samples[round] = s;
        log(
          `service ${v.key} #${round + 1}: ${s.throughput.toFixed(0)} req/s, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`,
        );
      }
    }
  } finally {
    await db.stop();
  }
  return { params, variants };
}
