// The HTML view in a real browser: headless Chromium, driven by playwright-core. The
// page of a real run is loaded from a file: URL with the network cut off; the test checks that
// the reported cycles are drawn (their edges carry the highlight class), that the report list is
// the document's, that picking a report highlights its cycle, and that an edge shows its two
// acquisition sites. Screenshots go to artifacts/view/ (gitignored) for a person to look at.
//
// The browser comes with `npm install` (the @sparticuz/chromium package; see ./chromium.ts for
// the order it is looked for in, and CHROMIUM=path). Without one that starts, the test fails and
// says why — it does not skip.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import type { CircularDependencyReport } from "../../src/core/report.js";
import type { ReportDocument } from "../../src/report/json.js";
import { renderHtml } from "../../src/view/html.js";
import { launchChromium } from "./chromium.js";
import { record, root, shop } from "./documents.js";

const artifacts = join(root, "artifacts", "view");

let browser: BrowserContext;
let profile: string;
let doc: ReportDocument;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];

before(async () => {
  doc = await record(shop);
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, "shop.html");
  writeFileSync(file, renderHtml(doc));
  profile = mkdtempSync(join(tmpdir(), "waitgraph-chromium-"));
  // A fresh profile (playwright passes it as --user-data-dir).
  ({ context: browser } = await launchChromium(root, profile, {
    headless: true,
    viewport: { width: 1500, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  }));
  page = await browser.newPage();
  page.setDefaultTimeout(5000);
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.goto(pathToFileURL(file).href);
});

