// The dependency graph over lock classes, with lockdep's read/write edge bits and its
// strong-path breadth-first search (reference §1.6).
//
// Each edge prev → next carries a set of four bits, one per (prev exclusive?, next
// non-recursive?) combination seen:
//   SR: prev shared,    next recursive reader      ER: prev exclusive, next recursive reader
//   SN: prev shared,    next writer or reader       EN: prev exclusive, next writer or reader
// A path is *strong* if no edge ending in a recursive reader (xR) is followed by an edge that
// starts from a shared holder (Sx). Lockdep's design document proves: the graph has a strong
// cycle ⇔ a deadlock is possible. Example: R(X)→R(Y) and R(Y)→R(X) is a cycle of xR then Sx
// edges, not strong, not a deadlock; W(X)→R(Y), W(Y)→R(Z), W(Z)→R(X) is strong: a deadlock.
import type { ReadMode } from "./report.js";
import { kept, type Trace } from "./stack.js";
import { TopologicalOrder } from "./pearce-kelly.js";

export const DEP_SR = 1 << 0;
export const DEP_ER = 1 << 1;
export const DEP_SN = 1 << 2;
export const DEP_EN = 1 << 3;

/** lockdep `calc_dep`: bit0 = prev exclusive, bit1 = next not a recursive reader. */
export function depBit(prevRead: ReadMode, nextRead: ReadMode): number {
  return 1 << ((prevRead === 0 ? 1 : 0) + (nextRead !== 2 ? 2 : 0));
}

export interface Edge {
  readonly from: number;
  readonly to: number;
  dep: number;
  /** [W]: the stack of the acquisition or wait that first added this edge. */
  readonly trace: Trace;
  /** [S]: where the event context of `from` began (the held lock taken, the awaited wait). */
  readonly start: Trace | undefined;
  /** [E]: where the event of `from` was raised, when it was seen (complete, resolve, …). */
  readonly event: Trace | undefined;
  /** Every wait that made this edge had a timeout: it can delay, not deadlock (DEPT §2.7). */
  timeout: boolean;
}

/** A BFS result: the edges of the shortest strong path, in order from the search root. */
export type Path = Edge[];

/** What one insert did (DependencyGraph.tryAdd). */
export type AddResult =
  | { readonly kind: "added" | "widened"; readonly edge: Edge }
  /** The bit was there already: nothing to do, nothing new to tell anyone. */
  | { readonly kind: "known" }
  /**
   * The edge closes a strong cycle and is not added: `path` runs from its target back to its
   * source; `timeout` when the cycle was found only through timed edges (a delay).
   */
  | { readonly kind: "cycle"; readonly path: Path; readonly timeout: boolean }
  /** The search queue ran out (`maxQueue`): nothing added, nothing known. */
  | { readonly kind: "overflow" }
  /** `maxEdges` edges exist already and this one is new: not added. */
  | { readonly kind: "full" };

/** The bounds and options of one graph's inserts. */
export interface AddRules {
  readonly maxQueue: number;
  readonly maxEdges: number;
  /** Search cycles through timed edges too, reported as delays (`reportTimeouts`). */
  readonly reportTimeouts: boolean;
  /** Counted when given: searches made, and searches the topological order made needless. */
  readonly counts?: { searches: number; searchesSkipped: number };
}

const KNOWN: AddResult = Object.freeze({ kind: "known" });
const FULL: AddResult = Object.freeze({ kind: "full" });
const OVERFLOW: AddResult = Object.freeze({ kind: "overflow" });

export class DependencyGraph {
  private readonly out: Edge[][] = [];
  private readonly inn: number[][] = [];
  private readonly byPair = new Map<number, Edge>();
  readonly order = new TopologicalOrder();
  private visited = new Uint32Array(64);
  private generation = 0;
  edgeCount = 0;

