// `waitgraph report`, `view`, `merge` and `stats`, run in this process against documents in a
// scratch folder: their outputs, exit codes, and the exit code 2 with a one-line reason for a
// missing file, a file that is not a document, an unknown format.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mutex } from "../../src/index.js";
import {
  readDocument,
  renderDocument,
  type ReportDocument,
} from "../../src/report/json.js";
import { cli, record, shop } from "../view/documents.js";

let dir = "";
let shopDoc: ReportDocument;

const m = (key: string) => new Mutex({ key });
async function nest(a: Mutex, b: Mutex): Promise<void> {
  const ra = await a.acquire();
  const rb = await b.acquire();
  rb();
  ra();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "waitgraph-cli-"));
  shopDoc = await record(shop);
  writeFileSync(join(dir, "shop.json"), renderDocument(shopDoc));
  writeFileSync(
    join(dir, "ab.json"),
    renderDocument(await record(() => nest(m("A"), m("B")))),
  );
  writeFileSync(
    join(dir, "ba.json"),
    renderDocument(await record(() => nest(m("B"), m("A")))),
  );
  writeFileSync(
    join(dir, "bc.json"),
    renderDocument(await record(() => nest(m("B"), m("C")))),
  );
  writeFileSync(
    join(dir, "broken.json"),
    '{"schema": "waitgraph/report@2", "reports": 3}',
  );
  writeFileSync(join(dir, "not-json.json"), "waitgraph: 1 report\n");
  mkdirSync(join(dir, "folder.json"));
});

after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...argv: string[]) => cli(argv, dir);

describe("waitgraph report", () => {
  test("prints every report's text, numbered, then a summary; exit 1 when there are reports", async () => {
    const r = await run("report", "shop.json");
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "");
    for (const [i, rep] of shopDoc.reports.entries())
      assert.ok(r.stdout.includes(`#${i + 1} ${rep.kind}\n${rep.text}\n`));
    assert.match(
      r.stdout,
      /\nwaitgraph: 4 reports: 2 circular-dependency, 1 recursive-locking, 1 held-at-task-end\n$/,
    );
  });

  test("exit 0 and `no reports` for a clean document", async () => {
    const r = await run("report", "ab.json");
    assert.deepEqual([r.code, r.stdout], [0, "waitgraph: no reports\n"]);
  });

  test("--format json writes the document back, checked", async () => {
    const r = await run("report", "--format", "json", "shop.json");
    assert.deepEqual(readDocument(r.stdout), shopDoc);
  });

  test("--format sarif -o FILE writes SARIF with paths relative to the run's root", async () => {
    const r = await run(
      "report",
      "-f",
      "sarif",
      "-o",
      "out/shop.sarif",
      "shop.json",
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const sarif = JSON.parse(
      readFileSync(join(dir, "out/shop.sarif"), "utf8"),
    ) as {
      version: string;
      runs: {
        results: {
          locations: {
            physicalLocation: { artifactLocation: { uri: string } };
          }[];
        }[];
      }[];
    };
    assert.equal(sarif.version, "2.1.0");
    assert.equal(sarif.runs[0]!.results.length, 4);
    assert.equal(
      sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation
        .uri,
      "test/view/documents.ts",
    );
  });

  test("an unknown format is a usage error (exit 2) that lists the formats", async () => {
    const r = await run("report", "--format", "xml", "shop.json");
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^waitgraph: unknown format "xml" \(formats: text, json, sarif\)\n/,
    );
  });

  test("no document, or two, is a usage error", async () => {
    assert.match(
      (await run("report")).stderr,
      /missing the document: waitgraph report <doc\.json>/,
    );
    const two = await run("report", "ab.json", "ba.json");
    assert.equal(two.code, 2);
    assert.match(
      two.stderr,
      /expected one document, got 2: ab\.json ba\.json \(to combine several, use waitgraph merge\)/,
    );
  });
});

describe("bad input files end with exit code 2 and say why", () => {
  for (const command of ["report", "view", "stats", "merge"]) {
    test(`${command}: a missing file`, async () => {
      const r = await run(command, "nope.json");
      assert.deepEqual([r.code, r.stdout], [2, ""]);
      assert.equal(r.stderr, "waitgraph: nope.json: no such file\n");
    });
  }

  test("a folder", async () => {
    const r = await run("stats", "folder.json");
    assert.deepEqual(
      [r.code, r.stderr],
      [2, "waitgraph: folder.json: expected a JSON file, got a folder\n"],
    );
  });

  test("a file that is not JSON", async () => {
    const r = await run("view", "not-json.json");
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^waitgraph: not-json\.json: Expected a JSON document \(waitgraph\/report@2\), got text that is not JSON/,
    );
  });

  test("a document of the wrong shape names the field, what was expected and what was found", async () => {
    const r = await run("merge", "ab.json", "broken.json");
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "waitgraph: broken.json: Expected `meta` to be an object, got nothing\n",
    );
  });
});

