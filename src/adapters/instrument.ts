// Instrumenting libraries as they load (`node --import waitgraph/register app.js`): a registry
// of supported modules, and the small hooks that hand an application tracked exports.
//
//  * CommonJS (`require`, and `import` of a CommonJS package, which reaches the same loader):
//    `Module.prototype._compile` is wrapped; when the file compiled is the entry of a
//    registered package, its `module.exports` is replaced before anyone reads it. The `.js`
//    handler is left alone, so tsx and other compile hooks keep working. This stays the
//    CommonJS hook on every Node line, also where `module.registerHooks` could serve CommonJS:
//    a load hook sees only a module's source, not the `module.exports` it evaluates to, so it
//    would have to serve a wrapper that requires the original under a second name — more
//    machinery for the same result, and Node 20 still needs `_compile`.
//  * ES modules (p-limit, p-queue, async-mutex's ESM build): a resolve/load hook pair
//    (./loader-hooks.ts) serves, in place of the package's entry, a small module that
//    re-exports the original with the registered names replaced by `instrumentModule(name,
//    original)`. Where Node has `module.registerHooks` (22.15+, 23.5+, 24, 26) the hooks run
//    in-thread and synchronously: no loader thread to start, no DEP0205 warning of
//    `module.register` (deprecated in Node 26), and `require()` of an ES module (p-limit 7
//    from a CommonJS program) goes through them too. `module.register` is used only where it
//    is the only way (Node 20, 22 before 22.15).
//
// To support a library, add one line to `instrumentations`: its package name, a function from
// the library's exports to the exports the application should get (it may change and return
// the same object), and, for an ES module, the names that function replaces. The function must
// not import the library: it is handed the copy the application loaded. It checks the shape it
// is given before changing anything, and throws `unrecognised(…)` when it does not know it:
// the library is then left as it is and one warning names it (see instrumentModule).
import Module, { createRequire } from "node:module";
import { internalError } from "../core/findings.js";
import { WaitgraphError } from "../core/errors.js";
import { instrumentAsyncLock } from "./instrument/async-lock.js";
import { instrumentAsyncMutex } from "./instrument/async-mutex.js";
import { instrumentPLimit } from "./instrument/p-limit.js";
import { instrumentPQueue } from "./instrument/p-queue.js";
import { installedAt } from "./instrument/packages.js";
import { shapeOf, Unrecognised } from "./instrument/exports.js";
import { instrumentPg } from "./pg.js";
import { instrumentGenericPool } from "./generic-pool.js";
import { instrumentTarn } from "./tarn.js";
import { instrumentKnex } from "./knex.js";
import { instrumentRedlock } from "./redlock.js";
import { instrumentNavigatorLocks } from "./web-locks.js";
import * as loaderHooks from "./loader-hooks.js";

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
  // redlock 4 is CommonJS (the module is the constructor); redlock 5 also ships an ES module.
  ["redlock", { instrument: instrumentRedlock, esm: ["default"] }],
]);

/**
 * The warning `waitgraph/register` emits (once per library version) when a library's exports
 * are not a shape its instrumentation knows. The library is left as it loaded.
 */
export class UnrecognisedExportsWarning extends WaitgraphError {
  constructor(
    readonly library: string,
    readonly version: string | undefined,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      "WAITGRAPH_UNRECOGNISED_EXPORTS",
      `waitgraph/register left ${library}${version === undefined ? "" : `@${version}`} untouched, not tracked: expected ${expected}, found ${found}`,
    );
  }
}

const done = new WeakMap<object, unknown>();
const warned = new Set<string>();

/**
 * The tracked exports of module `name` for its loaded `exports` (one result per loaded copy).
 * A shape the instrumentation does not know leaves the exports untouched with one
 * UnrecognisedExportsWarning per library version; any other failure is one internal-error
 * report and the library's own exports. Never a crash.
 */
export function instrumentModule(
  name: string,
  exports: unknown,
  version?: string,
): unknown {
  const entry = instrumentations.get(name);
  if (entry === undefined) return exports;
  if (
    exports === null ||
    (typeof exports !== "object" && typeof exports !== "function")
  ) {
    warn(
      name,
      version,
      new Unrecognised("an object or a function", shapeOf(exports)),
    );
    return exports;
  }
  if (done.has(exports)) return done.get(exports);
  let result: unknown = exports;
  try {
    result = entry.instrument(exports as never);
  } catch (error) {
    result = exports;
    if (error instanceof Unrecognised) warn(name, version, error);
    else internalError(error);
  }
  done.set(exports, result);
  if (typeof result === "object" || typeof result === "function")
    if (result !== null) done.set(result, result);
  return result;
}

