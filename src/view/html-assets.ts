// The style sheet and the script of the HTML view, inlined into every page (no network: the
// page's Content-Security-Policy forbids loading anything). The script only toggles classes on
// the SVG that html.ts drew and fills the details panel with textContent, never with markup.

export const STYLE = `
:root {
  --fg: #1f2328; --muted: #656d76; --line: #8c959f; --bg: #ffffff; --panel: #f6f8fa;
  --border: #d0d7de; --cycle: #cf222e; --select: #8250df; --pick: #0969da;
  --mono: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body {
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg);
  display: grid; grid-template-rows: auto 1fr; grid-template-columns: minmax(0, 1fr) 440px;
}
header { grid-column: 1 / 3; padding: 10px 16px; border-bottom: 1px solid var(--border);
  display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0; }
header .summary { color: var(--muted); }
.legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; margin-left: auto; }
.legend svg { vertical-align: middle; }
#canvas { overflow: auto; padding: 8px; }
#canvas .empty { color: var(--muted); padding: 24px; }
aside { border-left: 1px solid var(--border); background: var(--panel); overflow: auto;
  display: flex; flex-direction: column; }
aside h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  margin: 12px 14px 6px; }
#reports { list-style: none; margin: 0; padding: 0 8px; }
#reports li { padding: 7px 8px; border: 1px solid transparent; border-radius: 6px; cursor: pointer;
  margin-bottom: 2px; }
#reports li:hover { background: #eaeef2; }
#reports li.active { background: #fff; border-color: var(--select); }
#reports li:focus-visible { outline: 2px solid var(--pick); }
#reports .kind { font-weight: 600; }
#reports .kind.circular-dependency, #reports .kind.recursive-locking { color: var(--cycle); }
#reports .num { color: var(--muted); font-family: var(--mono); margin-right: 6px; }
#reports .classes, #reports .site { font-family: var(--mono); font-size: 12px; color: var(--muted);
  overflow-wrap: anywhere; }
#reports .none { color: var(--muted); padding: 4px 8px; cursor: default; }
#details { margin: 0 14px 14px; }
#details h3 { font-size: 13px; margin: 4px 0 6px; font-family: var(--mono); overflow-wrap: anywhere; }
#details .hint { color: var(--muted); }
#details dl { margin: 0; }
#details dt { font-weight: 600; margin-top: 8px; }
#details dd { margin: 2px 0 0 0; font-family: var(--mono); font-size: 12px; overflow-wrap: anywhere; }
#details dd div { padding-left: 1em; text-indent: -1em; }
#details pre { font-family: var(--mono); font-size: 11px; background: #fff; border: 1px solid var(--border);
  border-radius: 6px; padding: 8px; overflow: auto; white-space: pre; }
svg text { font-family: var(--mono); }
.node rect { fill: #fff; stroke: var(--line); stroke-width: 1.2; rx: 6; }
.node .name { font-size: 12px; fill: var(--fg); }
.node .type { font-size: 10px; fill: var(--muted); }
.node.reported rect { stroke: var(--cycle); stroke-width: 2; fill: #fff5f5; }
.edge .line { fill: none; stroke: var(--line); stroke-width: 1.4; marker-end: url(#arrow); pointer-events: none; }
.edge .hit { fill: none; stroke: transparent; stroke-width: 12; cursor: pointer; }
.edge .label { font-size: 10px; fill: var(--muted); paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.edge.timed .line { stroke-dasharray: 2 3; }
.edge.cycle .line { stroke: var(--cycle); stroke-width: 2.4; marker-end: url(#arrow-cycle); }
.edge.cycle .label { fill: var(--cycle); }
.edge.closing .line { stroke-dasharray: 7 4; }
.edge:hover .line, .edge.picked .line { stroke: var(--pick); stroke-width: 3; marker-end: url(#arrow-pick); }
body.focus .node:not(.selected), body.focus .edge:not(.selected) { opacity: .25; }
.node.selected rect { stroke: var(--select); stroke-width: 2.5; }
.edge.selected .line { stroke: var(--select); stroke-width: 3.2; marker-end: url(#arrow-select); }
.edge.selected .label { fill: var(--select); }
`;

