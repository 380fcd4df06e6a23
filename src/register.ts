// `node --import waitgraph/register app.js`: tracking for the whole program, with the policy
// from WAITGRAPH=off|log|throw|silent (default log: reports on stderr, the program runs on),
// and the supported libraries (async-mutex, async-lock, p-limit, p-queue, and the pools)
// instrumented as the program loads them, from `import` and `require` alike. With
// WAITGRAPH_STORE=redis://… the graph is shared with every process that names the same store:
// what they published is loaded before the program starts (at most ~2 s when the store is
// unreachable), so the program's first acquisitions are checked against it. With WAITGRAPH=off
// nothing is installed at all.
import { tracker } from "./index.js";
import { installInstrumentation } from "./adapters/instrument.js";
import { connectFromEnvironment } from "./stores/connect.js";

if (tracker.enabled) {
  installInstrumentation();
  await connectFromEnvironment();
}
