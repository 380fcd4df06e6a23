// The outputs end to end, through the built CLI (bin/waitgraph.js → dist/) in child processes:
// `waitgraph run --json --sarif --html` on a bundled example, and an ABBA spread over two
// programs that only `waitgraph merge` finds, then `report --format sarif` and `view` on the
// merged document. Every SARIF log is checked against the official 2.1.0 schema.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { readDocument } from "../../src/report/json.js";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "bin", "waitgraph.js");
let scratch = "";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validateSarif = ajv.compile(
  JSON.parse(
    readFileSync(join(root, "test/fixtures/sarif-2.1.0.schema.json"), "utf8"),
  ) as object,
);

/** Rebuilds dist/ when any file under src/ is newer than the oldest compiled file. */

function waitgraph(...args: string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const env = { ...process.env };
  delete env["WAITGRAPH"];
  delete env["NODE_TEST_CONTEXT"];
  delete env["NODE_OPTIONS"];
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sarifOf(file: string) {
  const log = JSON.parse(readFileSync(file, "utf8")) as {
    runs: {
      results: {
        ruleId: string;
        locations: {
          physicalLocation: {
            artifactLocation: { uri: string; uriBaseId: string };
            region: { startLine: number };
          };
        }[];
      }[];
    }[];
  };
  assert.ok(
    validateSarif(log),
    ajv.errorsText(validateSarif.errors, { separator: "\n" }),
  );
  return log;
}

before(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), "waitgraph-outputs-"));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

test("waitgraph run --json --sarif --html writes all three for one run", () => {
  const [json, sarif, html] = ["abba.json", "abba.sarif", "abba.html"].map(
    (f) => join(scratch, f),
  );
  const r = waitgraph(
    "run",
    "--json",
    json!,
    "--sarif",
    sarif!,
    "--html",
    html!,
    "examples/bank-transfer-abba.ts",
  );
  assert.equal(r.status, 1, r.stderr);
  const doc = readDocument(readFileSync(json!, "utf8"));
  assert.equal(doc.meta.root, root.replace(/\/$/, ""));
  assert.deepEqual(
    doc.reports.map((x) => x.kind),
    ["circular-dependency"],
  );
  const [result] = sarifOf(sarif!).runs[0]!.results;
  const at = result!.locations[0]!.physicalLocation;
  assert.deepEqual(at.artifactLocation, {
    uri: "examples/bank-transfer-abba.ts",
    uriBaseId: "%SRCROOT%",
  });
  assert.equal(at.region.startLine, doc.reports[0]!.stack[0]!.line);
  const page = readFileSync(html!, "utf8");
  assert.match(
    page,
    /<g class="edge cycle closing" data-edge="\d+" data-from="key:account:bob" data-to="key:account:alice"/,
  );
});

test("an ABBA over two programs: neither run reports it, merge does, and report/view show it", () => {
  const halves = ["takes-a-then-b", "takes-b-then-a"].map((name) => {
    const file = join(scratch, `${name}.json`);
    const r = waitgraph(
      "run",
      "--json",
      file,
      `test/cli/fixtures/merge/${name}.mjs`,
    );
    assert.equal(r.status, 0, `${name} reported something:\n${r.stderr}`);
    return file;
  });
  const merged = join(scratch, "merged.json");
  const m = waitgraph("merge", ...halves, "-o", merged);
  assert.equal(m.status, 1, m.stderr);
  assert.match(
    m.stderr,
    /^waitgraph: merged 2 documents: .*\(1 circular-dependency found only in the union\)$/m,
  );
  assert.match(
    m.stderr,
    /^ {2}shard-b -> shard-a: .*takes-b-then-a\.json \(closes the cycle\)$/m,
  );

  const sarif = join(scratch, "merged.sarif");
  const rep = waitgraph("report", "--format", "sarif", "-o", sarif, merged);
  assert.equal(rep.status, 1);
  const [result] = sarifOf(sarif).runs[0]!.results;
  assert.equal(result!.ruleId, "circular-dependency");
  assert.deepEqual(result!.locations[0]!.physicalLocation.artifactLocation, {
    uri: "test/cli/fixtures/merge/takes-b-then-a.mjs",
    uriBaseId: "%SRCROOT%",
  });

  const html = join(scratch, "merged.html");
  const v = waitgraph("view", merged, "-o", html);
  assert.equal(v.status, 0, v.stderr);
  assert.match(
    readFileSync(html, "utf8"),
    /<g class="edge cycle closing" data-edge="\d+" data-from="key:shard-b" data-to="key:shard-a"/,
  );
});
