// Which blocked waits can never end, and which of them wait for each other. Pure functions of
// the blocked waits (wait-for.ts); nothing here reads the clock or reports.
//
// A wait is stuck when every flow that could release what it waits for is itself stuck. That
// is a greatest fixpoint (the deadlock detection of PostgreSQL's deadlock.c and of wait-for
// graphs generally): start with every blocked wait as a candidate and remove, until nothing
// changes, each wait some live flow could end:
//
//   - a flow is stuck when it is blocked in a stuck wait; its held list (the frame it blocked
//     with) says which units it holds;
//   - a wait for an instance of capacity c is stuck when stuck flows hold at least c of its
//     units: then no unit is held by a live flow, and none is free to take;
//   - a wait with a timeout or an abort signal is never stuck: it ends by itself.
//
// Example, ABBA: F1 holds A and waits for B, F2 holds B and waits for A. Stuck flows hold
// A (1 ≥ capacity 1) and B (1 ≥ 1): nothing is removed, both are stuck. If instead B is held by
// a flow sleeping in a timer, no stuck flow holds B (0 < 1): F1's wait is removed, so F1 is
// live, so A may be released, so F2's wait is removed too.
//
// What it proves, and its limits: a flow that is not blocked in a tracked wait is live, so a
// holder running a timer, awaiting I/O or awaiting anything else waitgraph does not see keeps
// the waits behind it off the stuck set (no false report; a deadlock through such a wait is
// missed). Units are counted as holds: a weighted permit counts as one unit, which undercounts
// and so never makes a wait stuck that is not. A shared (read) hold does not count, because
// the number of readers is not tracked: a writer waiting for readers is never called stuck.
// Unknown capacity (a library lock whose size is not known) is never stuck. Two limits can
// report what is not stuck: a hold released by another flow than the one that took it (a
// permit handed over, `release` called from a timer) while the taker is blocked, and a child
// flow that inherited its parent's hold and runs on while a sibling blocks (the parent's hold
// counts as stuck through the blocked sibling).
import type { HeldLock } from "./held-lock.js";
import { liveHolds } from "./held-lock.js";
import { capacityOf } from "./capacity.js";
import type { BlockedWait } from "./wait-for.js";

/** The locks a blocked flow holds while it waits (not event contexts, not the wait itself). */
export function locksHeld(w: BlockedWait): HeldLock[] {
  return liveHolds(w.frame).filter((h) => !h.ecxt && h !== w.hold);
}

/**
 * The stuck waits among `waits`. `drained`: the event loop is empty (beforeExit), nothing is
 * left to run, so every blocked wait is stuck whatever holds it.
 */
export function stuckWaits(
  waits: Iterable<BlockedWait>,
  drained: boolean,
): Set<BlockedWait> {
  const stuck = new Set<BlockedWait>();
  for (const w of waits) if (drained || !w.bounded) stuck.add(w);
  if (drained) return stuck;
  for (let changed = true; changed;) {
    changed = false;
    const units = unitsHeld(stuck);
    for (const w of stuck) {
      const capacity = capacityOf(w.hold.instance);
      const held = units.get(w.hold.instance)?.size ?? 0;
      if (capacity === undefined || held < capacity) {
        stuck.delete(w);
        changed = true;
      }
    }
  }
  return stuck;
}

/**
 * Exclusive holds of each instance by the flows of `waits`. A set, so a parent's hold that two
 * of its blocked children inherited counts once.
 */
function unitsHeld(waits: Iterable<BlockedWait>): Map<object, Set<HeldLock>> {
  const units = new Map<object, Set<HeldLock>>();
  for (const w of waits)
    for (const h of locksHeld(w)) {
      if (h.read !== 0) continue;
      let set = units.get(h.instance);
      if (set === undefined) units.set(h.instance, (set = new Set()));
      set.add(h);
    }
  return units;
}

/** A deadlock: waits that wait for each other, and the stuck waits queued behind them. */
export interface StuckGroup {
  /** The waits of one closed cycle (a strongly connected part), oldest first; empty for none. */
  cycle: BlockedWait[];
  /** Stuck waits that lead to this cycle (or, with an empty cycle, to none), oldest first. */
  behind: BlockedWait[];
}

