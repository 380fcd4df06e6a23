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
// Needs Vitest 3.1 or later (the `configureVitest` plugin hook).
import { fileURLToPath } from "node:url";
import type { Vite, VitestPluginContext } from "vitest/node";
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

/** The Vitest plugin. */
export function waitgraph(options: WaitgraphVitestOptions = {}): Vite.Plugin {
  if (typeof options !== "object" || options === null)
    throw expected("options", "an object", options);
  const { output = DEFAULT_OUTPUT.vitest } = options;
  if (output !== false && (typeof output !== "string" || output === ""))
    throw expected("output", "a path or false", output);
  return {
    name: "waitgraph",
    config() {
      return { test: { setupFiles: [SETUP_FILE] } };
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
