// DOT output (frozen by test/golden/outputs/*.dot; UPDATE_GOLDEN=1 rewrites), the layered layout's
// invariants, and the HTML page as text (self-contained, escaped); the page in a browser is
// html-chromium.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Report } from "../../src/core/report.js";
import { toDocument } from "../../src/report/json.js";
import { renderDot } from "../../src/view/dot.js";
import { edgeLabel, viewGraph } from "../../src/view/graph.js";
import { renderHtml } from "../../src/view/html.js";
import { layout } from "../../src/view/layout.js";
import { fixtureDocument } from "./documents.js";

const golden = new URL("../golden/outputs/", import.meta.url);
const update = process.env["UPDATE_GOLDEN"] === "1";

function matchesGolden(name: string, text: string): void {
  const file = new URL(name, golden);
  if (update) writeFileSync(file, text);
  assert.ok(
    existsSync(file),
    `missing golden ${name}: run with UPDATE_GOLDEN=1`,
  );
  assert.equal(text, readFileSync(file, "utf8"));
}

test("DOT: ABBA, a read-lock chain and pool starvation render as their golden", () => {
  const doc = fixtureDocument((name) =>
    ["circular-abba", "circular-chain-read", "recursive-pool"].includes(name),
  );
  matchesGolden("cycles.dot", renderDot(doc));
});

test("DOT: each cycle's edges are coloured and numbered; the closing edge is dashed; an edge on two cycles has both colours", () => {
  const doc = fixtureDocument(
    (name) => name === "circular-abba" || name === "circular-chain-read",
  );
  const dot = renderDot(doc);
  const line = (from: string, to: string) =>
    dot
      .split("\n")
      .find((l) => l.startsWith(`  "key:${from}" -> "key:${to}" `));
  assert.equal(
    line("ledger", "account"),
    '  "key:ledger" -> "key:account" [label="#1", color="#d32f2f", penwidth=2.5, style=dashed, tooltip="src/ledger.ts:22:27"];',
  );
  assert.equal(
    line("audit-log", "account"),
    '  "key:audit-log" -> "key:account" [label="#2", color="#7b1fa2", penwidth=2.5, tooltip="src/audit.ts:9:11"];',
  );
  // Both fixtures' cycles run through account → ledger.
  assert.equal(
    line("account", "ledger"),
    '  "key:account" -> "key:ledger" [label="#1 #2", color="#d32f2f:#7b1fa2", penwidth=2.5, tooltip="src/bank.ts:13:26"];',
  );
});

test("DOT: names are quoted and escaped", () => {
  const doc = toDocument(
    [],
    {
      classes: [
        { id: 'key:a"b', name: 'a"b\\c', type: "mutex" },
        { id: "key:x", name: "x\ny", type: "mutex" },
      ],
      edges: [
        {
          from: 'a"b\\c',
          to: "x\ny",
          fromId: 'key:a"b',
          toId: "key:x",
          read: { SR: true, ER: false, SN: false, EN: false },
          stack: [],
          fromStack: [],
          timeout: true,
        },
      ],
    },
    { waitgraph: "test" },
  );
  const dot = renderDot(doc);
  assert.match(dot, /"key:a\\"b" \[label="a\\"b\\\\c\\nmutex"/);
  assert.match(dot, /"key:a\\"b" -> "key:x" \[label="SR", style=dotted\];/);
});

test("edge labels: nothing for a plain exclusive dependency, the bits otherwise", () => {
  const edge = (read: { SR: boolean; ER: boolean; SN: boolean; EN: boolean }) =>
    edgeLabel({
      from: "a",
      to: "b",
      read,
      stack: [],
      fromStack: [],
      timeout: false,
      closing: false,
      reports: [],
    });
  assert.equal(edge({ SR: false, ER: false, SN: false, EN: true }), "");
  assert.equal(edge({ SR: false, ER: false, SN: true, EN: true }), "SN EN");
  assert.equal(edge({ SR: true, ER: false, SN: false, EN: false }), "SR");
});

test("the view graph brings back each cycle's closing edge and a recursive lock's self-loop", () => {
  const doc = fixtureDocument(
    (name) => name === "circular-abba" || name === "recursive-pool",
  );
  const graph = viewGraph(doc.snapshot, doc.reports);
  const edges = graph.edges.map(
    (e) =>
      `${e.from} -> ${e.to}${e.closing ? " (closing)" : ""} [${e.reports}]`,
  );
  assert.deepEqual(edges.sort(), [
    "key:account -> key:ledger [0]",
    "key:ledger -> key:account (closing) [0]",
    "key:pg.Pool@src/db.ts:4:14 -> key:pg.Pool@src/db.ts:4:14 (closing) [1]",
  ]);
});

/** A seeded pseudo-random graph (mulberry32), so the layout tests are deterministic. */
function randomGraph(seed: number, n: number, m: number) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const sizes = Array.from({ length: n }, () => ({
    width: 60 + Math.floor(rand() * 200),
    height: 40,
  }));
  const edges: [number, number][] = Array.from({ length: m }, () => [
    Math.floor(rand() * n),
    Math.floor(rand() * n),
  ]);
  return { sizes, edges };
}

