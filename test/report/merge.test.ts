// Merging documents: the union of graphs by stable class id, checked again as one graph. The
// verdicts of a merge must be the verdicts of one run that did everything the inputs did:
// each case below records its scenarios as separate documents (separate "processes"), merges
// them, and compares with the same scenarios run in one tracker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Mutex, RwLock, task } from "../../src/index.js";
import type { CircularDependencyReport } from "../../src/core/report.js";
import {
  readDocument,
  renderDocument,
  type ReportDocument,
} from "../../src/report/json.js";
import { mergeDocuments } from "../../src/report/merge.js";
import { record } from "../view/documents.js";

type Scenario = () => Promise<void>;

/** Locks with string keys: the same class (and id) in every recorded document. */
const m = (key: string) => new Mutex({ key });
const rw = (key: string, recursiveRead = false) =>
  new RwLock({ key, recursiveRead });

async function nest(...steps: (() => Promise<() => void>)[]): Promise<void> {
  const releases: (() => void)[] = [];
  for (const step of steps) releases.push(await step());
  for (const release of releases.reverse()) release();
}

const take = (lock: Mutex) => () => lock.acquire();
const read = (lock: RwLock) => () => lock.acquireRead();
const write = (lock: RwLock) => () => lock.acquireWrite();

/** One task per scenario, named after it. */
function inTask(name: string, fn: Scenario): Scenario {
  return () => task(name, fn);
}

function merge(...docs: ReportDocument[]) {
  return mergeDocuments(
    docs.map((document, i) => ({ source: `run-${i + 1}.json`, document })),
    { waitgraph: "test" },
  );
}

function cycles(doc: ReportDocument): string[] {
  return doc.reports
    .filter(
      (r): r is CircularDependencyReport => r.kind === "circular-dependency",
    )
    .map((r) => r.id)
    .sort();
}

/** The verdicts of a merge of one document per scenario against one run of all of them. */
async function compare(
  scenarios: Scenario[],
): Promise<{ merged: string[]; single: string[] }> {
  const docs: ReportDocument[] = [];
  for (const s of scenarios) docs.push(await record(s));
  const single = await record(async () => {
    for (const s of scenarios) await s();
  });
  return { merged: cycles(merge(...docs).document), single: cycles(single) };
}

test("an ABBA spread over two runs is found by the merge, with the id one run gives it", async () => {
  const first = await record(
    inTask("file-1", () => nest(take(m("A")), take(m("B")))),
  );
  const second = await record(
    inTask("file-2", () => nest(take(m("B")), take(m("A")))),
  );
  assert.deepEqual(first.reports, []);
  assert.deepEqual(second.reports, []);
  const { document, found } = merge(first, second);
  assert.equal(found.length, 1);
  const report = found[0]!;
  assert.equal(report.id, "circular-dependency:key:A -> key:B");
  assert.deepEqual(
    report.cycle.map((c) => c.name),
    ["A", "B"],
  );
  assert.deepEqual([report.prev.name, report.next.name], ["B", "A"]);
  assert.equal(report.task, "run-2.json");
  // Both acquisition sites of the closing edge come from the second run's snapshot.
  assert.ok(report.next.at.length > 0 && report.prev.at.length > 0);
  assert.match(
    report.text,
    /^WARNING: possible circular locking dependency detected$/m,
  );
  assert.match(
    report.text,
    /found by waitgraph merge .*\n {2}A -> B: run-1\.json\n {2}B -> A: run-2\.json \(closes the cycle\)$/,
  );
  assert.deepEqual(document.reports, [report]);
  const { single } = await compare([
    () => nest(take(m("A")), take(m("B"))),
    () => nest(take(m("B")), take(m("A"))),
  ]);
  assert.deepEqual(single, [report.id]);
});

test("the merged graph keeps the union's edges but never the one that closes a cycle", async () => {
  const first = await record(() => nest(take(m("A")), take(m("B"))));
  const second = await record(() => nest(take(m("B")), take(m("A"))));
  const { document } = merge(first, second);
  assert.deepEqual(
    document.snapshot.edges
      .map((e) => `${e.from} -> ${e.to}`)
      .filter((e) => !e.startsWith("task")),
    ["A -> B"],
  );
  assert.deepEqual(document.snapshot.classes.map((c) => c.id).sort(), [
    "key:A",
    "key:B",
  ]);
});

test("a cycle an input already reported is not reported again", async () => {
  const both = await record(async () => {
    await nest(take(m("A")), take(m("B")));
    await nest(take(m("B")), take(m("A")));
  });
  assert.equal(both.reports.length, 1);
  const other = await record(() => nest(take(m("B")), take(m("A"))));
  const { document, found } = merge(both, other);
  assert.deepEqual(found, []);
  assert.deepEqual(
    document.reports.map((r) => r.id),
    [both.reports[0]!.id],
  );
});

test("a three-class cycle over three runs", async () => {
  const { merged, single } = await compare([
    () => nest(take(m("A")), take(m("B"))),
    () => nest(take(m("B")), take(m("C"))),
    () => nest(take(m("C")), take(m("A"))),
  ]);
  assert.deepEqual(merged, ["circular-dependency:key:A -> key:B -> key:C"]);
  assert.deepEqual(merged, single);
});

