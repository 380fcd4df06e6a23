// The JSON document: its schema (src/report/schema/report-2.ts, and the .json text beside it)
// describes what runs really write, ajv agrees with readDocument's own checker, and
// readDocument refuses bad input with typed errors that name what was expected and what was found.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as prettier from "prettier";
import {
  BadDocumentError,
  readDocument,
  renderDocument,
  toDocument,
  type ReportDocument,
} from "../../src/report/json.js";
import { reportSchema } from "../../src/report/schema/report-2.js";
import { check } from "../../src/report/schema/check.js";
import { KINDS } from "./fixtures.js";
import { fixtureDocument, record, shop } from "../view/documents.js";

const schemaFile = new URL(
  "../../src/report/schema/report-2.schema.json",
  import.meta.url,
);
const update = process.env["UPDATE_GOLDEN"] === "1";

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(reportSchema);

function valid(doc: unknown): boolean {
  return validate(doc);
}

function errorsOf(): string {
  return ajv.errorsText(validate.errors, { separator: "\n" });
}

let shopDoc: ReportDocument;
test.before(async () => {
  shopDoc = await record(shop);
});

test("report-2.schema.json is the JSON text of the schema object (UPDATE_GOLDEN=1 rewrites it)", async () => {
  if (update)
    writeFileSync(
      schemaFile,
      await prettier.format(JSON.stringify(reportSchema), { parser: "json" }),
    );
  assert.deepEqual(JSON.parse(readFileSync(schemaFile, "utf8")), reportSchema);
});

test("the schema is a valid JSON Schema 2020-12 under ajv's strict mode", () => {
  assert.equal(typeof validate, "function");
});

test("a real run's document validates: every report kind it made, its classes and edges", () => {
  assert.deepEqual([...new Set(shopDoc.reports.map((r) => r.kind))].sort(), [
    "circular-dependency",
    "held-at-task-end",
    "recursive-locking",
  ]);
  assert.ok(shopDoc.snapshot.edges.length >= 6);
  assert.ok(valid(shopDoc), errorsOf());
});

test("every report kind validates (the text renderer's fixtures, one or more per kind)", () => {
  const doc = fixtureDocument();
  assert.deepEqual(
    [...new Set(doc.reports.map((r) => r.kind))].sort(),
    Object.keys(KINDS).sort(),
  );
  assert.ok(valid(doc), errorsOf());
});

test("the schema's report kinds are exactly the kinds of src/core/report.ts", () => {
  const defs = reportSchema["$defs"] as Record<
    string,
    { properties?: { kind?: { const?: string } } }
  >;
  const kinds = Object.values(defs)
    .map((d) => d.properties?.kind?.const)
    .filter((k): k is string => k !== undefined);
  assert.deepEqual(kinds.sort(), Object.keys(KINDS).sort());
});

test("toDocument writes the schema id and meta; readDocument reads back the same document", () => {
  const text = renderDocument(shopDoc);
  assert.ok(text.endsWith("}\n"));
  const back = readDocument(text);
  assert.deepEqual(back, shopDoc);
  assert.equal(back.schema, "waitgraph/report@2");
  assert.equal(typeof back.meta.waitgraph, "string");
});

test("toDocument leaves out meta fields it is not given", () => {
  const doc = toDocument(
    [],
    { classes: [], edges: [] },
    { waitgraph: "9.9.9" },
  );
  assert.deepEqual(doc, {
    schema: "waitgraph/report@2",
    meta: { waitgraph: "9.9.9" },
    reports: [],
    snapshot: { classes: [], edges: [] },
  });
  assert.ok(valid(doc), errorsOf());
});

/** readDocument(text) must throw a BadDocumentError at `path` whose message matches `message`. */
function rejects(text: string, path: string, message: RegExp): void {
  assert.throws(
    () => readDocument(text),
    (error: unknown) => {
      assert.ok(error instanceof BadDocumentError, String(error));
      assert.equal(error.code, "ERR_WAITGRAPH_BAD_DOCUMENT");
      assert.equal(error.path, path);
      assert.match(error.message, message);
      return true;
    },
  );
}