export const SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("waitgraph-data").textContent);
  var edges = Array.prototype.slice.call(document.querySelectorAll("#graph .edge"));
  var nodes = Array.prototype.slice.call(document.querySelectorAll("#graph .node"));
  var items = Array.prototype.slice.call(document.querySelectorAll("#reports li[data-report]"));
  var details = document.getElementById("details");
  var selected = -1;
  var pinned = -1;

  function reportsOf(el) {
    var s = el.getAttribute("data-reports") || "";
    return s === "" ? [] : s.split(" ").map(Number);
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function frames(list) {
    var dd = el("dd");
    if (list.length === 0) dd.appendChild(el("div", "(not recorded)"));
    list.forEach(function (f) { dd.appendChild(el("div", f)); });
    return dd;
  }
  function clear() { while (details.firstChild) details.removeChild(details.firstChild); }

  function showHint() {
    clear();
    details.appendChild(el("p", data.reports.length > 0
      ? "Pick a report to highlight its cycle. Point at an edge to see where each of its two locks was taken; click it to keep it here."
      : "Point at an edge to see where each of its two locks was taken; click it to keep it here.", "hint"));
  }
  function showReport(i) {
    var r = data.reports[i];
    clear();
    details.appendChild(el("h3", "#" + (i + 1) + " " + r.kind));
    if (r.cycle.length > 0) {
      var dl = el("dl");
      dl.appendChild(el("dt", "cycle"));
      dl.appendChild(frames([r.cycle.join(" \\u2192 ") + " \\u2192 " + r.cycle[0]]));
      details.appendChild(dl);
    }
    details.appendChild(el("pre", r.text));
  }
  function showEdge(k) {
    var e = data.edges[k];
    clear();
    details.appendChild(el("h3", e.from + " \\u2192 " + e.to));
    var dl = el("dl");
    dl.appendChild(el("dt", e.from + " taken (held) at"));
    dl.appendChild(frames(e.fromStack));
    dl.appendChild(el("dt", e.to + " taken while " + e.from + " was held, at"));
    dl.appendChild(frames(e.stack));
    dl.appendChild(el("dt", "dependency"));
    dl.appendChild(frames([e.describe]));
    if (e.reports.length > 0) {
      dl.appendChild(el("dt", "on the cycle of"));
      dl.appendChild(frames(e.reports.map(function (i) { return "#" + (i + 1) + " " + data.reports[i].kind; })));
    }
    details.appendChild(dl);
  }
  function restore() {
    if (pinned !== -1) showEdge(pinned);
    else if (selected !== -1) showReport(selected);
    else showHint();
  }

  function select(i) {
    selected = selected === i ? -1 : i;
    document.body.classList.toggle("focus", selected !== -1);
    nodes.concat(edges).forEach(function (g) {
      g.classList.toggle("selected", selected !== -1 && reportsOf(g).indexOf(selected) !== -1);
    });
    items.forEach(function (li, k) {
      li.classList.toggle("active", k === selected);
      li.setAttribute("aria-selected", String(k === selected));
    });
    pin(-1);
  }
  function pin(k) {
    pinned = pinned === k ? -1 : k;
    edges.forEach(function (g, j) { g.classList.toggle("picked", j === pinned); });
    restore();
  }

  items.forEach(function (li) {
    var i = Number(li.getAttribute("data-report"));
    li.addEventListener("click", function () { select(i); });
    li.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(i); }
    });
  });
  edges.forEach(function (g) {
    var k = Number(g.getAttribute("data-edge"));
    g.addEventListener("mouseenter", function () { showEdge(k); });
    g.addEventListener("mouseleave", restore);
    g.addEventListener("click", function (ev) { ev.stopPropagation(); pin(k); });
  });
  showHint();
})();
`;
