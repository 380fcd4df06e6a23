// `waitgraph/vitest`: a Vitest plugin. One line in vitest.config.ts switches checking on:
//
//   import { waitgraph } from "waitgraph/vitest";
//   export default defineConfig({ plugins: [waitgraph()] });
//
// It does two things, one in each kind of Vitest process:
//
// - Workers: it adds ./vitest-setup.js to `test.setupFiles`, which turns tracking on and fails
//   the test in which a report happened, with the rendered report as the failure message.
// - The main process: it adds a reporter. When a run starts, the reporter makes a run folder and
//   hands its path to the workers (`provide`/`inject`); each test file writes its graph there.
//   When the run ends, every worker is done; the reporter merges the graphs, writes the merged
//   document (default `.waitgraph/vitest.json` under the project root), and prints each cycle that only the
//   union has — an inversion between two files that never ran in one worker — and fails the
//   run (exit code 1), as a coverage threshold does.
//
// - Both: the supported libraries are instrumented in the workers, with no import of waitgraph's
//   adapters. The setup file installs `waitgraph/register`'s hooks, which serve what Node's own
//   loader loads: CommonJS libraries (async-lock, pg, the pools) and everything an externalised
//   package imports. A test file's or a source file's `import … from "async-mutex"` of an
//   ES-module library is different: Vitest resolves it itself and imports the file by its path,
//   which the ES-module hook (keyed on the bare name) never sees. So the plugin resolves those
//   bare imports to a small module that re-exports the library with the tracked exports, as the
//   hook would (see `instrumentedEsm`).
//
// Tested with Vitest 3.2, 4 and 5 (the `configureVitest` plugin hook is Vitest 3.1).
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import type { Vite, VitestPluginContext } from "vitest/node";
import { instrumentations } from "../adapters/instrument.js";
import { settingsFromEnvironment } from "../core/environment.js";
import { expected } from "../core/errors.js";
import {
  createRunFolder,
  DEFAULT_OUTPUT,
  describeOutcome,
  finishRun,
  outputFrom,
} from "./run-folder.js";

/** The key under which the reporter provides the run folder to the workers. */
export const PROVIDED_RUN_DIR = "waitgraph:run-folder";

declare module "vitest" {
  interface ProvidedContext {
    [PROVIDED_RUN_DIR]: string;
  }
}

export interface WaitgraphVitestOptions {
  /**
   * Where the merged graph of the run is written, relative to the project root; `false` for
   * nowhere. Default: `.waitgraph/vitest.json`; the environment variable WAITGRAPH_OUTPUT overrides it.
   */
  output?: string | false;
}

const SETUP_FILE = fileURLToPath(new URL("./vitest-setup.js", import.meta.url));
const INSTRUMENT = fileURLToPath(
  new URL("../adapters/instrument.js", import.meta.url),
);
/**
 * Ids of the re-exporting modules: the marker, the library's name, the library file's path in
 * base64url. The id carries everything `load` needs, because Vitest 5 caches transformed
 * modules on disk: in a later run an importer read from that cache names this id without
 * resolving the bare import again, so no table made by `resolveId` in this process may be
 * needed to load it. The path is encoded: an id with `/node_modules/` in it or ending in `.mjs`
 * would be externalised by Vitest, and a virtual module must be run by Vite.
 */
const INSTRUMENTED = "\0waitgraph-instrumented:";

function instrumentedId(name: string, file: string): string {
  return `${INSTRUMENTED}${name}:${Buffer.from(file).toString("base64url")}`;
}

/** The library an id made by `instrumentedId` stands for; undefined for any other id. */
function libraryOf(id: string): { name: string; file: string } | undefined {
  if (!id.startsWith(INSTRUMENTED)) return undefined;
  const rest = id.slice(INSTRUMENTED.length);
  const colon = rest.lastIndexOf(":");
  const name = rest.slice(0, colon);
  if (colon <= 0 || !esmLibraries.has(name)) return undefined;
  const file = Buffer.from(rest.slice(colon + 1), "base64url").toString();
  return isAbsolute(file) ? { name, file } : undefined;
}

/** Library name → the export names its instrumentation replaces, for the ES-module libraries. */
const esmLibraries = new Map(
  [...instrumentations]
    .filter(([, entry]) => entry.esm !== undefined)
    .map(([name, entry]) => [name, entry.esm ?? []]),
);

/** The Vitest plugin. */
export function waitgraph(options: WaitgraphVitestOptions = {}): Vite.Plugin {
  if (typeof options !== "object" || options === null)
    throw expected("options", "an object", options);
  const { output = DEFAULT_OUTPUT.vitest } = options;
  if (output !== false && (typeof output !== "string" || output === ""))
    throw expected("output", "a path or false", output);
  const instrument = settingsFromEnvironment(process.env).enabled !== false;
  return {
    name: "waitgraph",
    // Before Vite's own resolver, which would resolve the bare name to the library's file.
    enforce: "pre",
    config() {
      return { test: { setupFiles: [SETUP_FILE] } };
    },
    async resolveId(source, importer, options) {
      if (!instrument || !esmLibraries.has(source)) return null;
      const resolved = await this.resolve(source, importer, {
        ...options,
        skipSelf: true,
      });
      if (resolved === null || resolved.external === true) return resolved;
      return instrumentedId(source, resolved.id);
    },
    load(id) {
      const library = libraryOf(id);
      if (library === undefined) return null;
      const { name, file } = library;
      return instrumentedEsm(name, file, esmLibraries.get(name) ?? []);
    },
    configureVitest({ vitest }: VitestPluginContext) {
      // Once per Vitest, however many projects use the plugin.
      if (vitest.config.reporters.some((r) => r instanceof RunReporter)) return;
      vitest.config.reporters.push(
        new RunReporter(vitest, outputFrom(process.env, output)),
      );
    },
  };
}

/** The main process's part: a run folder per run, merged when the run ends. */
class RunReporter {
  private dir: string | undefined;

  constructor(
    private readonly vitest: VitestPluginContext["vitest"],
    private readonly output: string | undefined,
  ) {}

  onTestRunStart(): void {
    this.dir = createRunFolder("vitest");
    this.vitest.provide(PROVIDED_RUN_DIR, this.dir);
  }

  onTestRunEnd(): void {
    const dir = this.dir;
    if (dir === undefined) return;
    this.dir = undefined;
    const root = this.vitest.config.root;
    const outcome = finishRun(dir, this.output, root);
    if (outcome.files.length === 0) return;
    // On stderr, as Vitest prints failures: stdout may be a machine-read reporter's.
    this.vitest.logger.error(describeOutcome(outcome, root).trimEnd());
    if (outcome.found.length > 0) process.exitCode = 1;
  }
}

/**
 * The module a bare import of ES-module library `name` gets in a Vitest worker: the library's
 * own file (`file`, externalised: Node loads it, once per worker, as it would without
 * waitgraph) with the exports in `names` replaced by the tracked ones. The same shape as the
 * module `waitgraph/register`'s loader hook serves, so a library is tracked the same way
 * whether a test file imports it or a package under node_modules does.
 */
function instrumentedEsm(
  name: string,
  file: string,
  names: readonly string[],
): string {
  const original = JSON.stringify(file);
  return [
    `import * as original from ${original};`,
    `import { instrumentModule } from ${JSON.stringify(INSTRUMENT)};`,
    `export * from ${original};`,
    `const tracked = instrumentModule(${JSON.stringify(name)}, original);`,
    ...names.map((n) =>
      n === "default"
        ? "export default tracked.default;"
        : `export const ${n} = tracked[${JSON.stringify(n)}];`,
    ),
  ].join("\n");
}