describe("waitgraph view", () => {
  test("writes <doc>.html beside the document by default", async () => {
    const r = await run("view", "shop.json");
    assert.equal(r.code, 0);
    assert.equal(
      r.stderr,
      "waitgraph: wrote shop.html (the graph of shop.json)\n",
    );
    const html = readFileSync(join(dir, "shop.html"), "utf8");
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<title>waitgraph: 4 reports<\/title>/);
  });

  test("-o FILE writes there; -o - writes to stdout", async () => {
    const r = await run("view", "ab.json", "-o", "graphs/ab.html");
    assert.equal(r.stderr, "waitgraph: wrote graphs/ab.html\n");
    assert.ok(existsSync(join(dir, "graphs/ab.html")));
    const out = await run("view", "ab.json", "-o", "-");
    assert.match(out.stdout, /^<!doctype html>/);
    assert.equal(out.stderr, "");
  });

  test("--dot prints Graphviz DOT on stdout", async () => {
    const r = await run("view", "--dot", "ab.json");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^digraph waitgraph \{\n/);
    assert.match(
      r.stdout,
      /^ {2}"key:A" -> "key:B" \[tooltip="test\/cli\/report\.test\.ts:\d+:\d+"\];$/m,
    );
  });
});

describe("waitgraph merge", () => {
  test("two runs' ABBA: the merged document has the new report; exit 1; a summary and the report on stderr", async () => {
    const r = await run("merge", "ab.json", "ba.json", "-o", "merged.json");
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^waitgraph: merged 2 documents: 2 classes, 1 dependency, 1 report \(1 circular-dependency found only in the union\)\n=+\nWARNING: possible circular locking dependency detected\n/,
    );
    const merged = readDocument(readFileSync(join(dir, "merged.json"), "utf8"));
    assert.deepEqual(
      merged.reports.map((x) => x.id),
      ["circular-dependency:key:A -> key:B"],
    );
    assert.deepEqual(
      merged.meta.merged!.map((x) => x.source),
      ["ab.json", "ba.json"],
    );
  });

  test("runs without a cycle between them: exit 0, the document on stdout without -o", async () => {
    const r = await run("merge", "ab.json", "bc.json");
    assert.equal(r.code, 0);
    assert.equal(readDocument(r.stdout).snapshot.edges.length, 2);
    assert.match(
      r.stderr,
      /^waitgraph: merged 2 documents: 3 classes, 2 dependencies, 0 reports\n$/,
    );
  });

  test("no documents is a usage error", async () => {
    const r = await run("merge", "-o", "x.json");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing the documents/);
  });
});

describe("waitgraph stats", () => {
  test("prints classes, dependencies, reports and the longest chain", async () => {
    const r = await run("stats", "shop.json");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^written by: {4}waitgraph \S+\n/);
    assert.match(
      r.stdout,
      /^lock classes: {2}16 {2}\(7 task, 6 mutex, 2 rwlock, 1 semaphore\)$/m,
    );
    assert.match(r.stdout, /^dependencies: {2}13 {2}\(11 EN, 2 SN\)$/m);
    assert.match(
      r.stdout,
      /^reports: {7}4 {2}\(2 circular-dependency, 1 held-at-task-end, 1 recursive-locking\)$/m,
    );
    assert.match(
      r.stdout,
      /^longest chain: 5 classes: task checkout -> request -> orders -> inventory -> shipping$/m,
    );
  });

  test("--json prints the same numbers for a program", async () => {
    const r = await run("stats", "--json", "ab.json");
    const s = JSON.parse(r.stdout) as {
      classes: number;
      dependencies: number;
      longestChain: string[];
    };
    assert.deepEqual(
      [s.classes, s.dependencies, s.longestChain],
      [2, 1, ["A", "B"]],
    );
  });
});

test("waitgraph --help lists report, view, merge and stats", async () => {
  const r = await run("--help");
  for (const name of ["run", "report", "view", "merge", "stats"])
    assert.match(r.stdout, new RegExp(`^ {2}${name}\\s{2,}\\S`, "m"));
});