test("read locks: the merge gives the verdict one run gives (lockdep's strong paths, from the core)", async () => {
  const cases: [string, Scenario[], number][] = [
    // Recursive readers both ways: R(X)→R(Y), R(Y)→R(X) is no deadlock.
    [
      "recursive read both ways",
      [
        () => nest(read(rw("X", true)), read(rw("Y", true))),
        () => nest(read(rw("Y", true)), read(rw("X", true))),
      ],
      0,
    ],
    // Writers both ways: a deadlock.
    [
      "write both ways",
      [
        () => nest(write(rw("X")), write(rw("Y"))),
        () => nest(write(rw("Y")), write(rw("X"))),
      ],
      1,
    ],
    // W(X)→R(Y) and W(Y)→R(X) with non-recursive readers: a deadlock (a queued writer blocks readers).
    [
      "write then read, crossed",
      [
        () => nest(write(rw("X")), read(rw("Y"))),
        () => nest(write(rw("Y")), read(rw("X"))),
      ],
      1,
    ],
    // W(X)→rR(Y), R(Y)→W(Z)... a recursive read followed by a shared hold breaks the path.
    [
      "xR then Sx",
      [
        () => nest(write(rw("X", true)), read(rw("Y", true))),
        () => nest(read(rw("Y", true)), write(rw("Z", true))),
        () => nest(write(rw("Z", true)), write(rw("X", true))),
      ],
      0,
    ],
    // The same with a writer in the middle is strong.
    [
      "xN then Sx",
      [
        () => nest(write(rw("X")), write(rw("Y"))),
        () => nest(read(rw("Y")), write(rw("Z"))),
        () => nest(write(rw("Z")), write(rw("X"))),
      ],
      1,
    ],
  ];
  for (const [name, scenarios, expected] of cases) {
    const { merged, single } = await compare(scenarios);
    assert.equal(
      single.length,
      expected,
      `${name}: one run reports ${single.length}`,
    );
    assert.deepEqual(
      merged,
      single,
      `${name}: merge ${merged.join(", ")} vs one run ${single.join(", ")}`,
    );
  }
});

test("an edge seen in two runs carries the union of its read/write bits", async () => {
  const first = await record(() => nest(write(rw("P")), write(rw("Q"))));
  const second = await record(() => nest(read(rw("P")), read(rw("Q"))));
  const { document } = merge(first, second);
  const edge = document.snapshot.edges.find(
    (e) => e.fromId === "key:P" && e.toId === "key:Q",
  )!;
  assert.deepEqual(edge.read, { SR: false, ER: false, SN: true, EN: true });
});

test("a dependency timed in every run is not a deadlock; untimed in one run, it is", async () => {
  const first = await record(() => nest(take(m("T1")), take(m("T2"))));
  const second = await record(() => nest(take(m("T2")), take(m("T1"))));
  const timed = structuredClone(second);
  for (const e of timed.snapshot.edges) e.timeout = true;
  assert.deepEqual(merge(first, timed).found, []);
  const both = structuredClone(first);
  both.snapshot.edges.push(
    ...structuredClone(second.snapshot.edges).filter(
      (e) => e.fromId === "key:T2",
    ),
  );
  for (const e of both.snapshot.edges)
    if (e.fromId === "key:T2") e.timeout = true;
  assert.equal(merge(both, second).found.length, 1);
});

test("meta lists the inputs; the root is kept when all inputs share it", async () => {
  const a = await record(() => nest(take(m("A")), take(m("B"))));
  const b = await record(() => nest(take(m("B")), take(m("C"))));
  const { document } = merge(a, b);
  assert.equal(document.meta.root, a.meta.root);
  assert.deepEqual(
    document.meta.merged!.map((x) => [x.source, x.reports]),
    [
      ["run-1.json", 0],
      ["run-2.json", 0],
    ],
  );
  const elsewhere = { ...b, meta: { ...b.meta, root: "/elsewhere" } };
  assert.equal(merge(a, elsewhere).document.meta.root, undefined);
});

test("a merged document is itself a valid document, and merging it again changes nothing", async () => {
  const a = await record(() => nest(take(m("A")), take(m("B"))));
  const b = await record(() => nest(take(m("B")), take(m("A"))));
  const once = merge(a, b).document;
  const read = readDocument(renderDocument(once));
  assert.deepEqual(read, once);
  const twice = merge(read).document;
  assert.deepEqual(twice.reports, once.reports);
  assert.deepEqual(twice.snapshot, once.snapshot);
});

test("merging is deterministic: the same inputs in the same order give the same bytes", async () => {
  const a = await record(() => nest(take(m("A")), take(m("B"))));
  const b = await record(() => nest(take(m("B")), take(m("C"))));
  const c = await record(() => nest(take(m("C")), take(m("A"))));
  assert.equal(
    renderDocument(merge(a, b, c).document),
    renderDocument(merge(a, b, c).document),
  );
});
