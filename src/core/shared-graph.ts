// The graph beyond one isolate (DESIGN "Beyond one isolate"): the dependencies of every process
// that shares a store, keyed by stable class id, beside the validator's own graph.
//
// What is proved. The validator checks each new dependency against this isolate's graph, exactly,
// as before. Every new dependency (or new read/write bit of one) is then also offered to this
// graph, and every dependency another isolate publishes is offered when it arrives; the one
// insert (IdGraph.tryAdd) refuses an edge that closes a strong cycle. A refused edge whose cycle
// holds at least one edge of this isolate and one of another is reported here, as a
// circular-dependency with the other isolates named on their links. So: process 1 takes A then B
// (A → B, published), process 2 later takes B then A — process 2 reports at its acquisition of A
// when A → B had arrived (the store loads what others published before the program starts), or
// when A → B arrives, whichever is later. An edge whose cycle is reported here is not published
// (lockdep never adds a closing edge), so one cycle is one report, by the isolate that closed it
// — two that add opposite edges at the same moment each report when the other's arrives. A cycle of other
// isolates' edges only is left to them: this run did not take part.
//
// Not proved: an edge refused here (it closed a cross-isolate cycle) stays in the validator's
// graph, which has no cycle through it; the two graphs differ by the edges this one refused.
import { canonicalCycle } from "./graph.js";
import { DEP_BITS, IdGraph, nextReadOf, readsOf } from "./id-graph.js";
import type {
  ChainLink,
  ClassRef,
  LockRef,
  ReportData,
  SourceFrame,
} from "./report.js";

/** Which isolate (process, or thread of one) published an edge. */
export interface Origin {
  /** Unique per isolate and run: edges echoed back by the store are recognised by it. */
  readonly id: string;
  /** For reports: `service.js[4242]@host`, a thread's id after it. */
  readonly name: string;
}

/** One dependency as isolates exchange it: plain JSON, the stacks already user frames. */
export interface SharedEdge {
  readonly from: ClassRef;
  readonly to: ClassRef;
  /** lockdep's read/write bits (graph.ts DEP_*). */
  readonly dep: number;
  /** Every wait that made it had a timeout. */
  readonly timeout: boolean;
  /** Where `to` was taken (or waited for) while `from` was held. */
  readonly stack: SourceFrame[];
  /** Where `from` was taken. */
  readonly fromStack: SourceFrame[];
  readonly task: string;
  readonly origin: Origin;
}

/** Where this isolate's new dependencies go: a store's outbox. Never throws, never blocks. */
export interface EdgeSink {
  publish(edge: SharedEdge): void;
}

/** How many classes and edges the shared graph keeps; past them an edge is counted unchecked. */
export const SHARED_NODES = 0xffff;
export const SHARED_EDGES = 1 << 18;
/** The breadth-first search's bound, as the validator's (`limits.searchQueue`). */
const SEARCH_QUEUE = 4096;

function emptyGraph(): IdGraph<SharedEdge> {
  return new IdGraph<SharedEdge>(SHARED_NODES, SEARCH_QUEUE, SHARED_EDGES);
}

export class SharedGraph {
  private graph = emptyGraph();
  /** Other isolates' edges the graph took, in order: what `forgetOwn` keeps. */
  private foreign: SharedEdge[] = [];
  /** Edges offered that the graph could not take (full): what could not be checked. */
  unchecked = 0;
  received = 0;

  constructor(
    readonly origin: Origin,
    readonly sink: EdgeSink,
  ) {}

  get edgeCount(): number {
    return this.graph.edgeCount;
  }

  /**
   * tracker.reset(): this isolate forgets its own dependencies here as in its own graph (the
   * store keeps them: other isolates saw those orders happen). Without this, a test that takes
   * Q then P after a reset would have its edge refused against its own P → Q from before.
   */
  forgetOwn(): void {
    this.graph = emptyGraph();
    const kept = this.foreign;
    this.foreign = [];
    for (const edge of kept) this.offer(edge, () => []);
  }

  /**
   * A dependency this isolate just added: checked against the others', and published unless
   * it closed a cycle — that finding is this isolate's report, and like lockdep's closing
   * edge it is never added, so the other side does not report the same cycle again.
   */
  local(edge: SharedEdge, held: () => LockRef[]): ReportData | undefined {
    const { report, refused } = this.offer(edge, held);
    const dep = report !== undefined ? edge.dep & ~refused : edge.dep;
    if (dep !== 0)
      this.sink.publish(dep === edge.dep ? edge : { ...edge, dep });
    return report;
  }

  /** A dependency another isolate published. Its own edges, echoed back, are ignored. */
  remote(edge: SharedEdge): ReportData | undefined {
    if (edge.origin.id === this.origin.id) return undefined;
    this.received++;
    return this.offer(edge, () => []).report;
  }

  private offer(
    edge: SharedEdge,
    held: () => LockRef[],
  ): { report: ReportData | undefined; refused: number } {
    let report: ReportData | undefined;
    let refused = 0;
    for (const bit of DEP_BITS) {
      if ((edge.dep & bit) === 0) continue;
      const r = this.graph.tryAdd(
        edge.from.id,
        edge.to.id,
        bit,
        edge.timeout,
        edge,
      );
      if (r.kind === "full" || r.kind === "overflow") this.unchecked++;
      if (
        (r.kind === "added" || r.kind === "widened") &&
        edge.origin.id !== this.origin.id &&
        this.foreign.at(-1) !== edge
      )
        this.foreign.push(edge);
      if (r.kind !== "cycle") continue;
      refused |= bit;
      if (report !== undefined) continue;
      const own = this.origin.id;
      const links = [edge, ...r.path];
      if (
        links.some((e) => e.origin.id === own) &&
        links.some((e) => e.origin.id !== own)
      )
        report = this.cycleReport(edge, r.path, bit, held);
    }
    return { report, refused };
  }

  /** `edge` (from → to) closes `path` = to → … → from; shaped as the validator's report. */
  private cycleReport(
    edge: SharedEdge,
    path: SharedEdge[],
    bit: number,
    held: () => LockRef[],
  ): ReportData {
    const reads = readsOf(bit);
    const here = (e: SharedEdge): { process?: string } =>
      e.origin.id === this.origin.id ? {} : { process: e.origin.name };
    const cycle: ClassRef[] = [edge.to, ...path.map((e) => e.to)];
    const chain: ChainLink[] = [
      ...path
        .slice()
        .reverse()
        .map((e) => ({
          class: e.to,
          read: nextReadOf(e.dep),
          stack: e.stack,
          ...here(e),
        })),
      { class: edge.to, read: reads.next, stack: edge.stack, ...here(edge) },
    ];
    const processes = [
      ...new Set(
        [edge, ...path]
          .filter((e) => e.origin.id !== this.origin.id)
          .map((e) => e.origin.name),
      ),
    ].sort();
    const task =
      edge.origin.id === this.origin.id
        ? edge.task
        : `${edge.task} in ${edge.origin.name}`;
    return {
      kind: "circular-dependency",
      id: `circular-dependency:${canonicalCycle(cycle.map((c) => c.id)).join(" -> ")}`,
      classes: cycle.map((c) => c.name),
      task,
      held: held(),
      stack: edge.stack,
      next: { ...edge.to, read: reads.next, at: edge.stack.slice(0, 3) },
      prev: { ...edge.from, read: reads.prev, at: edge.fromStack.slice(0, 3) },
      chain,
      cycle,
      processes,
    };
  }
}
