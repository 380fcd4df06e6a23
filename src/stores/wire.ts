// A shared edge on the wire: one JSON object, versioned, checked field by field on the way in.
// A store holds what any process wrote, of any waitgraph version; an entry this version cannot
// read is skipped (and counted), never trusted and never thrown into the watched program.
import type { SharedEdge } from "../core/sharing.js";
import type { ClassRef, SourceFrame } from "../core/report.js";

export const WIRE_VERSION = 1;

/** The field that names one dependency bit of one class pair: the store's dedup key. */
export function edgeField(edge: SharedEdge): string {
  return JSON.stringify([edge.from.id, edge.to.id, edge.dep]);
}

export function encode(edge: SharedEdge): string {
  return JSON.stringify({ v: WIRE_VERSION, ...edge });
}

/** The edge in `text`, or undefined when it is not one this version reads. */
export function decode(text: string): SharedEdge | undefined {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(x) || x["v"] !== WIRE_VERSION) return undefined;
  const { from, to, dep, timeout, stack, fromStack, task, origin } = x;
  if (
    !isClassRef(from) ||
    !isClassRef(to) ||
    typeof dep !== "number" ||
    !Number.isInteger(dep) ||
    dep <= 0 ||
    dep > 0xf ||
    typeof timeout !== "boolean" ||
    !isFrames(stack) ||
    !isFrames(fromStack) ||
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
    task,
    origin: { id: origin["id"], name: origin["name"] },
  };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isClassRef(x: unknown): x is ClassRef {
  return (
    isObject(x) &&
    typeof x["id"] === "string" &&
    typeof x["name"] === "string" &&
    typeof x["type"] === "string" &&
    typeof x["usage"] === "string"
  );
}

function isFrames(x: unknown): x is SourceFrame[] {
  return (
    Array.isArray(x) &&
    x.every(
      (f) =>
        isObject(f) &&
        typeof f["fn"] === "string" &&
        typeof f["file"] === "string" &&
        typeof f["line"] === "number" &&
        typeof f["column"] === "number",
    )
  );
}
