// SARIF 2.1.0 output: valid against the official schema (vendored in test/fixtures, see its
// NOTICE), one rule per report kind, one result per report at the user's line relative to
// %SRCROOT%, the other acquisition sites as related locations, fingerprints from report ids.
// Frozen for two fixtures by test/golden/outputs/*.sarif.json (UPDATE_GOLDEN=1 rewrites).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type {
  CircularDependencyReport,
  Report,
  SourceFrame,
} from "../../src/core/report.js";
import { renderSarif, toSarif } from "../../src/report/sarif.js";
import { fixtureReports, record, root, self, shop } from "../view/documents.js";
import { KINDS } from "./fixtures.js";
import { VERSION } from "../../src/report/version.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const schema = JSON.parse(
  readFileSync(
    new URL("../fixtures/sarif-2.1.0.schema.json", import.meta.url),
    "utf8",
  ),
) as object;
// The official schema uses keywords ajv's strict mode does not know (it is draft-04 heritage).
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const update = process.env["UPDATE_GOLDEN"] === "1";
const golden = new URL("../golden/outputs/", import.meta.url);

function assertValid(log: unknown): void {
  assert.ok(
    validate(log),
    ajv.errorsText(validate.errors, { separator: "\n" }),
  );
}

interface Result {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations?: { physicalLocation: Physical }[];
  relatedLocations?: {
    id: number;
    physicalLocation: Physical;
    message: { text: string };
  }[];
  partialFingerprints: Record<string, string>;
}
interface Physical {
  artifactLocation: { uri: string; uriBaseId?: string };
  region?: { startLine: number; startColumn?: number };
}
interface Log {
  version: string;
  runs: {
    tool: {
      driver: {
        name: string;
        rules: {
          id: string;
          shortDescription: { text: string };
          help: { text: string };
        }[];
      };
    };
    originalUriBaseIds?: Record<string, { uri: string }>;
    results: Result[];
  }[];
}

function log(reports: readonly Report[], options = {}): Log {
  return toSarif(reports, options) as unknown as Log;
}

test("the checker itself refuses a broken log (so a pass means something)", () => {
  assert.equal(
    validate({ version: "2.1.0", runs: [{ tool: { driver: {} } }] }),
    false,
  );
  assert.equal(validate({ version: "2.0.0", runs: [] }), false);
});

test("every report kind gives a log valid against the SARIF 2.1.0 schema", () => {
  const reports = fixtureReports();
  assert.deepEqual(
    [...new Set(reports.map((r) => r.kind))].sort(),
    Object.keys(KINDS).sort(),
  );
  assertValid(toSarif(reports, { root: "/project" }));
  assertValid(toSarif(reports));
  assertValid(toSarif([]));
});

test("a real run's reports give a valid log, each result at this file's own lines", async () => {
  const doc = await record(shop);
  const sarif = log(doc.reports, { root });
  assertValid(sarif);
  const results = sarif.runs[0]!.results;
  assert.equal(results.length, doc.reports.length);
  for (const r of results) {
    const at = r.locations![0]!.physicalLocation;
    assert.deepEqual(at.artifactLocation, {
      uri: self,
      uriBaseId: "%SRCROOT%",
    });
    assert.ok(at.region!.startLine > 1);
  }
  assert.equal(
    sarif.runs[0]!.originalUriBaseIds!["%SRCROOT%"]!.uri,
    `file://${root}/`,
  );
});

test("one rule per report kind, and each result names its rule by id and index", () => {
  const sarif = log(fixtureReports());
  const rules = sarif.runs[0]!.tool.driver.rules;
  assert.equal(sarif.runs[0]!.tool.driver.name, "waitgraph");
  assert.deepEqual(rules.map((r) => r.id).sort(), Object.keys(KINDS).sort());
  for (const rule of rules) {
    assert.ok(rule.shortDescription.text.length > 10);
    assert.ok(rule.help.text.length > 40);
  }
  for (const r of sarif.runs[0]!.results)
    assert.equal(rules[r.ruleIndex]!.id, r.ruleId);
});

test("the message is a one-line headline, then the rendered text", () => {
  const [abba] = fixtureReports();
  const [result] = log([abba!]).runs[0]!.results;
  assert.equal(
    result!.message.text,
    `possible circular locking dependency detected: account -> ledger -> account (task "nightly")\n\n${abba!.text}`,
  );
});

