// Report stacks show the user's own frames; frames under node_modules only when there is
// nothing else — unless `frames: 'all'` (WAITGRAPH_FRAMES=all) asks for them, for debugging
// the library itself.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, test } from "node:test";
import { pathToFileURL } from "node:url";
import { Mutex, tracker } from "../../src/index.js";
import { settingsFromEnvironment } from "../../src/core/environment.js";

const dir = mkdtempSync(join(tmpdir(), "waitgraph-frames-"));
const lib = join(dir, "node_modules", "fakelib");
mkdirSync(lib, { recursive: true });
writeFileSync(
  join(lib, "index.mjs"),
  "export async function withLock(m, fn) {\n  const release = await m.acquire();\n  try { return await fn(); } finally { release(); }\n}\n",
);
const { withLock } = (await import(
  pathToFileURL(join(lib, "index.mjs")).href
)) as { withLock: (m: Mutex, fn: () => Promise<void>) => Promise<void> };
after(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  tracker.configure({ enabled: true, policy: "silent", frames: "user" });
  tracker.reset();
});

/** Two locks of one class, the inner one taken inside the library: a recursive-locking report. */
async function nestedThroughLibrary(): Promise<string[]> {
  const outer = new Mutex({ key: "k" });
  const inner = new Mutex({ key: "k" });
  const release = await outer.acquire();
  await withLock(inner, async () => undefined);
  release();
  const [report] = tracker.reports();
  assert.equal(report?.kind, "recursive-locking");
  return report.stack.map((f) => f.file);
}

test("by default the library's frames are left out when the user's are there", async () => {
  const files = await nestedThroughLibrary();
  assert.ok(files.length > 0);
  assert.ok(
    files.every((f) => !f.includes("/node_modules/")),
    files.join("\n"),
  );
});

test("frames: 'all' keeps them, innermost first", async () => {
  tracker.configure({ frames: "all" });
  const files = await nestedThroughLibrary();
  assert.ok(files[0]?.includes("/node_modules/fakelib/"), files.join("\n"));
  assert.ok(
    files.some((f) => !f.includes("/node_modules/")),
    "the user's frames too",
  );
});

test("frames is checked, and WAITGRAPH_FRAMES sets it", () => {
  assert.throws(
    () => tracker.configure({ frames: "library" as never }),
    (e: Error & { code?: string }) =>
      e.code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
      /'user' or 'all'/.test(e.message),
  );
  assert.equal(
    settingsFromEnvironment({ WAITGRAPH_FRAMES: "all" }).frames,
    "all",
  );
  assert.equal(settingsFromEnvironment({}).frames, undefined);
});