after(async () => {
  await browser?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

/** The edges of a report's cycle as `fromId -> toId`, closing edge last. */
function cycleEdges(r: CircularDependencyReport): string[] {
  const ids = r.cycle.map((c) => c.id);
  return ids.map((id, i) => `${id} -> ${ids[(i + 1) % ids.length]}`);
}

async function edgeClasses(): Promise<Map<string, string[]>> {
  const rows = await page.$$eval("#graph .edge", (els) =>
    els.map((el) => [
      `${el.getAttribute("data-from")} -> ${el.getAttribute("data-to")}`,
      el.getAttribute("class") ?? "",
    ]),
  );
  return new Map(rows.map(([k, v]) => [k!, v!.split(" ")]));
}

describe("the HTML view in headless Chromium", () => {
  test("the page loads nothing but itself and runs without errors", () => {
    assert.deepEqual(
      requests.filter((u) => !u.startsWith("file:")),
      [],
    );
    assert.equal(requests.length, 1);
    assert.deepEqual(problems, []);
  });

  test("the report list is the document's reports, in order", async () => {
    const items = await page.$$eval("#reports li", (els) =>
      els.map((el) => ({
        kind: el.querySelector(".kind")?.textContent,
        num: el.querySelector(".num")?.textContent,
      })),
    );
    assert.deepEqual(
      items,
      doc.reports.map((r, i) => ({ kind: r.kind, num: `#${i + 1}` })),
    );
  });

  test("every edge of every reported cycle carries the highlight class; the closing one is dashed", async () => {
    const classes = await edgeClasses();
    const circular = doc.reports.filter(
      (r): r is CircularDependencyReport => r.kind === "circular-dependency",
    );
    assert.equal(circular.length, 2);
    for (const r of circular) {
      const edges = cycleEdges(r);
      for (const e of edges)
        assert.ok(
          classes.get(e)?.includes("cycle"),
          `${e}: ${classes.get(e)?.join(" ")}`,
        );
      assert.ok(classes.get(edges[edges.length - 1]!)!.includes("closing"));
    }
    const highlighted = [...classes]
      .filter(([, c]) => c.includes("cycle"))
      .map(([k]) => k);
    const expected = new Set(circular.flatMap(cycleEdges));
    // The pool's self-loop (recursive locking) is highlighted too.
    const pool = doc.reports.find((r) => r.kind === "recursive-locking")!;
    if (pool.kind === "recursive-locking")
      expected.add(`${pool.next.id} -> ${pool.next.id}`);
    assert.deepEqual(highlighted.sort(), [...expected].sort());
    // And the drawn path of a cycle edge is red.
    const stroke = await page.$eval(
      "#graph .edge.cycle .line",
      (el) =>
        (
          globalThis as unknown as {
            getComputedStyle(e: unknown): { stroke: string };
          }
        ).getComputedStyle(el).stroke,
    );
    assert.equal(stroke, "rgb(207, 34, 46)");
  });

  test("picking a report selects exactly its cycle's edges and fades the rest", async () => {
    await page.screenshot({
      path: join(artifacts, "shop.png"),
      fullPage: true,
    });
    const i = doc.reports.findIndex(
      (r) => r.kind === "circular-dependency" && r.cycle.length === 3,
    );
    const report = doc.reports[i] as CircularDependencyReport;
    await page.click(`#reports li[data-report="${i}"]`);
    const selected = [...(await edgeClasses())]
      .filter(([, c]) => c.includes("selected"))
      .map(([k]) => k);
    assert.deepEqual(selected.sort(), cycleEdges(report).sort());
    assert.ok(await page.$eval("body", (b) => b.classList.contains("focus")));
    assert.equal(
      await page.$eval(`#reports li[data-report="${i}"]`, (li) => li.className),
      "active",
    );
    const details = await page.$eval("#details", (d) => d.textContent ?? "");
    assert.match(
      details,
      /WARNING: possible circular locking dependency detected/,
    );
    await page.screenshot({
      path: join(artifacts, "shop-report-selected.png"),
      fullPage: true,
    });
    // Picking it again clears the selection.
    await page.click(`#reports li[data-report="${i}"]`);
    assert.equal(await page.$$eval("#graph .selected", (els) => els.length), 0);
  });

  test("pointing at an edge shows its two acquisition sites; a click keeps them", async () => {
    const edge = doc.snapshot.edges.find(
      (e) => e.from === "account" && e.to === "ledger",
    )!;
    const selector = `#graph .edge[data-from="${edge.fromId}"][data-to="${edge.toId}"] .hit`;
    await page.hover(selector);
    const shown = await page.$eval("#details", (d) => d.innerText);
    const site = (f: { file: string; line: number; column: number }) =>
      `${f.file.slice(root.length + 1)}:${f.line}:${f.column}`;
    assert.match(shown, /^account → ledger$/m);
    assert.match(shown, /account taken \(held\) at/);
    assert.ok(shown.includes(site(edge.fromStack[0]!)), shown);
    assert.match(shown, /ledger taken while account was held, at/);
    assert.ok(shown.includes(site(edge.stack[0]!)), shown);
    await page.click(selector);
    await page.mouse.move(2, 2);
    assert.equal(
      await page.$eval("#details h3", (h) => h.textContent),
      "account → ledger",
    );
    assert.equal(
      await page.$$eval("#graph .edge.picked", (els) => els.length),
      1,
    );
    await page.screenshot({
      path: join(artifacts, "shop-edge-picked.png"),
      fullPage: true,
    });
  });

  test("no node overlaps another, and every node fits in the drawing", async () => {
    const boxes = await page.$$eval("#graph .node rect", (els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect();
        return { x: r.x, y: r.y, w: r.width, h: r.height };
      }),
    );
    const svg = await page.$eval("#graph", (el) => el.getBoundingClientRect());
    for (const [i, a] of boxes.entries()) {
      assert.ok(
        a.x >= svg.x &&
          a.y >= svg.y &&
          a.x + a.w <= svg.x + svg.width &&
          a.y + a.h <= svg.y + svg.height,
      );
      for (const b of boxes.slice(i + 1))
        assert.ok(
          a.x + a.w <= b.x ||
            b.x + b.w <= a.x ||
            a.y + a.h <= b.y ||
            b.y + b.h <= a.y,
          "overlap",
        );
    }
  });
});