test("an ABBA is shown where the lock is taken, with the other acquisition sites related", () => {
  const [abba] = fixtureReports();
  const [result] = log([abba!]).runs[0]!.results;
  const site = (p: Physical) =>
    `${p.artifactLocation.uri}:${p.region!.startLine}:${p.region!.startColumn}`;
  assert.equal(
    site(result!.locations![0]!.physicalLocation),
    "src/ledger.ts:22:27",
  );
  assert.deepEqual(
    result!.relatedLocations!.map((l) => [
      l.id,
      site(l.physicalLocation),
      l.message.text,
    ]),
    [
      [
        1,
        "src/ledger.ts:21:26",
        "`ledger` was taken here, and is held while `account` is taken",
      ],
      [
        2,
        "src/bank.ts:13:26",
        "`ledger` was taken here while `account` was held (the recorded dependency account -> ledger)",
      ],
    ],
  );
});

function frame(file: string, line = 3, column = 5): SourceFrame {
  return { fn: "f", file, line, column };
}

test("paths under the root are relative to %SRCROOT%; others are file: URLs; node_modules is skipped for the primary site", () => {
  const abba = fixtureReports()[0] as CircularDependencyReport;
  const report = {
    ...abba,
    stack: [
      frame("/project/node_modules/knex/lib/pool.js", 10, 2),
      frame("/project/src/my dir/db.ts", 40, 7),
    ],
    prev: { ...abba.prev, at: [frame("/elsewhere/lib.ts")] },
  } as Report;
  const sarif = log([report], { root: "/project" });
  assertValid(sarif);
  const result = sarif.runs[0]!.results[0]!;
  assert.deepEqual(result.locations![0]!.physicalLocation, {
    artifactLocation: { uri: "src/my%20dir/db.ts", uriBaseId: "%SRCROOT%" },
    region: { startLine: 40, startColumn: 7 },
  });
  assert.deepEqual(
    result.relatedLocations![0]!.physicalLocation.artifactLocation,
    {
      uri: "file:///elsewhere/lib.ts",
    },
  );
  assert.equal(
    sarif.runs[0]!.originalUriBaseIds!["%SRCROOT%"]!.uri,
    "file:///project/",
  );
});

test("a report without any user frame has no location and is still valid", () => {
  const internal = fixtureReports().find((r) => r.kind === "internal-error")!;
  const sarif = log([internal]);
  assertValid(sarif);
  assert.equal(sarif.runs[0]!.results[0]!.locations, undefined);
});

test("fingerprints follow the report id: equal ids, equal fingerprints; different ids, different ones", () => {
  const reports = fixtureReports();
  const again = log(reports).runs[0]!.results.map(
    (r) => r.partialFingerprints["waitgraphReportId/v1"],
  );
  const first = log(reports).runs[0]!.results.map(
    (r) => r.partialFingerprints["waitgraphReportId/v1"],
  );
  assert.deepEqual(again, first);
  assert.equal(new Set(first).size, new Set(reports.map((r) => r.id)).size);
  assert.ok(first.every((f) => /^[0-9a-f]{64}$/.test(f!)));
});

test("ABBA and pool starvation render as their goldens", () => {
  const reports = fixtureReports();
  mkdirSync(golden, { recursive: true });
  for (const [name, kind] of [
    ["abba", "circular-dependency"],
    ["pool", "recursive-locking"],
  ] as const) {
    const file = new URL(`${name}.sarif.json`, golden);
    const report = reports.find(
      (r) => r.kind === kind && (name !== "pool" || r.id.includes("pool")),
    )!;
    // The ident line of the rendered text carries the version; goldens do not change with it.
    const text = renderSarif([report], { version: "<version>" }).replaceAll(
      `waitgraph ${VERSION}\\n`,
      "waitgraph <version>\\n",
    );
    if (update) writeFileSync(file, text);
    assert.ok(
      existsSync(file),
      `missing golden ${name}.sarif.json: run with UPDATE_GOLDEN=1`,
    );
    assert.equal(text, readFileSync(file, "utf8"));
  }
});