  addNode(node: number): void {
    this.out[node] = [];
    this.inn[node] = [];
    this.order.addNode(node);
    if (node * 2 + 1 >= this.visited.length) {
      const bigger = new Uint32Array(
        Math.max(node * 2 + 2, this.visited.length * 2),
      );
      bigger.set(this.visited);
      this.visited = bigger;
    }
  }

  edge(from: number, to: number): Edge | undefined {
    return this.byPair.get(from * 0x10000 + to);
  }

  add(
    from: number,
    to: number,
    dep: number,
    trace: Trace,
    extra?: {
      start?: Trace | undefined;
      event?: Trace | undefined;
      timeout?: boolean;
    },
  ): Edge {
    const e: Edge = {
      from,
      to,
      dep,
      trace: kept(trace),
      start: kept(extra?.start),
      event: kept(extra?.event),
      timeout: extra?.timeout ?? false,
    };
    this.out[from]!.push(e);
    this.inn[to]!.push(from);
    this.byPair.set(from * 0x10000 + to, e);
    this.edgeCount++;
    this.order.inserted(
      from,
      to,
      (n) => this.out[n]!.map((x) => x.to),
      (n) => this.inn[n]!,
    );
    return e;
  }

  *edges(): Iterable<Edge> {
    for (const list of this.out) if (list !== undefined) yield* list;
  }

