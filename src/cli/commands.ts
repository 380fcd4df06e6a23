// The command table. A new command is a file exporting a `Command` and one entry here.
import type { Command } from "./command.js";
import { merge } from "./merge.js";
import { report } from "./report.js";
import { run } from "./run.js";
import { stats } from "./stats.js";
import { view } from "./view.js";

export const commands: readonly Command[] = [run, report, view, merge, stats];
