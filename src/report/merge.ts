// The union of documents, and the cycles only the union has.
//
// Graphs from several runs merge by stable class id (DESIGN "Beyond one isolate"): classes and
// edges are united, an edge's read/write bits are OR-ed, its stacks are those of the first input
// that has it, and it is timed only if it is timed in every input that has it. Reports are
// united by id.
//
// Then the union is validated as lockdep validates one run: its edges are added one read/write
// bit at a time, in input order, to a fresh core IdGraph, whose one insert (the validator's
// rule over stable ids) first looks for a strong path back. An edge that would close a strong cycle is
// reported and left out, so the merged graph, like a run's, never holds a deadlock. Example:
// test file 1 takes A then B (edge A → B), test file 2 takes B then A (edge B → A); neither run
// reported anything; the merge finds B → A closing A → B and reports circular-dependency A, B —
// with the id a single run would have given, so a cycle an input already reported is not
// reported twice.
//
// Design limits: a snapshot keeps no task names, so a merged report's task is the input the
// closing edge came from; and no DEPT [S] [W] [E] view (the snapshot keeps one stack per side).
import { WaitgraphError } from "../core/errors.js";
import {
  canonicalCycle,
  DEP_EN,
  DEP_ER,
  DEP_SN,
  DEP_SR,
} from "../core/graph.js";
import { DEP_BITS, IdGraph, nextReadOf, readsOf } from "../core/id-graph.js";
import type {
  ChainLink,
  CircularDependencyReport,
  ClassRef,
  LockRef,
  Report,
} from "../core/report.js";
import type { Snapshot } from "../core/tracker.js";
import { toDocument, type MergedInput, type ReportDocument } from "./json.js";
import { renderText } from "./text.js";

export interface MergeInput {
  /** How the input is named in messages and in `meta.merged`: its path as given. */
  source: string;
  document: ReportDocument;
}

export interface MergeResult {
  document: ReportDocument;
  /** The circular dependencies found only in the union (also in `document.reports`). */
  found: CircularDependencyReport[];
}

type SnapshotEdge = Snapshot["edges"][number];

interface UnionEdge {
  edge: SnapshotEdge;
  /** Where this edge came from (the first input that has it). */
  source: string;
  /** The bits as the inputs had them, before validation. */
  dep: number;
}

/** Each bit's name in a snapshot's `read`. */
const BITS: readonly [number, keyof SnapshotEdge["read"]][] = [
  [DEP_EN, "EN"],
  [DEP_ER, "ER"],
  [DEP_SN, "SN"],
  [DEP_SR, "SR"],
];

/** Merges documents (at least one) into one; pure. `waitgraph` is the merging version. */
export function mergeDocuments(
  inputs: readonly MergeInput[],
  meta: { waitgraph: string },
): MergeResult {
  const classes = new Map<string, Snapshot["classes"][number]>();
  const union = new Map<string, UnionEdge>();
  const reports = new Map<string, Report>();
  const refs = new Map<string, ClassRef>();
  const roots = new Set<string | undefined>();

  for (const { source, document } of inputs) {
    roots.add(document.meta.root);
    for (const c of document.snapshot.classes)
      if (!classes.has(c.id)) classes.set(c.id, { ...c });
    for (const r of document.reports) {
      if (!reports.has(r.id)) reports.set(r.id, r);
      for (const ref of classRefsOf(r))
        if (!refs.has(ref.id)) refs.set(ref.id, ref);
    }
    for (const e of document.snapshot.edges) {
      const key = JSON.stringify([e.fromId, e.toId]);
      const bits = depOf(e.read);
      const seen = union.get(key);
      if (seen === undefined)
        union.set(key, {
          edge: {
            ...e,
            fromStack: e.fromStack ?? [],
            timeout: e.timeout ?? false,
          },
          source,
          dep: bits,
        });
      else {
        seen.dep |= bits;
        // An untimed wait in any input makes the dependency untimed (as in one run).
        if (!(e.timeout ?? false)) seen.edge.timeout = false;
        if (seen.edge.fromStack.length === 0 && (e.fromStack?.length ?? 0) > 0)
          seen.edge.fromStack = e.fromStack;
      }
    }
  }

  if (classes.size > 0xffff)
    throw new WaitgraphError(
      "ERR_WAITGRAPH_LIMIT_EXCEEDED",
      `Expected at most 65535 classes to merge, got ${classes.size}`,
    );
  const graph = new IdGraph<UnionEdge>();
  const kept = new Map<UnionEdge, number>();
  const found: CircularDependencyReport[] = [];

  for (const u of union.values()) {
    for (const bit of DEP_BITS) {
      if ((u.dep & bit) === 0) continue;
      const r = graph.tryAdd(
        u.edge.fromId,
        u.edge.toId,
        bit,
        u.edge.timeout,
        u,
      );
      if (r.kind === "cycle") {
        const report = cycleReport(u, r.path, bit, classes, refs, union);
        if (!reports.has(report.id)) {
          reports.set(report.id, report);
          found.push(report);
        }
        continue;
      }
      kept.set(u, (kept.get(u) ?? 0) | bit);
    }
  }

  const edges: SnapshotEdge[] = [];
  for (const [u, dep] of kept) {
    const read = { SR: false, ER: false, SN: false, EN: false };
    for (const [bit, name] of BITS) read[name] = (dep & bit) !== 0;
    const from = classes.get(u.edge.fromId)!;
    const to = classes.get(u.edge.toId)!;
    edges.push({ ...u.edge, from: from.name, to: to.name, read });
  }

  const merged: MergedInput[] = inputs.map(({ source, document }) => ({
    source,
    reports: document.reports.length,
    classes: document.snapshot.classes.length,
    edges: document.snapshot.edges.length,
  }));
  const root = roots.size === 1 ? [...roots][0] : undefined;
  const document = toDocument(
    [...reports.values()],
    { classes: [...classes.values()], edges },
    {
      waitgraph: meta.waitgraph,
      ...(root !== undefined ? { root } : {}),
      merged,
    },
  );
  return { document, found };
}

