// The JSON document: what a run found and the class graph it recorded, versioned as
// `waitgraph/report@2` and described by ./schema/report-2.ts (its JSON text is
// ./schema/report-2.schema.json). `toDocument` builds one; `readDocument` reads one back and
// refuses anything else with a BadDocumentError that says where, what was expected and what
// was found. Both are pure.
//
// Compatibility within a version: a writer may add optional properties; a reader ignores
// properties it does not know. Removing or changing a property, or a new report kind, is the next
// version (@2 added the kind `deadlock`). An @1 document reads as the @2 document it already is.
import { describe, WaitgraphError } from "../core/errors.js";
import type { Report } from "../core/report.js";
import type { Snapshot } from "../core/tracker.js";
import { check } from "./schema/check.js";
import {
  READABLE_SCHEMA_IDS,
  REPORT_SCHEMA_ID,
  reportSchema,
} from "./schema/report-2.js";

export { REPORT_SCHEMA_ID };

/** One input of a merged document. */
export interface MergedInput {
  /** The input as named on the command line. */
  source: string;
  reports: number;
  classes: number;
  edges: number;
}

export interface DocumentMeta {
  /** The version of waitgraph that wrote the document. */
  waitgraph: string;
  /**
   * The directory source paths are shown relative to: the run's working directory, absolute.
   * SARIF's `%SRCROOT%`; frames themselves keep absolute paths.
   */
  root?: string;
  /** Only in a document `waitgraph merge` wrote: its inputs, in order. */
  merged?: MergedInput[];
}

export interface ReportDocument {
  schema: typeof REPORT_SCHEMA_ID;
  meta: DocumentMeta;
  reports: Report[];
  snapshot: Snapshot;
}

/** A document that is not a `waitgraph/report@2` (or @1) one. `path` is where it first went wrong. */
export class BadDocumentError extends WaitgraphError {
  /** `reports[2].next.at[0].line`; empty when the document as a whole is wrong. */
  readonly path: string;
  constructor(path: string, message: string) {
    super("ERR_WAITGRAPH_BAD_DOCUMENT", message);
    this.path = path;
  }
}

/** The document for these reports and this graph. Copies nothing it need not: do not mutate. */
export function toDocument(
  reports: readonly Report[],
  snapshot: Snapshot,
  meta: DocumentMeta,
): ReportDocument {
  return {
    schema: REPORT_SCHEMA_ID,
    meta: {
      waitgraph: meta.waitgraph,
      ...(meta.root !== undefined ? { root: meta.root } : {}),
      ...(meta.merged !== undefined ? { merged: meta.merged } : {}),
    },
    reports: [...reports],
    snapshot,
  };
}

/** The document as JSON text: two-space indented, one trailing newline. */
export function renderDocument(document: ReportDocument): string {
  return JSON.stringify(document, null, 2) + "\n";
}

/**
 * Parses and checks a `waitgraph/report@2` document, or an @1 one (returned with `schema` @2: it
 * is one). Throws BadDocumentError for text that is not JSON, another schema or version, a value
 * of the wrong shape, an edge naming a class the document does not have, and a class id given
 * twice.
 */
export function readDocument(text: string): ReportDocument {
  if (typeof text !== "string")
    throw new BadDocumentError(
      "",
      `Expected the document to be text, got ${describe(text)}`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const first = text.trimStart().slice(0, 20);
    throw new BadDocumentError(
      "",
      `Expected a JSON document (${REPORT_SCHEMA_ID}), got text that is not JSON` +
        ` (${(error as Error).message})${first === "" ? ": it is empty" : ""}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BadDocumentError(
      "",
      `Expected the document to be a JSON object with "schema": ${JSON.stringify(REPORT_SCHEMA_ID)}, got ${describe(value)}`,
    );
  const schema = (value as Record<string, unknown>)["schema"];
  if (typeof schema !== "string" || !READABLE_SCHEMA_IDS.includes(schema)) {
    const newer =
      typeof schema === "string" && /^waitgraph\/report@\d+$/.test(schema)
        ? ` (written by another version of waitgraph: this one reads ${READABLE_SCHEMA_IDS.map((id) => id.slice(id.indexOf("@"))).join(" and ")})`
        : "";
    throw new BadDocumentError(
      "schema",
      `Expected \`schema\` to be ${JSON.stringify(REPORT_SCHEMA_ID)}, got ${
        schema === undefined ? "no `schema` property" : describe(schema)
      }${newer}`,
    );
  }
  const mismatch = check(reportSchema, value, { ignoreUnknown: true });
  if (mismatch !== undefined)
    throw new BadDocumentError(
      mismatch.path,
      `Expected \`${mismatch.path}\` to be ${mismatch.expected}, got ${mismatch.found}`,
    );
  const doc = value as ReportDocument;
  checkReferences(doc);
  doc.schema = REPORT_SCHEMA_ID;
  // Optional in the schema (the first @1 writers left them out), always present in the type.
  for (const e of doc.snapshot.edges) {
    e.fromStack ??= [];
    e.timeout ??= false;
  }
  return doc;
}

/** Every class id once; every edge between classes of the document, each pair once. */
function checkReferences(doc: ReportDocument): void {
  const ids = new Set<string>();
  doc.snapshot.classes.forEach((c, i) => {
    if (ids.has(c.id))
      throw new BadDocumentError(
        `snapshot.classes[${i}].id`,
        `Expected \`snapshot.classes[${i}].id\` to be unique, got ${describe(c.id)} a second time`,
      );
    ids.add(c.id);
  });
  const pairs = new Set<string>();
  doc.snapshot.edges.forEach((e, i) => {
    for (const end of ["fromId", "toId"] as const)
      if (!ids.has(e[end]))
        throw new BadDocumentError(
          `snapshot.edges[${i}].${end}`,
          `Expected \`snapshot.edges[${i}].${end}\` to be the id of one of snapshot.classes, got ${describe(e[end])}`,
        );
    const pair = JSON.stringify([e.fromId, e.toId]);
    if (pairs.has(pair))
      throw new BadDocumentError(
        `snapshot.edges[${i}]`,
        `Expected one edge per pair of classes, got ${e.fromId} -> ${e.toId} a second time at \`snapshot.edges[${i}]\``,
      );
    pairs.add(pair);
  });
}