function warn(
  name: string,
  version: string | undefined,
  why: Unrecognised,
): void {
  const id = `${name}@${version ?? "?"}`;
  if (warned.has(id)) return;
  warned.add(id);
  process.emitWarning(
    new UnrecognisedExportsWarning(name, version, why.expected, why.found),
  );
}

/**
 * Marks this process as instrumented. A global symbol: two loaded copies of waitgraph (the
 * built one and the source one, or two installed versions) share one tracker, and must not
 * hook the loaders twice.
 */
const kInstalled = Symbol.for("waitgraph.register/v1");

/**
 * Installs the hooks, once per process. Called by `waitgraph/register` when tracking is on,
 * and by the test-runner integrations; safe to call again, and from a module loaded by
 * `--import`.
 */
export function installInstrumentation(): void {
  const global = globalThis as { [kInstalled]?: true };
  if (global[kInstalled] === true) return;
  global[kInstalled] = true;
  hookCommonJs();
  hookEsm();
  // Not a module but a global: `navigator.locks` (Node 24+) is tracked in place, if present.
  instrumentNavigatorLocks();
}

// ---- CommonJS ----------------------------------------------------------------------------

interface CjsModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

function hookCommonJs(): void {
  const proto = (Module as unknown as { prototype: CjsModule }).prototype;
  const compile = proto._compile;
  proto._compile = function (this: CjsModule, content, filename) {
    const result = compile.call(this, content, filename);
    const found = typeof filename === "string" ? entryOf(filename) : undefined;
    if (found !== undefined)
      this.exports = instrumentModule(found.name, this.exports, found.version);
    return result;
  };
}

/** Package directory → its CommonJS entry file. */
const entries = new Map<string, string | undefined>();

/**
 * The registered package whose CommonJS entry `filename` is, if any: the file its directory
 * name (`p-limit`, or an alias's `p-limit-3`) resolves to from beside it, as a program's
 * `require` would.
 */
function entryOf(filename: string) {
  const path = filename.replaceAll("\\", "/");
  const found = installedAt(path);
  if (found === undefined || !instrumentations.has(found.name))
    return undefined;
  if (!entries.has(found.dir)) {
    let entry: string | undefined;
    try {
      entry = createRequire(`${found.dir}package.json`)
        .resolve(found.specifier)
        .replaceAll("\\", "/");
      if (!entry.startsWith(found.dir)) entry = undefined;
    } catch {
      entry = undefined;
    }
    entries.set(found.dir, entry);
  }
  return entries.get(found.dir) === path ? found : undefined;
}

// ---- ES modules --------------------------------------------------------------------------

/** What ./loader-hooks.ts needs to know (sent to the loader thread, where there is one). */
export interface HookData {
  /** Package name → the export names its instrumented module replaces. */
  modules: Record<string, string[]>;
  /** URL of this module: the served modules import `instrumentModule` from it. */
  instrument: string;
  /** URL prefixes of waitgraph itself: its own imports get the libraries untouched. */
  own: string[];
}

/** The two hook APIs, read off the module (a named import of either fails where it is missing). */
interface HookApis {
  registerHooks?: (hooks: {
    resolve: typeof loaderHooks.resolveSync;
    load: typeof loaderHooks.loadSync;
  }) => unknown;
  register?: (specifier: string, parent: string, options: object) => void;
}

function hookEsm(): void {
  const { registerHooks, register } = Module as unknown as HookApis;
  const modules: Record<string, string[]> = {};
  for (const [name, entry] of instrumentations)
    if (entry.esm !== undefined) modules[name] = [...entry.esm];
  const data: HookData = {
    modules,
    instrument: import.meta.url,
    own: [new URL("..", import.meta.url).href],
  };
  if (typeof registerHooks === "function") {
    loaderHooks.useData(data);
    registerHooks({
      resolve: loaderHooks.resolveSync,
      load: loaderHooks.loadSync,
    });
    return;
  }
  if (typeof register !== "function") {
    process.emitWarning(
      "waitgraph/register: this Node.js has neither module.registerHooks nor module.register (Node ≥ 20.6); ES-module libraries are not instrumented",
      { code: "WAITGRAPH_REGISTER" },
    );
    return;
  }
  // The URL the hooks module was itself loaded from (./loader-hooks.js when built, the .ts file
  // when run from source through tsx, whose hooks the loader thread has too).
  register(import.meta.resolve("./loader-hooks.js"), import.meta.url, { data });
}
