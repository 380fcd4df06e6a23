// `npm run bench:service`: the service benchmark alone (bench/service/measure.ts), printed to
// stdout. It leaves docs/benchmarks.md alone: the page is always one whole run, and
// `npm run bench` measures this same benchmark after the micro-benchmarks and writes both.
//
//   node --import tsx bench/service/run.ts [--rounds N] [--requests N] [--connections N]
//                                          [--pool N]
import { rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compileDist } from "../build.js";
import { measureService } from "./measure.js";
import {
  renderService,
  SERVICE_DEFAULTS,
  warmupOf,
  type ServiceParams,
} from "./report.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** This run's own build of src/, as bench/run.ts keeps one (removed when the run ends). */
const BUILD = `node_modules/.cache/waitgraph-bench/service-${process.pid}`;

function positive(name: string, value: string | undefined, fallback: number) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(
      `Expected --${name} to be a positive integer, got ${value}`,
    );
  return n;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      rounds: { type: "string" },
      requests: { type: "string" },
      connections: { type: "string" },
      pool: { type: "string" },
    },
  });
  const requests = positive(
    "requests",
    args.requests,
    SERVICE_DEFAULTS.requests,
  );
  const params: ServiceParams = {
    rounds: positive("rounds", args.rounds, SERVICE_DEFAULTS.rounds),
    requests,
    warmup: warmupOf(requests),
    connections: positive(
      "connections",
      args.connections,
      SERVICE_DEFAULTS.connections,
    ),
    pool: positive("pool", args.pool, SERVICE_DEFAULTS.pool),
  };
  const started = performance.now();
  const loadStart = loadavg()[0] ?? 0;
  try {
    const built = compileDist(root, `${BUILD}/dist`);
    if (!built.ok) {
      log(built.error);
      throw new Error("bench:service: `tsc -p tsconfig.build.json` failed");
    }
    const result = await measureService({
      root,
      dist: resolve(root, BUILD, "dist"),
      params,
      log,
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpus();
    process.stdout.write(
      [
        `Node ${process.version}, ${cpu[0]?.model.trim() ?? "unknown"}, ${cpu.length} cores shared by the server,`,
        `PostgreSQL and the load client; 1-min load average ${loadStart.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}; ${seconds.toFixed(0)} s.`,
        "",
        ...renderService({ result }),
      ].join("\n"),
    );
  } finally {
    rmSync(resolve(root, BUILD), { recursive: true, force: true });
  }
}

await main();
