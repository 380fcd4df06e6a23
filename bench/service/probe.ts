// Loaded with `--import` after waitgraph/register in the service benchmark's waitgraph
// variants: when the server exits, it writes the tracker's statistics to the file named by
// WAITGRAPH_BENCH_PROBE, so the benchmark can show that the tracked variant really checked
// every request's locks (and that `off` checked none) instead of assuming it. The tracker comes
// from WAITGRAPH_BENCH_DIST, the index.js of the same build as the register.js the server was
// started with, so the probe reads the tracker that did the work.
import { writeFileSync } from "node:fs";
import type * as Waitgraph from "../../src/index.js";

const file = process.env["WAITGRAPH_BENCH_PROBE"];
const dist = process.env["WAITGRAPH_BENCH_DIST"];
if (file === undefined || dist === undefined)
  throw new Error(
    "bench/service/probe.ts: WAITGRAPH_BENCH_PROBE and WAITGRAPH_BENCH_DIST must be set",
  );
const { tracker } = (await import(dist)) as typeof Waitgraph;
process.once("exit", () => {
  writeFileSync(file, JSON.stringify(tracker.stats()));
});
