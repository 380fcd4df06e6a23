// A shared edge on the wire: one JSON object, versioned, checked field by field on the way in.
// A store holds what any process wrote, of any waitgraph version; an entry this version cannot
// read is skipped (and counted), never trusted and never thrown into the watched program.
import type { SharedEdge } from "../core/sharing.js";
import {
  boundedName,
  type ClassRef,
  type SourceFrame,
} from "../core/report.js";

export const WIRE_VERSION = 1;

/**
 * The field that names one dependency bit of one class pair, timed or not: the store's dedup
 * key. An untimed edge is not the timed one's duplicate: it can close a cycle the timed one
 * cannot, so a store that first heard the timed one must still take it.
 */
export function edgeField(edge: SharedEdge): string {
  return JSON.stringify([edge.from.id, edge.to.id, edge.dep, edge.timeout]);
}

export function encode(edge: SharedEdge): string {
  return JSON.stringify({ v: WIRE_VERSION, ...edge });
}

/** Frames kept per stack, as a report keeps (stack.ts userFrames). */
const MAX_FRAMES = 12;
/** An entry this version writes is a few kB; one far larger is no entry of ours. */
const MAX_ENTRY_CHARS = 1 << 16;
/** Class ids are matched, not shown: one past this length names no class of this version. */
const MAX_ID_CHARS = 4096;

/**
 * The edge in `text`, or undefined when it is not one this version reads. Rebuilt from the
 * known fields only, names bounded as this process bounds its own: an entry is anyone's
 * writing, and what it carries ends up in reports that must stay valid @2 documents.
 */
export function decode(text: string): SharedEdge | undefined {
  if (text.length > MAX_ENTRY_CHARS) return undefined;
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(x) || x["v"] !== WIRE_VERSION) return undefined;
  const { dep, timeout, task, origin } = x;
  const from = classRef(x["from"]);
  const to = classRef(x["to"]);
  const stack = frames(x["stack"]);
  const fromStack = frames(x["fromStack"]);
  if (
    from === undefined ||
    to === undefined ||
    stack === undefined ||
    fromStack === undefined ||
    typeof dep !== "number" ||
    !Number.isInteger(dep) ||
    dep <= 0 ||
    dep > 0xf ||
    typeof timeout !== "boolean" ||
    typeof task !== "string" ||
    !isObject(origin) ||
    typeof origin["id"] !== "string" ||
    typeof origin["name"] !== "string"
  )
    return undefined;
  return {
    from,
    to,
    dep,
    timeout,
    stack,
    fromStack,
    task: boundedName(task),
    origin: {
      id: boundedName(origin["id"]),
      name: boundedName(origin["name"]),
    },
  };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function classRef(x: unknown): ClassRef | undefined {
  if (
    !isObject(x) ||
    typeof x["id"] !== "string" ||
    x["id"].length > MAX_ID_CHARS ||
    typeof x["name"] !== "string" ||
    typeof x["type"] !== "string" ||
    typeof x["usage"] !== "string"
  )
    return undefined;
  return {
    id: x["id"],
    name: boundedName(x["name"]),
    type: boundedName(x["type"]),
    usage: boundedName(x["usage"]),
  };
}

function frames(x: unknown): SourceFrame[] | undefined {
  if (!Array.isArray(x)) return undefined;
  const out: SourceFrame[] = [];
  for (const f of x.slice(0, MAX_FRAMES)) {
    if (
      !isObject(f) ||
      typeof f["fn"] !== "string" ||
      typeof f["file"] !== "string" ||
      !isPosition(f["line"]) ||
      !isPosition(f["column"])
    )
      return undefined;
    out.push({
      fn: boundedName(f["fn"]),
      file: boundedName(f["file"]),
      line: f["line"],
      column: f["column"],
    });
  }
  return out;
}

function isPosition(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}
