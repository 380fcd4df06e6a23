// What passes between `waitgraph run` and the program it watches. The preload (preload.ts)
// writes one JSON file, named by an environment variable, when the program exits; the run
// command reads it. Internal: the public, versioned document is the one `--json` writes.
import type { Report } from "../core/report.js";
import type { Snapshot } from "../core/tracker.js";

/** The environment variable that names the result file. */
export const RESULT_FILE_ENV = "WAITGRAPH_RUN_RESULT";

/** What the watched program's tracker held when it exited. */
export interface RunResult {
  /** False when WAITGRAPH=off turned tracking off: nothing was checked. */
  enabled: boolean;
  policy: string;
  reports: Report[];
  snapshot: Snapshot;
}
