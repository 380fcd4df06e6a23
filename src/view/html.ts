// One self-contained HTML page: the class graph as inline SVG (laid out here, by ./layout.ts),
// the reports beside it, and a details panel. Nothing is loaded from anywhere: the style sheet
// and the script are inline and the page's Content-Security-Policy forbids every fetch, so it
// opens the same from a CI artefact, an e-mail or a laptop without network.
//
// Every edge on a reported cycle carries the class `cycle` (red); a closing edge — the one the
// validator refused — also `closing` (dashed). Picking a report adds `selected` to its cycle's
// edges and classes and fades the rest. Pointing at an edge shows its two acquisition sites:
// where the held class was taken and where the other was taken under it; a click keeps them.
import { isAbsolute, relative } from "node:path";
import type { Report, SourceFrame } from "../core/report.js";
import type { ReportDocument } from "../report/json.js";
import { STYLE, SCRIPT } from "./html-assets.js";
import { edgeLabel, readBits, viewGraph, type ViewEdge } from "./graph.js";
import { layout, type LayoutEdge, type Point } from "./layout.js";

export interface HtmlOptions {
  /** The page title (default: `waitgraph: <n> reports`). */
  title?: string;
}

const NODE_HEIGHT = 40;
const CHAR = 7.3;
const MAX_NAME = 52;

export function renderHtml(
  document: ReportDocument,
  options: HtmlOptions = {},
): string {
  const root = document.meta.root;
  const graph = viewGraph(document.snapshot, document.reports);
  const position = new Map(graph.nodes.map((node, i) => [node.id, i]));
  const index = (id: string): number => position.get(id)!;
  const labels = graph.nodes.map((n) => ({
    name: shorten(n.name),
    type: n.type,
  }));
  const placed = layout({
    sizes: labels.map((l) => ({
      width: Math.round(
        Math.max(90, l.name.length * CHAR + 24, l.type.length * 6.2 + 24),
      ),
      height: NODE_HEIGHT,
    })),
    edges: graph.edges.map((e) => [index(e.from), index(e.to)] as const),
  });
  const nameOf = new Map(graph.nodes.map((n) => [n.id, n.name]));
  const n = document.reports.length;
  const title = options.title ?? `waitgraph: ${n} report${n === 1 ? "" : "s"}`;

  const svg: string[] = [];
  if (graph.nodes.length > 0) {
    svg.push(
      `<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="${placed.width}" height="${placed.height}" viewBox="0 0 ${placed.width} ${placed.height}" role="img" aria-label="class graph">`,
      "<defs>",
      marker("arrow", "#8c959f"),
      marker("arrow-cycle", "#cf222e"),
      marker("arrow-select", "#8250df"),
      marker("arrow-pick", "#0969da"),
      "</defs>",
    );
    graph.edges.forEach((e, k) => {
      const route = placed.edges[k]!;
      const box = placed.nodes[index(e.from)]!;
      const d = route.selfLoop ? selfLoop(box) : path(route);
      const classes = [
        "edge",
        e.reports.length > 0 ? "cycle" : "",
        e.closing ? "closing" : "",
        e.timeout ? "timed" : "",
      ].filter((c) => c !== "");
      const label = edgeLabel(e);
      const at = route.selfLoop
        ? { x: box.x + box.width + 14, y: box.y - 10 }
        : labelPoint(route);
      svg.push(
        `<g class="${classes.join(" ")}" data-edge="${k}" data-from="${attr(e.from)}" data-to="${attr(e.to)}" data-reports="${e.reports.join(" ")}">`,
        `<title>${text(`${nameOf.get(e.from)} → ${nameOf.get(e.to)}`)}</title>`,
        `<path class="hit" d="${d}"/>`,
        `<path class="line" d="${d}"/>`,
        label !== ""
          ? `<text class="label" x="${r(at.x)}" y="${r(at.y - 4)}" text-anchor="middle">${text(label)}</text>`
          : "",
        "</g>",
      );
    });
    graph.nodes.forEach((node, i) => {
      const box = placed.nodes[i]!;
      const cx = r(box.x + box.width / 2);
      svg.push(
        `<g class="node${node.reports.length > 0 ? " reported" : ""}" data-node="${attr(node.id)}" data-reports="${node.reports.join(" ")}">`,
        `<title>${text(`${node.name} (${node.type})\n${node.id}`)}</title>`,
        `<rect x="${r(box.x)}" y="${r(box.y)}" width="${r(box.width)}" height="${r(box.height)}" rx="6"/>`,
        `<text class="name" x="${cx}" y="${r(box.y + 17)}" text-anchor="middle">${text(labels[i]!.name)}</text>`,
        `<text class="type" x="${cx}" y="${r(box.y + 31)}" text-anchor="middle">${text(node.type)}</text>`,
        "</g>",
      );
    });
    svg.push("</svg>");
  } else svg.push(`<p class="empty">No lock classes were recorded.</p>`);

  const data = {
    reports: document.reports.map((rep) => ({
      kind: rep.kind,
      id: rep.id,
      text: rep.text,
      cycle:
        rep.kind === "circular-dependency" ? rep.cycle.map((c) => c.name) : [],
    })),
    edges: graph.edges.map((e) => ({
      from: nameOf.get(e.from),
      to: nameOf.get(e.to),
      stack: e.stack.map((f) => frame(f, root)),
      fromStack: e.fromStack.map((f) => frame(f, root)),
      describe: describeEdge(e),
      reports: e.reports,
    })),
  };

  const summary = `${graph.nodes.length} class${graph.nodes.length === 1 ? "" : "es"}, ${
    document.snapshot.edges.length
  } dependenc${document.snapshot.edges.length === 1 ? "y" : "ies"}, ${n} report${n === 1 ? "" : "s"}`;
  const from = document.meta.merged
    ? ` · merged from ${document.meta.merged.map((m) => m.source).join(", ")}`
    : "";
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="waitgraph ${attr(document.meta.waitgraph)}">`,
    `<title>${text(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    "<header>",
    `<h1>${text(title)}</h1>`,
    `<span class="summary">${text(summary + from)}</span>`,
    legend(),
    "</header>",
    `<main id="canvas">${svg.join("\n")}</main>`,
    "<aside>",
    "<h2>Reports</h2>",
    `<ol id="reports">${reportItems(document.reports, root)}</ol>`,
    "<h2>Details</h2>",
    '<div id="details" aria-live="polite"></div>',
    "</aside>",
    `<script type="application/json" id="waitgraph-data">${json(data)}</script>`,
    `<script>${SCRIPT}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

function reportItems(
  reports: readonly Report[],
  root: string | undefined,
): string {
  if (reports.length === 0)
    return '<li class="none">Nothing was reported.</li>';
  return reports
    .map((rep, i) => {
      const classes =
        rep.kind === "circular-dependency"
          ? [...rep.cycle, rep.cycle[0]!].map((c) => c.name).join(" → ")
          : rep.classes.join(", ");
      const site = rep.stack[0];
      return [
        `<li data-report="${i}" tabindex="0" role="option" aria-selected="false">`,
        `<div><span class="num">#${i + 1}</span><span class="kind ${attr(rep.kind)}">${text(rep.kind)}</span></div>`,
        classes !== "" ? `<div class="classes">${text(classes)}</div>` : "",
        `<div class="site">${text(`task ${rep.task}${site !== undefined ? ` · ${frame(site, root)}` : ""}`)}</div>`,
        "</li>",
      ].join("");
    })
    .join("\n");
}

