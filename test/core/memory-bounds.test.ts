// Bounded memory with named limits. Every per-key table of the tracker has a named capacity
// and is emptied by tracker.reset(); names in reports are cut at MAX_NAME_CHARS.
//
// Measured before this change: each distinct string key, deferred key or task name kept
// ~240 B for good — past the class limit and after reset() (+119 MB at 500k keys; here, 50k keys
// per round grew the heap 16.8 → 29.3 → 43.7 → 54.3 MB over four rounds). A 1 MB key made a
// 4 MB report text, a 16 MB JSON document and a 5 MB DOT graph.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeEach, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Mutex, deferred, task, tracker } from "../../src/index.js";
import { MAX_NAME_CHARS } from "../../src/core/report.js";
import { renderText } from "../../src/report/text.js";
import { renderDocument, toDocument } from "../../src/report/json.js";
import { renderSarif } from "../../src/report/sarif.js";
import { renderDot } from "../../src/view/dot.js";
import { renderHtml } from "../../src/view/html.js";
import { ensureBuilt } from "../helpers/build.js";
import { fresh, reportKinds } from "../helpers/edges.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = pathToFileURL(join(root, "dist", "index.js")).href;

beforeEach(() => fresh());

describe("the key tables", () => {
  // 200k distinct keys — a third each string-keyed mutexes, keyed deferreds and named tasks —
  // over four rounds of 50k, each ended by tracker.reset(). In a fresh process with --expose-gc
  // so that the heap figures are this workload's alone.
  test("200k distinct keys over four reset()s leave the heap flat (child process, --expose-gc)", (t) => {
    ensureBuilt();
    const source = `
      const { Mutex, deferred, task, tracker } = await import(${JSON.stringify(dist)});
      tracker.configure({ policy: "silent" });
      const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
      const heaps = [];
      let n = 0;
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 50000; i++, n++) {
          const kind = n % 3;
          if (kind === 0) {
            const m = new Mutex({ key: "k" + n });
            (await m.acquire())();
          } else if (kind === 1) {
            const d = deferred({ key: "d" + n });
            d.resolve(1);
            await d.promise;
          } else await task("t" + n, () => 1);
        }
        const keysBefore = tracker.stats().keys;
        tracker.reset();
        heaps.push({ heap: heap(), keysBefore, keysAfter: tracker.stats().keys });
      }
      console.log(JSON.stringify(heaps));
    `;
    const run = spawnSync(
      process.execPath,
      ["--expose-gc", "--input-type=module", "-e", source],
      { cwd: root, encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const rounds = JSON.parse(run.stdout) as {
      heap: number;
      keysBefore: number;
      keysAfter: number;
    }[];
    const mb = (b: number) => (b / 2 ** 20).toFixed(2);
    t.diagnostic(
      `heap after each reset+gc: ${rounds.map((r) => mb(r.heap)).join(", ")} MB`,
    );
    for (const r of rounds) {
      // 50k keys per round, past the 8192 classes: all remembered until reset, none after.
      assert.equal(r.keysBefore, 50_000);
      assert.equal(r.keysAfter, 0);
    }
    // Flat: what 150k more keys left behind is under 1 MB (they cost ~12 MB per round before).
    const growth = rounds[3]!.heap - rounds[0]!.heap;
    assert.ok(growth < 2 ** 20, `the heap grew ${mb(growth)} MB`);
  });

  test("the key table stops growing at limits.keys: a lock past it is untracked, reported once", async () => {
    tracker.configure({ limits: { keys: 100 } });
    try {
      const locks = Array.from(
        { length: 150 },
        (_, i) => new Mutex({ key: `key-${i}` }),
      );
      assert.equal(tracker.stats().keys, 100);
      for (const m of locks) (await m.acquire())();
      assert.equal(tracker.stats().keys, 100);
      assert.equal(tracker.stats().classes, 100);
      // Deferred keys and task names share the table.
      deferred({ key: "one more" }).resolve(undefined);
      await task("one more task", () => {});
      assert.equal(tracker.stats().keys, 100);
      assert.deepEqual(reportKinds(), ["limit-exceeded"]);
      const [r] = tracker.reports();
      assert.equal((r as { limit?: string }).limit, "keys");
      assert.equal((r as { max?: number }).max, 100);
      // Past the limit the locks are still correct locks.
      const last = locks[149]!;
      const release = await last.acquire();
      assert.equal(last.isLocked(), true);
      release();
      // reset() empties the table; an existing key is registered again when next used.
      tracker.reset();
      assert.equal(tracker.stats().keys, 0);
      (await locks[0]!.acquire())();
      assert.equal(tracker.stats().keys, 1);
    } finally {
      tracker.configure({ limits: { keys: 65536 } });
    }
  });

  test("a lock made before reset() and one made after, with the same key, are one class", async () => {
    const before = new Mutex({ key: "device", name: "the device" });
    const other = new Mutex({ key: "other" });
    tracker.reset();
    const after = new Mutex({ key: "device" });
    // before → other, then other → after: a cycle only if before and after are one class.
    await before.runExclusive(() => other.runExclusive(() => {}));
    await other.runExclusive(() => after.runExclusive(() => {}));
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
    assert.deepEqual(tracker.reports()[0]!.classes, ["the device", "other"]);
    assert.equal(tracker.stats().classes, 2);
  });
  // The property suite found this one: `old`'s first use after the reset finds the class a
  // newer lock already made; adding it to the graph again would have dropped its edges.
  test("a lock made before reset() joining a class made since keeps that class's edges", async () => {
    const old = new Mutex({ key: "X" });
    const other = new Mutex({ key: "Y" });
    tracker.reset();
    const fresh = new Mutex({ key: "X" });
    await fresh.runExclusive(() => other.runExclusive(() => {})); // X -> Y
    (await old.acquire())(); // old joins class X
    assert.deepEqual(
      tracker.snapshot().edges.map((e) => `${e.from} -> ${e.to}`),
      ["X -> Y"],
    );
    await other.runExclusive(() => old.runExclusive(() => {})); // Y -> X closes the cycle
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
  });
});

describe("names in reports are bounded", () => {
  const huge = "x".repeat(1_000_000);

  async function abbaWith(key: string, other = "B"): Promise<void> {
    const A = new Mutex({ key });
    const B = new Mutex({ key: other });
    await A.runExclusive(() => B.runExclusive(() => {}));
    await B.runExclusive(() => A.runExclusive(() => {}));
  }

  test("a 1 MB key is cut to MAX_NAME_CHARS with a marker, in every renderer", async () => {
    await task("y".repeat(1_000_000), () => abbaWith(huge));
    const [r] = tracker.reports();
    const cut = `${"x".repeat(MAX_NAME_CHARS)}…(+${1_000_000 - MAX_NAME_CHARS} chars)`;
    assert.equal(r!.classes[0], cut);
    assert.ok(r!.text.includes(cut));
    assert.ok(r!.task.endsWith(`…(+${1_000_000 - MAX_NAME_CHARS} chars)`));
    const doc = toDocument(tracker.reports(), tracker.snapshot(), {
      waitgraph: "test",
    });
    const sizes = {
      text: renderText(r!).length,
      json: renderDocument(doc).length,
      sarif: renderSarif(tracker.reports()).length,
      dot: renderDot(doc).length,
      html: renderHtml(doc).length - renderHtml(emptyDocument()).length,
    };
    // Before: text 4.0 MB, JSON 16 MB, DOT 5.0 MB. Now a few KB each (the HTML page's own
    // assets are subtracted).
    for (const [renderer, size] of Object.entries(sizes))
      assert.ok(size < 64 * 1024, `${renderer}: ${size} characters`);
  });

  test("two long keys that share their first MAX_NAME_CHARS characters are still two classes, with distinct stable ids", async () => {
    const prefix = "p".repeat(MAX_NAME_CHARS);
    await abbaWith(`${prefix}-one`, `${prefix}-two`);
    const ids = tracker.snapshot().classes.map((c) => c.id);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
    assert.match(ids[0]!, /^key:p{200}…\(\+4 chars\)#[0-9a-f]{8}$/);
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
  });
});

function emptyDocument() {
  return toDocument([], { classes: [], edges: [] }, { waitgraph: "test" });
}
