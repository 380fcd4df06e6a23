// Instrumenting libraries as they load (`node --import waitgraph/register app.js`): a registry
// of supported modules, and the two small hooks that hand an application tracked exports.
//
//  * CommonJS (`require`, and `import` of a CommonJS package, which Node 20 loads through the
//    same loader): `Module.prototype._compile` is wrapped; when the file compiled is the entry
//    of a registered package, its `module.exports` is replaced before anyone reads it. The
//    `.js` handler is left alone, so tsx and other compile hooks keep working.
//  * ES modules (p-limit, p-queue, async-mutex's ESM build): a resolve/load hook pair
//    (`module.register`, ./loader-hooks.ts) serves, in place of the package's entry, a small
//    module that re-exports the original with the registered names replaced by
//    `instrumentModule(name, original)` — computed here, on the main thread.
//
// To support a library, add one line to `instrumentations`: its package name, a function from
// the library's exports to the exports the application should get (it may change and return
// the same object), and, for an ES module, the names that function replaces. The function must
// not import the library: it is handed the copy the application loaded.
import { createRequire, register } from "node:module";
import { internalError } from "../core/seam.js";
import { instrumentAsyncLock } from "./instrument/async-lock.js";
import { instrumentAsyncMutex } from "./instrument/async-mutex.js";
import { instrumentPLimit } from "./instrument/p-limit.js";
import { instrumentPQueue } from "./instrument/p-queue.js";
import { instrumentPg } from "./pg.js";
import { instrumentGenericPool } from "./generic-pool.js";
import { instrumentTarn } from "./tarn.js";
import { instrumentKnex } from "./knex.js";

export interface Instrumentation {
  /** The exports the application gets instead of `exports` (may be `exports`, changed). */
  readonly instrument: (exports: never) => unknown;
  /** For a library loaded as an ES module: the export names `instrument` replaces. */
  readonly esm?: readonly string[];
}

export const instrumentations: ReadonlyMap<string, Instrumentation> = new Map<
  string,
  Instrumentation
>([
  [
    "async-mutex",
    {
      instrument: instrumentAsyncMutex,
      esm: ["Mutex", "Semaphore", "withTimeout", "tryAcquire"],
    },
  ],
  ["async-lock", { instrument: instrumentAsyncLock }],
  [
    "p-limit",
    { instrument: instrumentPLimit, esm: ["default", "limitFunction"] },
  ],
  ["p-queue", { instrument: instrumentPQueue, esm: ["default"] }],
  ["pg", { instrument: instrumentPg }],
  ["generic-pool", { instrument: instrumentGenericPool }],
  ["tarn", { instrument: instrumentTarn }],
  ["knex", { instrument: instrumentKnex }],
]);

const done = new WeakMap<object, unknown>();

/**
 * The tracked exports of module `name` for its loaded `exports` (one result per loaded copy).
 * A failure is one internal-error report and the library's own exports: never a crash.
 */
export function instrumentModule(name: string, exports: unknown): unknown {
  const entry = instrumentations.get(name);
  if (
    entry === undefined ||
    (typeof exports !== "object" && typeof exports !== "function")
  )
    return exports;
  if (exports === null) return exports;
  if (done.has(exports)) return done.get(exports);
  let result: unknown = exports;
  try {
    result = entry.instrument(exports as never);
  } catch (error) {
    internalError(error);
  }
  done.set(exports, result);
  if (typeof result === "object" || typeof result === "function")
    if (result !== null) done.set(result, result);
  return result;
}

let installed = false;

/** Installs both hooks once. Called by `waitgraph/register` when tracking is on. */
export function installInstrumentation(): void {
  if (installed) return;
  installed = true;
  hookCommonJs();
  hookEsm();
}

// ---- CommonJS ----------------------------------------------------------------------------

interface CjsModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

function hookCommonJs(): void {
  const require = createRequire(import.meta.url);
  const Module = require("node:module") as { prototype: CjsModule };
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (this: CjsModule, content, filename) {
    const result = compile.call(this, content, filename);
    const name = typeof filename === "string" ? entryOf(filename) : undefined;
    if (name !== undefined) this.exports = instrumentModule(name, this.exports);
    return result;
  };
}

/** Package directory → its CommonJS entry file. */
const entries = new Map<string, string | undefined>();

/** The registered package whose CommonJS entry `filename` is, if any. */
function entryOf(filename: string): string | undefined {
  const path = filename.replaceAll("\\", "/");
  for (const name of instrumentations.keys()) {
    const at = path.lastIndexOf(`/node_modules/${name}/`);
    if (at === -1) continue;
    const dir = path.slice(0, at + `/node_modules/${name}/`.length);
    if (!entries.has(dir)) {
      let entry: string | undefined;
      try {
        entry = createRequire(filename).resolve(name).replaceAll("\\", "/");
        if (!entry.startsWith(dir)) entry = undefined;
      } catch {
        entry = undefined;
      }
      entries.set(dir, entry);
    }
    if (entries.get(dir) === path) return name;
  }
  return undefined;
}

// ---- ES modules --------------------------------------------------------------------------

/** What ./loader-hooks.ts needs to know, sent to the loader thread once. */
export interface HookData {
  /** Package name → the export names its instrumented module replaces. */
  modules: Record<string, string[]>;
  /** URL of this module: the served modules import `instrumentModule` from it. */
  instrument: string;
  /** URL prefixes of waitgraph itself: its own imports get the libraries untouched. */
  own: string[];
}

function hookEsm(): void {
  if (typeof register !== "function") {
    process.emitWarning(
      "waitgraph/register: this Node.js has no module.register (Node ≥ 20.6); ES-module libraries are not instrumented",
      { code: "WAITGRAPH_REGISTER" },
    );
    return;
  }
  const modules: Record<string, string[]> = {};
  for (const [name, entry] of instrumentations)
    if (entry.esm !== undefined) modules[name] = [...entry.esm];
  const data: HookData = {
    modules,
    instrument: import.meta.url,
    own: [new URL("..", import.meta.url).href],
  };
  register("./loader-hooks.js", import.meta.url, { data });
}