test("layout: deterministic, no overlapping nodes, forward edges rightwards, back edges leftwards", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const input = randomGraph(seed, 3 + (seed % 15), 2 + seed * 2);
    const a = layout(input);
    assert.deepEqual(layout(input), a, `seed ${seed}: not deterministic`);
    a.nodes.forEach((p, i) =>
      a.nodes
        .slice(i + 1)
        .forEach((q) =>
          assert.ok(
            p.x + p.width <= q.x ||
              q.x + q.width <= p.x ||
              p.y + p.height <= q.y ||
              q.y + q.height <= p.y,
            `seed ${seed}: nodes overlap`,
          ),
        ),
    );
    input.edges.forEach(([from, to], k) => {
      const e = a.edges[k]!;
      if (from === to) return assert.ok(e.selfLoop);
      const [p, q] = [a.nodes[from]!, a.nodes[to]!];
      assert.equal(
        e.reversed,
        p.layer > q.layer,
        `seed ${seed}: edge ${from} -> ${to}`,
      );
      assert.ok(
        p.layer !== q.layer,
        `seed ${seed}: edge ${from} -> ${to} within a layer`,
      );
      const xs = e.points.map((pt) => pt.x);
      const sorted = [...xs].sort((x, y) => (e.reversed ? y - x : x - y));
      assert.deepEqual(
        xs,
        sorted,
        `seed ${seed}: edge ${from} -> ${to} doubles back`,
      );
    });
    for (const p of a.nodes)
      assert.ok(
        p.x >= 0 &&
          p.y >= 0 &&
          p.x + p.width <= a.width &&
          p.y + p.height <= a.height,
      );
  }
});

test("layout: a cycle A → B → C → A lays out two edges forwards and one backwards", () => {
  const a = layout({
    sizes: [0, 1, 2].map(() => ({ width: 80, height: 40 })),
    edges: [
      [0, 1],
      [1, 2],
      [2, 0],
    ],
  });
  assert.deepEqual(
    a.edges.map((e) => e.reversed),
    [false, false, true],
  );
  assert.deepEqual(
    a.nodes.map((n) => n.layer),
    [0, 1, 2],
  );
  assert.equal(
    a.edges[2]!.points.length,
    3,
    "the back edge spans two layers: one waypoint",
  );
});

test("HTML: one self-contained file: no external URL, a CSP that forbids fetching, data escaped", () => {
  const [abba] = fixtureDocument((name) => name === "circular-abba").reports;
  const evil = {
    ...abba!,
    task: "</script><script>alert(1)</script>",
    text: "<b>&amp;</b>",
  } as Report;
  const doc = fixtureDocument((name) => name === "circular-abba");
  doc.reports = [evil];
  const html = renderHtml(doc);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">/,
  );
  const urls = html.match(/(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [];
  assert.deepEqual([...new Set(urls)], ["http://www.w3.org/2000/svg"]);
  assert.doesNotMatch(html, /<(?:link|img|iframe)\b|\bsrc=/);
  assert.equal(
    html.split("</script>").length - 1,
    2,
    "only the two script elements close",
  );
  assert.ok(
    html.includes("task &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
  );
  assert.equal(renderHtml(doc), html, "deterministic");
});

test("HTML: a document without classes says so instead of drawing", () => {
  const html = renderHtml(
    toDocument([], { classes: [], edges: [] }, { waitgraph: "test" }),
  );
  assert.match(html, /No lock classes were recorded\./);
  assert.match(html, /Nothing was reported\./);
});
