// The command table. A new command is a file exporting a `Command` and one entry here.
import type { Command } from "./command.js";
import { run } from "./run.js";

export const commands: readonly Command[] = [
  run,
  // report, view, merge, stats: one line each, e.g. `report,` after `import { report } from "./report.js";`
];