/** `w`'s holders among `stuck`: the stuck flows holding a unit of what `w` waits for. */
export function holdersOf(
  w: BlockedWait,
  stuck: Iterable<BlockedWait>,
): BlockedWait[] {
  const out: BlockedWait[] = [];
  for (const v of stuck)
    if (locksHeld(v).some((h) => h.instance === w.hold.instance)) out.push(v);
  return out;
}

/**
 * Splits stuck waits into deadlocks. Edges run from a wait to the flows holding what it waits
 * for; a strongly connected part (Tarjan) is a cycle when it is closed: its own flows hold
 * every unit of each instance it waits for (capacity unknown counts as 1). For a pool of two,
 * one flow holding one unit and waiting for another is not closed by itself; two such flows are.
 * Every other stuck wait goes behind the first cycle it reaches, or into a group of its own
 * with no cycle (at exit: waiting for what no blocked flow holds).
 */
export function stuckGroups(stuck: Set<BlockedWait>): StuckGroup[] {
  const waits = [...stuck].sort((a, b) => a.since - b.since);
  const next = new Map<BlockedWait, BlockedWait[]>();
  for (const w of waits) next.set(w, holdersOf(w, waits));
  const groups: StuckGroup[] = [];
  const groupOf = new Map<BlockedWait, StuckGroup>();
  for (const part of components(waits, next)) {
    if (!closed(part)) continue;
    const group = { cycle: part.sort((a, b) => a.since - b.since), behind: [] };
    groups.push(group);
    for (const w of part) groupOf.set(w, group);
  }
  let open: StuckGroup | undefined;
  for (const w of waits) {
    if (groupOf.has(w)) continue;
    const reached = reach(w, next, groupOf);
    if (reached !== undefined) reached.behind.push(w);
    else (open ??= { cycle: [], behind: [] }).behind.push(w);
  }
  if (open !== undefined) groups.push(open);
  return groups;
}

function closed(part: BlockedWait[]): boolean {
  const units = unitsHeld(part);
  return part.every(
    (w) =>
      (units.get(w.hold.instance)?.size ?? 0) >=
      (capacityOf(w.hold.instance) ?? 1),
  );
}

/** Breadth first from `w` along wait-for edges: the first cycle's group it reaches. */
function reach(
  w: BlockedWait,
  next: Map<BlockedWait, BlockedWait[]>,
  groupOf: Map<BlockedWait, StuckGroup>,
): StuckGroup | undefined {
  const seen = new Set<BlockedWait>([w]);
  const queue = [w];
  for (let i = 0; i < queue.length; i++)
    for (const v of next.get(queue[i]!) ?? []) {
      const g = groupOf.get(v);
      if (g !== undefined) return g;
      if (!seen.has(v)) {
        seen.add(v);
        queue.push(v);
      }
    }
  return undefined;
}

/** Tarjan's strongly connected components; recursive, over the few waits that are blocked. */
function components(
  nodes: BlockedWait[],
  next: Map<BlockedWait, BlockedWait[]>,
): BlockedWait[][] {
  let index = 0;
  const order = new Map<BlockedWait, number>();
  const low = new Map<BlockedWait, number>();
  const onStack = new Set<BlockedWait>();
  const stack: BlockedWait[] = [];
  const out: BlockedWait[][] = [];
  const visit = (v: BlockedWait): void => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const u of next.get(v) ?? []) {
      if (!order.has(u)) {
        visit(u);
        low.set(v, Math.min(low.get(v)!, low.get(u)!));
      } else if (onStack.has(u))
        low.set(v, Math.min(low.get(v)!, order.get(u)!));
    }
    if (low.get(v) !== order.get(v)) return;
    const part: BlockedWait[] = [];
    for (let u = stack.pop(); u !== undefined; u = stack.pop()) {
      onStack.delete(u);
      part.push(u);
      if (u === v) break;
    }
    // A single wait is a cycle only if its own flow holds what it waits for.
    if (part.length > 1 || (next.get(v) ?? []).includes(v)) out.push(part);
  };
  for (const v of nodes) if (!order.has(v)) visit(v);
  return out;
}