function mutated(
  edit: (doc: Record<string, unknown> & ReportDocument) => void,
): string {
  const doc = structuredClone(shopDoc) as Record<string, unknown> &
    ReportDocument;
  edit(doc);
  return JSON.stringify(doc);
}

test("text that is not JSON is refused, saying so", () => {
  rejects(
    "{ not json",
    "",
    /^Expected a JSON document \(waitgraph\/report@2\), got text that is not JSON/,
  );
  rejects("", "", /got text that is not JSON .*: it is empty$/);
});

test("JSON that is not an object is refused, naming what it is", () => {
  rejects(
    "[]",
    "",
    /^Expected the document to be a JSON object with "schema": "waitgraph\/report@2", got an array$/,
  );
  rejects("42", "", /got 42 \(number\)$/);
});

test("another schema or version is refused before anything else is read", () => {
  rejects(
    "{}",
    "schema",
    /^Expected `schema` to be "waitgraph\/report@2", got no `schema` property$/,
  );
  rejects(
    JSON.stringify({ schema: "waitgraph/report@3" }),
    "schema",
    /got "waitgraph\/report@3" \(string\) \(written by another version of waitgraph: this one reads @1 and @2\)$/,
  );
  rejects(
    JSON.stringify({ schema: "sarif" }),
    "schema",
    /got "sarif" \(string\)$/,
  );
});

test("a value of the wrong type names its path, what was expected and what was found", () => {
  rejects(
    mutated((d) => {
      d.reports[0]!.stack[0]!.line = "12" as unknown as number;
    }),
    "reports[0].stack[0].line",
    /^Expected `reports\[0\]\.stack\[0\]\.line` to be an integer ≥ 0, got "12" \(string\)$/,
  );
  rejects(
    mutated((d) => {
      (d.snapshot.edges[1]!.read as unknown as Record<string, unknown>)["SR"] =
        1;
    }),
    "snapshot.edges[1].read.SR",
    /to be a boolean, got 1 \(number\)$/,
  );
  rejects(
    mutated((d) => {
      (d as Record<string, unknown>)["reports"] = {};
    }),
    "reports",
    /^Expected `reports` to be an array, got an object \(Object\)$/,
  );
});

test("a missing property is named with what belongs there", () => {
  rejects(
    mutated((d) => {
      delete (d.reports[0] as unknown as Record<string, unknown>)["next"];
    }),
    "reports[0].next",
    /^Expected `reports\[0\]\.next` to be an object, got nothing$/,
  );
  rejects(
    mutated((d) => {
      delete (d as Record<string, unknown>)["meta"];
    }),
    "meta",
    /to be an object, got nothing$/,
  );
});

test("an unknown report kind lists the kinds this version knows", () => {
  rejects(
    mutated((d) => {
      (d.reports[1] as unknown as Record<string, unknown>)["kind"] = "livelock";
    }),
    "reports[1].kind",
    /^Expected `reports\[1\]\.kind` to be one of "circular-dependency", "recursive-locking", .*"internal-error", got "livelock" \(string\)$/,
  );
});

test("a report is checked against its own kind's shape", () => {
  const i = shopDoc.reports.findIndex((r) => r.kind === "recursive-locking");
  rejects(
    mutated((d) => {
      (d.reports[i] as unknown as Record<string, unknown>)["sameInstance"] =
        "yes";
    }),
    `reports[${i}].sameInstance`,
    /to be a boolean, got "yes" \(string\)$/,
  );
});

test("an edge naming a class the document does not have is refused", () => {
  rejects(
    mutated((d) => {
      d.snapshot.edges[0]!.toId = "key:nowhere";
    }),
    "snapshot.edges[0].toId",
    /^Expected `snapshot\.edges\[0\]\.toId` to be the id of one of snapshot\.classes, got "key:nowhere" \(string\)$/,
  );
});

