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
  type Edge,
} from "./graph.js";
import type { ReadMode } from "./report.js";

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

export class IdGraph<T> {
  private readonly index = new Map<string, number>();
  private readonly graph = new DependencyGraph();
  /** Per edge, the payload of each bit (by its place in DEP_BITS): who added that bit. */
  private readonly payloads = new Map<Edge, (T | undefined)[]>();

  constructor(
    private readonly maxNodes = 0xffff,
    private readonly maxQueue = Infinity,
    private readonly maxEdges = Infinity,
  ) {}

  get nodeCount(): number {
    return this.index.size;
  }

  get edgeCount(): number {
    return this.graph.edgeCount;
  }

  /**
   * Adds dependency bit `bit` of `fromId → toId`, unless it closes a strong cycle. A timed
   * edge (every wait that made it had a timeout) closes none: it can delay, not deadlock, and
   * cycles through timed edges are not searched (DEPT §2.7); a bit known only from timed waits
   * is checked again when an untimed one brings it. A self-edge closes no cycle between two
   * classes (lockdep reports it as recursive locking when it happens); it is kept, and no search
   * can pass through it to another class.
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
    const existing = this.graph.edge(from, to);
    const known = existing !== undefined && (existing.dep & bit) !== 0;
    if (known && (timeout || !existing.timeout)) return { kind: "known" };
    if (existing === undefined && this.graph.edgeCount >= this.maxEdges)
      return { kind: "full" };
    if (from !== to && !timeout) {
      const reads = readsOf(bit);
      const path = this.graph.strongPath(
        to,
        reads.next === 2,
        from,
        reads.prev,
        this.maxQueue,
      );
      if (path === "overflow") return { kind: "overflow" };
      if (path !== null)
        return { kind: "cycle", path: this.attribute(path, reads.next === 2) };
    }
    if (existing !== undefined) {
      existing.dep |= bit;
      if (!timeout) existing.timeout = false;
      this.keep(existing, bit, payload);
      return { kind: "widened" };
    }
    this.keep(this.graph.add(from, to, bit, {}, { timeout }), bit, payload);
    return { kind: "added" };
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
