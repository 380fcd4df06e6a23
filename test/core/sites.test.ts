// Sites a report can be believed about. A held lock's `at` is the hold's own site whenever that
// is known for free (its acquisition was the first of its locking pattern, so the chain's trace
// is its own); otherwise it is the chain's first-seen site and the report says so. With
// `sites: 'every'` every acquisition records its own site, and no report needs the caveat.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Mutex, tracker, type Report } from "../../src/index.js";
import { settingsFromEnvironment } from "../../src/core/environment.js";
import {
  readDocument,
  renderDocument,
  toDocument,
} from "../../src/report/json.js";
import { toSarif } from "../../src/report/sarif.js";

beforeEach(() => {
  tracker.configure({ enabled: true, policy: "silent", sites: "first-seen" });
  tracker.reset();
});

// Each function takes its lock on its own line, so a frame's function name tells the sites apart.
async function logger(a: Mutex): Promise<void> {
  (await a.acquire())();
}
async function transfer(a: Mutex, b: Mutex): Promise<void> {
  const ra = await a.acquire();
  const rb = await b.acquire();
  rb();
  ra();
}
async function reverse(a: Mutex, b: Mutex): Promise<void> {
  const rb = await b.acquire();
  const ra = await a.acquire();
  ra();
  rb();
}

async function inversion(): Promise<Report> {
  const A = new Mutex({ key: "A" });
  const B = new Mutex({ key: "B" });
  await logger(A); // chain [A] first seen in logger()
  await reverse(A, B); // B → A
  await transfer(A, B); // holds A (chain [A], a cache hit) while taking B: closes the cycle
  const [report] = tracker.reports();
  assert.ok(report, "an inversion is reported");
  assert.equal(report.kind, "circular-dependency");
  return report;
}

test("by default a held lock whose locking pattern was first seen elsewhere is shown there, marked first-seen", async () => {
  const report = await inversion();
  assert.equal(report.kind, "circular-dependency");
  if (report.kind !== "circular-dependency") return;
  assert.equal(report.prev.name, "A");
  assert.equal(report.prev.site, "first-seen");
  assert.equal(report.prev.at[0]?.fn, "logger");
  assert.equal(
    report.next.site,
    undefined,
    "the lock being taken is always at its own site",
  );
  assert.equal(report.next.at[0]?.fn, "transfer");
  assert.match(report.text, /where this locking pattern was first seen/);
  const held = report.held.find((h) => h.name === "A");
  assert.equal(held?.site, "first-seen");
});

test("with sites: 'every' the held lock is shown where this hold took it, with no caveat", async () => {
  tracker.configure({ sites: "every" });
  const report = await inversion();
  if (report.kind !== "circular-dependency") return assert.fail(report.kind);
  assert.equal(report.prev.site, undefined);
  assert.equal(report.prev.at[0]?.fn, "transfer");
  assert.doesNotMatch(report.text, /first seen/);
});

test("a hold whose acquisition was the first of its pattern is exact by default", async () => {
  const A = new Mutex({ key: "A" });
  const B = new Mutex({ key: "B" });
  await reverse(A, B);
  await transfer(A, B); // chain [A] is new here: its trace is this hold's
  const [report] = tracker.reports();
  if (report?.kind !== "circular-dependency")
    return assert.fail(String(report?.kind));
  assert.equal(report.prev.site, undefined);
  assert.equal(report.prev.at[0]?.fn, "transfer");
});

test("the first-seen mark is in JSON (schema-valid) and SARIF says it plainly", async () => {
  const report = await inversion();
  const doc = toDocument([report], tracker.snapshot(), { waitgraph: "test" });
  const back = readDocument(renderDocument(doc));
  const prev = (back.reports[0] as typeof report & { prev: { site?: string } })
    .prev;
  assert.equal(prev.site, "first-seen");
  const sarif = JSON.stringify(toSarif([report], {}));
  assert.match(
    sarif,
    /when this locking pattern was first seen \(not necessarily by this hold/,
  );
});

test("sites is checked, and WAITGRAPH_SITES sets it", async () => {
  assert.throws(
    () => tracker.configure({ sites: "all" as never }),
    (e: Error & { code?: string }) =>
      e.code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
      /'first-seen' or 'every'/.test(e.message),
  );
  assert.equal(
    settingsFromEnvironment({ WAITGRAPH_SITES: "every" }).sites,
    "every",
  );
  assert.equal(
    settingsFromEnvironment({ WAITGRAPH_SITES: " First-Seen " }).sites,
    "first-seen",
  );
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  try {
    assert.equal(
      settingsFromEnvironment({ WAITGRAPH_SITES: "al" }).sites,
      undefined,
    );
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", onWarning);
  }
  assert.ok(
    warnings.some((w) => w.includes('WAITGRAPH_SITES="al"')),
    JSON.stringify(warnings),
  );
});