test("a class id given twice, or an edge given twice, is refused", () => {
  rejects(
    mutated((d) => {
      d.snapshot.classes.push({ ...d.snapshot.classes[0]! });
    }),
    `snapshot.classes[${shopDoc.snapshot.classes.length}].id`,
    /to be unique, got "[^"]+" \(string\) a second time$/,
  );
  rejects(
    mutated((d) => {
      d.snapshot.edges.push({ ...d.snapshot.edges[0]! });
    }),
    `snapshot.edges[${shopDoc.snapshot.edges.length}]`,
    /^Expected one edge per pair of classes, got .* -> .* a second time/,
  );
});

test("an @1 document (written before the kind `deadlock`) reads as the @2 document it is", () => {
  const text = mutated((d) => {
    (d as Record<string, unknown>)["schema"] = "waitgraph/report@1";
  });
  const doc = readDocument(text);
  assert.equal(doc.schema, "waitgraph/report@2");
  assert.deepEqual(doc, shopDoc);
  assert.ok(valid(JSON.parse(text)), errorsOf());
});

test("readDocument ignores properties it does not know (a newer @2 writer), where the strict schema refuses them", () => {
  const text = mutated((d) => {
    (d.meta as unknown as Record<string, unknown>)["host"] = "ci-7";
    (d.reports[0] as unknown as Record<string, unknown>)["severity"] = 3;
  });
  assert.equal(readDocument(text).reports.length, shopDoc.reports.length);
  assert.equal(valid(JSON.parse(text)), false);
});

test("an edge without fromStack and timeout (an older @1 writer) reads as unknown site, untimed", () => {
  const text = mutated((d) => {
    for (const e of d.snapshot.edges) {
      delete (e as Partial<typeof e>).fromStack;
      delete (e as Partial<typeof e>).timeout;
    }
  });
  const doc = readDocument(text);
  assert.ok(
    doc.snapshot.edges.every(
      (e) => e.fromStack.length === 0 && e.timeout === false,
    ),
  );
});

/**
 * Every leaf of a real document, replaced by a value of another type, and every property,
 * deleted: ajv (strict schema) and readDocument's checker (strict mode) give the same verdict.
 */
test("the document checker and ajv agree on every single-field corruption of a real document", () => {
  const base = structuredClone(shopDoc) as unknown;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (path.length > 0) paths.push(path);
    if (Array.isArray(v))
      v.slice(0, 2).forEach((x, i) => walk(x, [...path, i]));
    else if (typeof v === "object" && v !== null)
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(base, []);
  assert.ok(paths.length > 200, `only ${paths.length} paths`);
  const swap = (v: unknown): unknown[] =>
    typeof v === "string"
      ? [7, null]
      : typeof v === "number"
        ? ["7", -1, 1.5]
        : typeof v === "boolean"
          ? ["true"]
          : Array.isArray(v)
            ? [{}, "[]"]
            : [[], 0];
  let cases = 0;
  for (const path of paths) {
    const parentPath = path.slice(0, -1);
    const last = path[path.length - 1]!;
    const edits: ((doc: unknown) => void)[] = [];
    const at = (doc: unknown) =>
      parentPath.reduce(
        (o: unknown, k) => (o as Record<string, unknown>)[k],
        doc,
      ) as Record<string | number, unknown>;
    for (const value of swap(at(base)[last]))
      edits.push((doc) => {
        at(doc)[last] = value;
      });
    if (typeof last === "string")
      edits.push((doc) => {
        delete at(doc)[last];
      });
    for (const edit of edits) {
      const doc = structuredClone(base);
      edit(doc);
      const ours = check(reportSchema, doc) === undefined;
      const theirs = valid(doc);
      assert.equal(
        ours,
        theirs,
        `${path.join(".")}: checker says ${ours}, ajv says ${theirs}: ${errorsOf()}`,
      );
      cases++;
    }
  }
  assert.ok(cases > 400, `only ${cases} cases`);
});
