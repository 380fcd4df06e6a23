// Loaded with `--import` after waitgraph/register in the service benchmark's waitgraph
// variants: when the server exits, it writes the tracker's statistics to the file named by
// WAITGRAPH_BENCH_PROBE, so the benchmark can show that the tracked variant really checked
// every request's locks (and that `off` checked none) instead of assuming it.
import { writeFileSync } from "node:fs";
import { tracker } from "../../dist/index.js";

const file = process.env["WAITGRAPH_BENCH_PROBE"];
if (file !== undefined)
  process.once("exit", () => {
    writeFileSync(file, JSON.stringify(tracker.stats()));
  });