function depOf(read: SnapshotEdge["read"]): number {
  let dep = 0;
  for (const [bit, name] of BITS) if (read[name]) dep |= bit;
  return dep;
}

/** Taking `to` while holding `from` (edge `u`, bit `bit`) closes `path` = to → … → from. */
function cycleReport(
  u: UnionEdge,
  path: UnionEdge[],
  bit: number,
  classes: ReadonlyMap<string, Snapshot["classes"][number]>,
  refs: ReadonlyMap<string, ClassRef>,
  union: ReadonlyMap<string, UnionEdge>,
): CircularDependencyReport {
  const ref = (id: string): ClassRef => {
    const c = classes.get(id)!;
    return {
      id,
      name: c.name,
      type: c.type,
      usage: refs.get(id)?.usage ?? usageOf(id, union),
    };
  };
  const { prev: prevRead, next: nextRead } = readsOf(bit);
  const next: LockRef = {
    ...ref(u.edge.toId),
    read: nextRead,
    at: u.edge.stack,
  };
  const prev: LockRef = {
    ...ref(u.edge.fromId),
    read: prevRead,
    at: u.edge.fromStack,
  };
  const cycle = [ref(u.edge.toId), ...path.map((p) => ref(p.edge.toId))];
  const chain: ChainLink[] = [
    ...path
      .slice()
      .reverse()
      .map((p) => ({
        class: ref(p.edge.toId),
        read: nextReadOf(p.dep),
        stack: p.edge.stack,
      })),
    { class: cycle[0]!, read: nextRead, stack: u.edge.stack },
  ];
  const data: Omit<CircularDependencyReport, "text"> = {
    kind: "circular-dependency",
    id: `circular-dependency:${canonicalCycle(cycle.map((c) => c.id)).join(" -> ")}`,
    classes: cycle.map((c) => c.name),
    task: u.source,
    held: [prev],
    stack: u.edge.stack,
    next,
    prev,
    chain,
    cycle,
  };
  const sources = [
    ...path.map((p) => `  ${p.edge.from} -> ${p.edge.to}: ${p.source}`),
    `  ${u.edge.from} -> ${u.edge.to}: ${u.source} (closes the cycle)`,
  ];
  const text = [
    renderText(data),
    "",
    "found by waitgraph merge in the union of the runs' graphs; the dependencies come from:",
    ...sources,
  ].join("\n");
  return { ...data, text };
}

/** The class refs a report names, for their usage strings. */
function classRefsOf(r: Report): ClassRef[] {
  switch (r.kind) {
    case "circular-dependency":
      return [r.next, r.prev, ...r.cycle, ...r.held];
    case "recursive-locking":
      return [r.next, r.prev, ...r.held];
    case "held-at-task-end":
      return [...r.locks, ...r.held];
    default:
      return r.held;
  }
}

/** lockdep's usage string from the union's bits, for a class no input report describes. */
function usageOf(id: string, union: ReadonlyMap<string, UnionEdge>): string {
  let write = false;
  let read = false;
  for (const { edge, dep } of union.values()) {
    if (edge.fromId === id) {
      if ((dep & (DEP_ER | DEP_EN)) !== 0) write = true;
      if ((dep & (DEP_SR | DEP_SN)) !== 0) read = true;
    }
    if (edge.toId === id) {
      if ((dep & (DEP_ER | DEP_SR)) !== 0) read = true;
      else write = true;
    }
  }
  const w = write ? "+" : ".";
  const r = read ? "+" : ".";
  return `{${w}${r}${w}${r}}`;
}
