// Dynamic topological order: D. J. Pearce and P. H. J. Kelly, "A Dynamic Topological Sort
// Algorithm for Directed Acyclic Graphs", ACM JEA 11 (2006) — as in tracing-mutex and Abseil.
//
// While the dependency graph is acyclic, every class has a position `ord` such that each edge
// goes from a lower to a higher position. Then a new edge from → to with ord[from] < ord[to]
// provably closes no cycle (every path only climbs), and the validator skips its search: the
// common, order-respecting edge costs O(1). An edge against the order re-numbers only the
// affected region between the two positions.
//
// Read locks make some cycles legal (lockdep's strong-path rule: r/R cycles that cannot
// deadlock). Once the graph holds such a cycle no topological order exists; the order is then
// marked unusable and every new edge is searched, which is what lockdep always does.

export class TopologicalOrder {
  private ord: number[] = [];
  private usable = true;
  private mark = new Uint8Array(64);

  get acyclic(): boolean {
    return this.usable;
  }

  addNode(node: number): void {
    this.ord[node] = node;
    if (node >= this.mark.length) {
      const bigger = new Uint8Array(Math.max(node + 1, this.mark.length * 2));
      bigger.set(this.mark);
      this.mark = bigger;
    }
  }

  /** True when an edge from → to provably closes no cycle. */
  respects(from: number, to: number): boolean {
    return this.usable && this.ord[from]! < this.ord[to]!;
  }

  /** Records an inserted edge from → to; `out`/`inn` give the graph's adjacency after the insert. */
  inserted(
    from: number,
    to: number,
    out: (n: number) => Iterable<number>,
    inn: (n: number) => Iterable<number>,
  ): void {
    // A self-edge (a recursive reader re-reading its class: legal) orders nothing else, and a
    // topological order of the other edges stays valid: keep the fast path.
    if (!this.usable || from === to) return;
    const lb = this.ord[to]!;
    const ub = this.ord[from]!;
    if (lb > ub) return;
    // δF: reachable from `to` with ord <= ub. Reaching `from` means the edge closed a cycle.
    const forward = this.collect(to, out, (n) => this.ord[n]! <= ub, from);
    if (forward === undefined) {
      this.usable = false;
      return;
    }
    // δB: reaching `from` with ord >= lb.
    const backward = this.collect(from, inn, (n) => this.ord[n]! >= lb, -1)!;
    const byOrd = (a: number, b: number) => this.ord[a]! - this.ord[b]!;
    forward.sort(byOrd);
    backward.sort(byOrd);
    const nodes = [...backward, ...forward];
    const slots = nodes.map((n) => this.ord[n]!).sort((a, b) => a - b);
    nodes.forEach((n, i) => (this.ord[n] = slots[i]!));
  }

  /** DFS from `start` over nodes passing `within`; undefined if `stopAt` is reached. */
  private collect(
    start: number,
    next: (n: number) => Iterable<number>,
    within: (n: number) => boolean,
    stopAt: number,
  ): number[] | undefined {
    const seen: number[] = [];
    const stack = [start];
    this.mark[start] = 1;
    let cycle = false;
    while (stack.length > 0) {
      const n = stack.pop()!;
      seen.push(n);
      for (const m of next(n)) {
        if (m === stopAt) {
          cycle = true;
          break;
        }
        if (this.mark[m] === 0 && within(m)) {
          this.mark[m] = 1;
          stack.push(m);
        }
      }
      if (cycle) break;
    }
    for (const n of seen) this.mark[n] = 0;
    for (const n of stack) this.mark[n] = 0;
    return cycle ? undefined : seen;
  }

  reset(): void {
    this.ord = [];
    this.usable = true;
    this.mark.fill(0);
  }
}
