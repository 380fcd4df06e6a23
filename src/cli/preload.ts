// Loaded into the watched program by `waitgraph run` (`node --import <dist/cli/preload.js>`):
// tracking on with the policy from WAITGRAPH, as `waitgraph/register` does, and when the program
// exits, its reports and class graph are written to the file WAITGRAPH_RUN_RESULT names.
//
// The write happens in a synchronous `exit` listener because that is the one place every ending
// passes through: a normal end, `process.exit()`, an uncaught exception, and a program whose
// last promise never settles (Node exits when its event loop is empty, which is exactly how a
// deadlocked program that has nothing else to do ends). A program killed by a signal never
// gets there; `waitgraph run` says so. Reports made by `exit` listeners that the program adds
// itself run after this one and are not collected.
import { writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
import "../register.js";
import { tracker } from "../core/tracker.js";
import { RESULT_FILE_ENV, type RunResult } from "./protocol.js";

const file = isMainThread ? process.env[RESULT_FILE_ENV] : undefined;
// Node processes the program forks inherit the preload (through execArgv) but not this
// variable, so only this process writes the file.
delete process.env[RESULT_FILE_ENV];

// `kill -USR2 <pid>`: every blocked wait and what its flow holds, on stderr (the kernel's sysrq
// "show all locks held"). Only in the main thread, and only when the program has no SIGUSR2
// listener of its own at startup; a listener it adds later runs as well.
if (isMainThread && process.listenerCount("SIGUSR2") === 0)
  process.on("SIGUSR2", () => {
    try {
      process.stderr.write(tracker.dump().text + "\n");
    } catch (error) {
      process.stderr.write(`waitgraph: dump failed: ${String(error)}\n`);
    }
  });

if (file !== undefined && file !== "") {
  process.on("exit", () => {
    try {
      const result: RunResult = {
        enabled: tracker.enabled,
        policy: typeof tracker.policy === "string" ? tracker.policy : "handler",
        reports: [...tracker.reports()],
        snapshot: tracker.snapshot(),
      };
      writeFileSync(file, JSON.stringify(result));
    } catch (error) {
      // Never crash the program's exit; `waitgraph run` reports the missing result.
      process.stderr.write(
        `waitgraph: could not collect the reports at exit: ${String(error)}\n`,
      );
    }
  });
}