  /**
   * lockdep `check_noncircular`: is there a strong path from `root` to `target` that, closed by
   * the new edge target → root, makes a strong cycle? `rootOnlyXr` is true when the new edge ends
   * in a recursive reader (then the path must not start with a shared-holder edge);
   * `targetRead` is the held lock's mode (a shared holder only conflicts with a path ending in N).
   * BFS makes the path a shortest one.
   *
   * Departure from lockdep: its __bfs marks a class on first reach, before the strong-path
   * filter, so a class first reached through an xR edge is never expanded again — and a strong
   * path through it (P→N0→Y→X→P with N0 -ER-> X seen first) is missed: a real deadlock
   * unreported. Here the search state is (class, last edge ended in R), two per class, so
   * every strong path is found and the search stays linear.
   */
  strongPath(
    root: number,
    rootOnlyXr: boolean,
    target: number,
    targetRead: ReadMode,
    maxQueue: number,
    throughTimeouts = false,
  ): Path | null | "overflow" {
    const gen = ++this.generation;
    if (gen === 0xffffffff) {
      this.visited.fill(0);
      this.generation = 1;
    }
    const stamp = this.generation;
    interface Entry {
      node: number;
      onlyXr: boolean;
      edge: Edge | null;
      parent: Entry | null;
    }
    const matches = (e: Entry) =>
      e.node === target && (targetRead === 0 || !e.onlyXr);
    const start: Entry = {
      node: root,
      onlyXr: rootOnlyXr,
      edge: null,
      parent: null,
    };
    this.visited[root * 2 + (rootOnlyXr ? 1 : 0)] = stamp;
    if (matches(start)) return [];
    const queue: Entry[] = [start];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      for (const e of this.out[at.node]!) {
        if (e.timeout && !throughTimeouts) continue;
        let dep = e.dep;
        if (at.onlyXr) dep &= ~(DEP_SR | DEP_SN);
        if (dep === 0) continue;
        const onlyXr = (dep & (DEP_SN | DEP_EN)) === 0;
        // A class reached by a path ending in N allows every next edge, so it dominates the
        // same class reached by a path ending in R: skip a state already seen or dominated.
        if (this.visited[e.to * 2] === stamp) continue;
        if (onlyXr && this.visited[e.to * 2 + 1] === stamp) continue;
        this.visited[e.to * 2 + (onlyXr ? 1 : 0)] = stamp;
        const entry: Entry = { node: e.to, onlyXr, edge: e, parent: at };
        if (matches(entry)) {
          const path: Edge[] = [];
          for (
            let x: Entry | null = entry;
            x !== null && x.edge !== null;
            x = x.parent
          )
            path.push(x.edge);
          return path.reverse();
        }
        if (queue.length - head > maxQueue) return "overflow";
        queue.push(entry);
      }
    }
    return null;
  }

  /**
   * lockdep's `check_prev_add`, the one insert of every dependency graph here (the validator's,
   * `waitgraph merge`'s, the one shared between processes): adds dependency bit `bit` of
   * `from → to` unless it closes a strong cycle, so the graph never holds one.
   *
   * - A bit already present needs no search: had a strong path `to → … → from` appeared since,
   *   the edge that made it would have closed a cycle with this one and been refused. A bit
   *   known only from timed waits is searched again when an untimed one brings it.
   * - An edge that respects the topological order (Pearce–Kelly) closes no cycle: no search.
   * - A timed edge (every wait that made it had a timeout) closes no deadlock: it can delay
   *   (DEPT §2.7). Cycles through timed edges are searched only when `reportTimeouts` asks,
   *   after the search for a deadlock, and come back with `timeout: true`.
   * - A self-edge is a cycle of one class unless the search finds none: a raiser that waits
   *   for an event of its own class (DEPT's AA) is one; a recursive read under a read of the
   *   same class is not, and is kept (a lock re-taken is lockdep's recursive-locking rule,
   *   checked before any insert).
   */
  tryAdd(
    from: number,
    to: number,
    bit: number,
    timeout: boolean,
    rules: AddRules,
    trace: Trace,
    extra?: { start?: Trace | undefined; event?: Trace | undefined },
  ): AddResult {
    if (this.knows(from, to, bit, timeout)) return KNOWN;
    const existing = this.edge(from, to);
    if (existing === undefined && this.edgeCount >= rules.maxEdges) return FULL;
    if (!timeout || rules.reportTimeouts) {
      if (this.order.respects(from, to)) {
        if (rules.counts !== undefined) rules.counts.searchesSkipped++;
      } else {
        if (rules.counts !== undefined) rules.counts.searches++;
        const found = this.closes(from, to, bit, timeout, rules);
        if (found !== null) return found;
      }
    }
    if (existing !== undefined) {
      existing.dep |= bit;
      if (!timeout) existing.timeout = false;
      return { kind: "widened", edge: existing };
    }
    const edge = this.add(from, to, bit, trace, {
      start: extra?.start,
      event: extra?.event,
      timeout,
    });
    return { kind: "added", edge };
  }

  /** Whether tryAdd would find bit `bit` of `from → to` known already (nothing to check). */
  knows(from: number, to: number, bit: number, timeout: boolean): boolean {
    const e = this.edge(from, to);
    return e !== undefined && (e.dep & bit) !== 0 && (timeout || !e.timeout);
  }

  /** The strong path `to → … → from` that `from → to` would close, first without timed edges. */
  private closes(
    from: number,
    to: number,
    bit: number,
    timeout: boolean,
    rules: AddRules,
  ): AddResult | null {
    const rootOnlyXr = (bit & (DEP_SR | DEP_ER)) !== 0;
    const targetRead: ReadMode = (bit & (DEP_SR | DEP_SN)) !== 0 ? 1 : 0;
    for (const throughTimeouts of [false, true]) {
      if (throughTimeouts ? !rules.reportTimeouts : timeout) continue;
      const path = this.strongPath(
        to,
        rootOnlyXr,
        from,
        targetRead,
        rules.maxQueue,
        throughTimeouts,
      );
      if (path === "overflow") return OVERFLOW;
      if (path !== null)
        return { kind: "cycle", path, timeout: throughTimeouts };
    }
    return null;
  }

  reset(): void {
    this.out.length = 0;
    this.inn.length = 0;
    this.byPair.clear();
    this.order.reset();
    this.visited.fill(0);
    this.generation = 0;
    this.edgeCount = 0;
  }
}

/**
 * Rotates a cycle to start at its smallest id, so one cycle found from any edge has one id.
 * The validator, the shared graph and `waitgraph merge` give one cycle one id.
 */
export function canonicalCycle(ids: string[]): string[] {
  let best = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[best]!) best = i;
  return [...ids.slice(best), ...ids.slice(0, best)];
}
