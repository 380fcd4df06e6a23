// The setup file the Vitest plugin (./vitest.ts) adds to `test.setupFiles`. Vitest runs it in
// every worker before each test file, so its hooks wrap every test of every file:
//
//   (load)      tracking on, and the supported libraries instrumented as they load
//   beforeEach  what was found since the last test belongs to the file, not to this test
//   afterEach   anything found while the test ran fails it, the rendered report as the message
//   afterAll    anything found outside the tests fails the file; the file's graph is written
//               to the run folder the plugin provided, for the merge at the end of the run
//
// Vitest runs `afterAll` hooks last-registered first, so this one, registered before the test
// file's own, runs after them and sees what they found.
//
// Libraries: Vitest externalises packages under node_modules, so they are loaded by Node's own
// loader in this worker, after this file has run; the hooks `waitgraph/register` installs hand
// them over tracked. That covers CommonJS libraries and whatever an externalised package
// imports; a bare import of an ES-module library that Vite resolves itself (from a test or
// source file) is redirected by the plugin (see ./vitest.ts).
import { afterAll, afterEach, beforeEach, inject } from "vitest";
import { installInstrumentation } from "../adapters/instrument.js";
import {
  alreadyThrown,
  Ledger,
  ReportedError,
  startTracking,
} from "./session.js";
import { tracker } from "../core/tracker.js";
import { writeProcessDocument } from "./run-folder.js";
import { PROVIDED_RUN_DIR } from "./vitest.js";

startTracking(process.env);
if (tracker.enabled) installInstrumentation();
const ledger = new Ledger();

beforeEach(() => {
  ledger.testStarts();
});

// Vitest 4 and 5 read a hook's first parameter as its fixtures (an afterAll's always, an
// afterEach's once the file registers any) and accept only an object pattern there: a plain
// name is a FixtureParseError that fails every test file. So the context is destructured.
afterEach(({ task }) => {
  const thrown = alreadyThrown(task.result?.errors ?? []);
  const reports = ledger.testEnds().filter((r) => !thrown.has(r.id));
  if (reports.length > 0) throw new ReportedError(reports, "during this test");
});

// No parameter, for the same reason; the file's suite is the last argument in every major
// (Vitest 3 calls `fn(suite)`, Vitest 4 and 5 `fn(context, suite)`).
afterAll(function () {
  // Rest parameters would be read as the fixtures argument too.
  // eslint-disable-next-line prefer-rest-params
  const suite = arguments[arguments.length - 1] as
    { filepath?: string; name?: string } | undefined;
  const dir: string | undefined = inject(PROVIDED_RUN_DIR);
  const file = suite?.filepath ?? suite?.name ?? "(unknown file)";
  if (typeof dir === "string" && dir !== "") writeProcessDocument(dir, file);
  const reports = ledger.fileEnds();
  if (reports.length > 0)
    throw new ReportedError(reports, "in this file, outside its tests");
});
