// The graph both views draw: the snapshot's classes and edges, plus what the reports add.
//
// A reported cycle is never wholly in the snapshot: the validator never inserts the edge that
// closes it (A → B recorded, then B → A refused and reported). So each circular report brings
// its closing edge prev → next back as a *closing* edge, and its other edges (cycle[i] →
// cycle[i+1]) are marked as on that report's cycle. A recursive-locking report closes on itself:
// a self-loop on its class (a pool of 2 whose holder asks for a second connection).
import type { Report, SourceFrame } from "../core/report.js";
import type { Snapshot } from "../core/tracker.js";

export interface ViewNode {
  id: string;
  name: string;
  type: string;
  /** Indexes (into the document's reports) of the reports whose cycle runs through this class. */
  reports: number[];
}

export interface ViewEdge {
  from: string;
  to: string;
  /** The read/write bits, or undefined for an edge only a report knows (a closing edge). */
  read: Snapshot["edges"][number]["read"] | undefined;
  /** Where `to` was taken while `from` was held. */
  stack: SourceFrame[];
  /** Where `from` was taken. */
  fromStack: SourceFrame[];
  timeout: boolean;
  /** The edge a report refused to add: it closes that report's cycle. */
  closing: boolean;
  /** Indexes of the reports whose cycle uses this edge. */
  reports: number[];
}

export interface ViewGraph {
  nodes: ViewNode[];
  edges: ViewEdge[];
}

/** The graph of a snapshot and its reports. Deterministic: nodes and edges in snapshot order, then report order. */
export function viewGraph(
  snapshot: Snapshot,
  reports: readonly Report[],
): ViewGraph {
  const nodes = new Map<string, ViewNode>();
  const edges = new Map<string, ViewEdge>();
  const node = (c: { id: string; name: string; type: string }): ViewNode => {
    let n = nodes.get(c.id);
    if (n === undefined) {
      n = { id: c.id, name: c.name, type: c.type, reports: [] };
      nodes.set(c.id, n);
    }
    return n;
  };
  for (const c of snapshot.classes) node(c);
  for (const e of snapshot.edges)
    edges.set(key(e.fromId, e.toId), {
      from: e.fromId,
      to: e.toId,
      read: e.read,
      stack: e.stack,
      fromStack: e.fromStack ?? [],
      timeout: e.timeout ?? false,
      closing: false,
      reports: [],
    });

  const mark = (
    i: number,
    from: { id: string; name: string; type: string },
    to: { id: string; name: string; type: string },
    closing: boolean,
    stack: SourceFrame[],
    fromStack: SourceFrame[],
  ): void => {
    for (const n of [node(from), node(to)]) add(n.reports, i);
    const k = key(from.id, to.id);
    let e = edges.get(k);
    if (e === undefined) {
      e = {
        from: from.id,
        to: to.id,
        read: undefined,
        stack,
        fromStack,
        timeout: false,
        closing,
        reports: [],
      };
      edges.set(k, e);
    }
    if (closing) e.closing = true;
    add(e.reports, i);
  };

  reports.forEach((r, i) => {
    if (r.kind === "circular-dependency") {
      const n = r.cycle.length;
      // chain[k], k < n - 1, is the recorded edge cycle[n-2-k] → cycle[n-1-k].
      for (let j = 0; j + 1 < n; j++)
        mark(
          i,
          r.cycle[j]!,
          r.cycle[j + 1]!,
          false,
          r.chain[n - 2 - j]?.stack ?? [],
          [],
        );
      mark(
        i,
        r.prev,
        r.next,
        true,
        r.next.at.length > 0 ? r.next.at : r.stack,
        r.prev.at,
      );
    } else if (r.kind === "recursive-locking") {
      mark(
        i,
        r.prev,
        r.next,
        true,
        r.next.at.length > 0 ? r.next.at : r.stack,
        r.prev.at,
      );
    } else {
      for (const ref of involved(r)) add(node(ref).reports, i);
    }
  });
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** The classes a report without a cycle is about (they highlight when it is picked). */
function involved(r: Report): { id: string; name: string; type: string }[] {
  switch (r.kind) {
    case "bad-unlock-balance":
      return [r.lock];
    case "held-at-task-end":
      return r.locks;
    case "assertion-failed":
      return [r.lock];
    case "nest-lock-not-held":
      return [r.lock];
    default:
      return [];
  }
}

/** The read/write bits that are set, lockdep's names: `SR`, `ER`, `SN`, `EN`. */
export function readBits(read: ViewEdge["read"]): string[] {
  if (read === undefined) return [];
  return (["SR", "ER", "SN", "EN"] as const).filter((b) => read[b]);
}

/** An edge's label: empty for a plain exclusive dependency (EN only), else its bits. */
export function edgeLabel(e: ViewEdge): string {
  const bits = readBits(e.read);
  const plain = bits.length === 0 || (bits.length === 1 && bits[0] === "EN");
  return plain ? "" : bits.join(" ");
}

function key(from: string, to: string): string {
  return JSON.stringify([from, to]);
}

function add(list: number[], i: number): void {
  if (!list.includes(i)) list.push(i);
}