function legend(): string {
  const line = (stroke: string, dash = "") =>
    `<svg width="28" height="10"><line x1="1" y1="5" x2="27" y2="5" stroke="${stroke}" stroke-width="2"${dash !== "" ? ` stroke-dasharray="${dash}"` : ""}/></svg>`;
  return [
    '<div class="legend">',
    `<span>${line("#8c959f")} B taken while A held</span>`,
    `<span>${line("#cf222e")} on a reported cycle</span>`,
    `<span>${line("#cf222e", "7 4")} closes it (refused)</span>`,
    "<span>SR ER SN: read-lock bits</span>",
    "</div>",
  ].join("");
}

function describeEdge(e: ViewEdge): string {
  if (e.read === undefined)
    return "refused by the validator: it closes the reported cycle";
  const bits = readBits(e.read);
  const plain = edgeLabel(e) === "";
  return (
    `${bits.join(" ")}${plain ? " (exclusive under exclusive)" : ""}` +
    (e.timeout ? "; every wait on it had a timeout" : "")
  );
}

/** `fn (path:line:col)` with the path relative to the root when it is below it. */
function frame(f: SourceFrame, root: string | undefined): string {
  let file = f.file;
  if (root !== undefined && isAbsolute(file)) {
    const rel = relative(root, file);
    if (!rel.startsWith("..") && !isAbsolute(rel)) file = rel;
  }
  const where = `${file}:${f.line}:${f.column}`;
  return f.fn === "" || f.fn === "<anonymous>" ? where : `${f.fn} (${where})`;
}

function marker(id: string, colour: string): string {
  return `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`;
}

/** A smooth path through the route's points, horizontal at each one. */
function path(route: LayoutEdge): string {
  const pts = route.points;
  // A back edge straight between neighbouring columns bows downwards, away from its twin.
  const bow = route.reversed && pts.length === 2 ? 26 : 0;
  let d = `M${r(pts[0]!.x)},${r(pts[0]!.y)}`;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    const dx = (b.x - a.x) / 2;
    d += ` C${r(a.x + dx)},${r(a.y + bow)} ${r(b.x - dx)},${r(b.y + bow)} ${r(b.x)},${r(b.y)}`;
  }
  return d;
}

function labelPoint(route: LayoutEdge): Point {
  const pts = route.points;
  if (pts.length % 2 === 1) return pts[(pts.length - 1) / 2]!;
  const a = pts[pts.length / 2 - 1]!;
  const b = pts[pts.length / 2]!;
  const bow = route.reversed && pts.length === 2 ? 26 * 0.75 : 0;
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + bow };
}

/** A loop from the top of a node to its right side (a class taken under itself). */
function selfLoop(box: {
  x: number;
  y: number;
  width: number;
  height: number;
}): string {
  const sx = box.x + box.width - 28;
  const ey = box.y + box.height / 2 - 6;
  const ex = box.x + box.width;
  return `M${r(sx)},${r(box.y)} C${r(sx)},${r(box.y - 34)} ${r(ex + 34)},${r(ey)} ${r(ex)},${r(ey)}`;
}

function shorten(name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - 1)}…`;
}

function r(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Text content of an HTML or SVG element. */
function text(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A double-quoted attribute value. */
function attr(s: string): string {
  return text(s).replace(/"/g, "&quot;");
}

/** JSON inside <script>: nothing in it can close the element or start a comment. */
function json(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
