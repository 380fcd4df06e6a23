// `node --import waitgraph/register app.js`: tracking for the whole program, with the policy
// from WAITGRAPH=off|log|throw|silent (default log: reports on stderr, the program runs on),
// and the supported libraries (async-mutex, async-lock, p-limit, p-queue, and the pools)
// instrumented as the program loads them, from `import` and `require` alike. With
// WAITGRAPH=off nothing is installed at all.
import { tracker } from "./index.js";
import { installInstrumentation } from "./adapters/instrument.js";

if (tracker.enabled) installInstrumentation();
