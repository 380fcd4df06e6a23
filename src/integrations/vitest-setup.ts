// The setup file the Vitest plugin (./vitest.ts) adds to `test.setupFiles`. Vitest runs it in
// every worker before each test file, so its hooks wrap every test of every file:
//
//   beforeEach  what was found since the last test belongs to the file, not to this test
//   afterEach   anything found while the test ran fails it, the rendered report as the message
//   afterAll    anything found outside the tests fails the file; the file's graph is written
//               to the run folder the plugin provided, for the merge at the end of the run
//
// Vitest runs `afterAll` hooks last-registered first, so this one, registered before the test
// file's own, runs after them and sees what they found.
import { afterAll, afterEach, beforeEach, inject } from "vitest";
import {
  alreadyThrown,
  Ledger,
  ReportedError,
  startTracking,
} from "./session.js";
import { writeProcessDocument } from "./run-folder.js";
import { PROVIDED_RUN_DIR } from "./vitest.js";

startTracking(process.env);
const ledger = new Ledger();

beforeEach(() => {
  ledger.testStarts();
});

afterEach((context) => {
  const thrown = alreadyThrown(context.task.result?.errors ?? []);
  const reports = ledger.testEnds().filter((r) => !thrown.has(r.id));
  if (reports.length > 0) throw new ReportedError(reports, "during this test");
});

afterAll((suite) => {
  const dir: string | undefined = inject(PROVIDED_RUN_DIR);
  const file = (suite as { filepath?: string }).filepath ?? suite.name;
  if (typeof dir === "string" && dir !== "") writeProcessDocument(dir, file);
  const reports = ledger.fileEnds();
  if (reports.length > 0)
    throw new ReportedError(reports, "in this file, outside its tests");
});
