// The dependency graph over stable class ids, for classes that are not this isolate's
// LockClass objects: the union of merged documents (`waitgraph merge`) and the graph shared
// between processes (shared-graph.ts). One insert, lockdep's check_prev_add over ids: an edge is
// added only if it closes no strong cycle, so the graph, like the validator's, never holds one.
import {
  DEP_EN,
  DEP_ER,
  DEP_SN,
  DEP_SR,
  DependencyGraph,
  type AddRules,
  type Edge,
} from "./graph.js";
import type { ReadMode } from "./report.js";
import type { Trace } from "./stack.js";

/** Bits in the order an edge's are tried: the exclusive, non-recursive dependency first. */
export const DEP_BITS: readonly number[] = [DEP_EN, DEP_ER, DEP_SN, DEP_SR];

/** The read modes of the two ends of one dependency bit (lockdep `calc_dep` backwards). */
export function readsOf(bit: number): { prev: ReadMode; next: ReadMode } {
  return {
    prev: bit === DEP_SR || bit === DEP_SN ? 1 : 0,
    next: bit === DEP_SR || bit === DEP_ER ? 2 : 0,
  };
}

/** The read mode an edge's target was taken in, as a chain link shows it. */
export function nextReadOf(dep: number): ReadMode {
  return (dep & (DEP_SN | DEP_EN)) !== 0 ? 0 : 2;
}

export type TryAdd<T> =
  | { kind: "added" | "widened" | "known" }
  /** The edge closes a strong cycle: `path` runs from its target back to its source. */
  | { kind: "cycle"; path: T[] }
  /** The search queue ran out (the graph's `maxQueue`): nothing added, nothing known. */
  | { kind: "overflow" }
  /** `maxNodes` classes are known already and this edge names another. */
  | { kind: "full" };

/** Edges over ids keep no stack of their own: their payload says who added them, and where. */
const NO_TRACE: Trace = {};

export class IdGraph<T> {
  private readonly index = new Map<string, number>();
  private readonly graph = new DependencyGraph();
  /** Per edge, the payload of each bit (by its place in DEP_BITS): who added that bit. */
  private readonly payloads = new Map<Edge, (T | undefined)[]>();

  private readonly rules: AddRules;

  constructor(
    private readonly maxNodes = 0xffff,
    maxQueue = Infinity,
    maxEdges = Infinity,
  ) {
    // A cycle through a timed edge is a delay, not a deadlock: neither graph over ids reports one.
    this.rules = { maxQueue, maxEdges, reportTimeouts: false };
  }

  get nodeCount(): number {
    return this.index.size;
  }

  get edgeCount(): number {
    return this.graph.edgeCount;
  }

  /**
   * Adds dependency bit `bit` of `fromId → toId` unless it closes a strong cycle: the graph's
   * one insert (graph.ts tryAdd, lockdep's check_prev_add), over stable ids. `payload` is
   * kept for the bit when it is new, and a cycle's path comes back as the payloads of its steps.
   */
  tryAdd(
    fromId: string,
    toId: string,
    bit: number,
    timeout: boolean,
    payload: T,
  ): TryAdd<T> {
    const from = this.node(fromId);
    const to = this.node(toId);
    if (from === undefined || to === undefined) return { kind: "full" };
    const added = this.graph.tryAdd(
      from,
      to,
      bit,
      timeout,
      this.rules,
      NO_TRACE,
    );
    switch (added.kind) {
      case "cycle":
        return {
          kind: "cycle",
          path: this.attribute(added.path, (bit & (DEP_SR | DEP_ER)) !== 0),
        };
      case "added":
      case "widened":
        this.keep(added.edge, bit, payload);
        return { kind: added.kind };
      default:
        return { kind: added.kind };
    }
  }

  private keep(edge: Edge, bit: number, payload: T): void {
    let list = this.payloads.get(edge);
    if (list === undefined) this.payloads.set(edge, (list = []));
    list[DEP_BITS.indexOf(bit)] ??= payload;
  }

  /**
   * Who added each step of a strong path: the payload of the bit the search could use there.
   * The search (graph.ts strongPath) takes every bit a step allows and leaves it in the
   * non-recursive state when any allowed bit ends in N; the bit credited is one of those.
   */
  private attribute(path: Edge[], rootOnlyXr: boolean): T[] {
    let onlyXr = rootOnlyXr;
    return path.map((e) => {
      const allowed = onlyXr ? e.dep & ~(DEP_SR | DEP_SN) : e.dep;
      const ends = allowed & (DEP_SN | DEP_EN);
      onlyXr = ends === 0;
      const used = ends !== 0 ? ends : allowed;
      const list = this.payloads.get(e)!;
      for (let i = 0; i < DEP_BITS.length; i++)
        if ((used & DEP_BITS[i]!) !== 0 && list[i] !== undefined)
          return list[i]!;
      return list.find((p) => p !== undefined)!;
    });
  }

  private node(id: string): number | undefined {
    let n = this.index.get(id);
    if (n === undefined) {
      if (this.index.size >= this.maxNodes) return undefined;
      n = this.index.size;
      this.index.set(id, n);
      this.graph.addNode(n);
    }
    return n;
  }
}
