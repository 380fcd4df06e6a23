// The validator: lockdep's `__lock_acquire` → `validate_chain` → `check_deadlock` /
// `check_prevs_add` / `check_prev_add`, with its exact rules (reference §1.4–1.7).
//
// What is proved, per acquisition attempt (before the caller blocks):
//  * recursive locking — the task already holds a lock of the class being taken. Same class,
//    not same instance: `A.lock(); A2.lock()` with A, A2 made at one site is reported, because
//    another task can take them in the other order. Allowed: a recursive reader under any
//    reader of the class; an `order` that says the pair is in order; a `nestLock` held below.
//  * circular dependency — the new edge prev → next closes a strong cycle in the class graph.
//    `A → B` in one task and later `B → A` in another is reported although neither run hung.
//  * a chain (the ordered held classes plus the new one) is checked once; a repeat is a cache hit.
//  * the closing edge of a cycle is never inserted, so the graph stays cycle-free of deadlocks.
import { ChainCache } from "./chain-cache.js";
import { DependencyGraph, depBit, DEP_EN, DEP_SN, type Edge } from "./graph.js";
import { HeldLock, liveHolds, type Frame } from "./held-lock.js";
import { ClassRegistry, type LockClass, type LockMap } from "./lock-class.js";
import type {
  ClassRef,
  LockRef,
  ReadMode,
  Report,
  ReportData,
} from "./report.js";
import { captureTrace, userFrames, type Trace } from "./stack.js";

export interface Limits {
  /** lockdep MAX_LOCKDEP_KEYS */
  classes: number;
  /** lockdep MAX_LOCK_DEPTH: locks one task may hold at once */
  depth: number;
  /** lockdep MAX_LOCKDEP_ENTRIES */
  edges: number;
  /** lockdep MAX_LOCKDEP_CHAINS */
  chains: number;
  /** lockdep's BFS queue (CONFIG_LOCKDEP_CIRCULAR_QUEUE_BITS) */
  searchQueue: number;
}

export const DEFAULT_LIMITS: Limits = {
  classes: 8192,
  depth: 48,
  edges: 32768,
  chains: 65536,
  searchQueue: 4096,
};

export interface ValidatorStats {
  acquisitions: number;
  chainHits: number;
  chainMisses: number;
  searches: number;
  searchesSkipped: number;
}

export class Validator {
  readonly limits: Limits = { ...DEFAULT_LIMITS };
  readonly registry = new ClassRegistry(DEFAULT_LIMITS.classes);
  readonly graph = new DependencyGraph();
  readonly chains = new ChainCache();
  readonly stats: ValidatorStats = {
    acquisitions: 0,
    chainHits: 0,
    chainMisses: 0,
    searches: 0,
    searchesSkipped: 0,
  };
  /** The deadlock finding of the last `acquire`, if any (read by the seam for `throw`). */
  finding: Report | undefined;
  /** True when the last `acquire` merged into a held entry (nest lock) instead of adding one. */
  merged = false;
  private readonly exhausted = new Set<string>();

  constructor(private readonly emit: (data: ReportData) => Report) {}

  /**
   * An acquisition attempt of `instance` (of `map`'s key, `subclass`) by the task whose held
   * list is `frame`. Returns the hold to push when granted, or undefined when the lock cannot
   * be tracked (a capacity ran out).
   */
  acquire(
    map: LockMap,
    instance: object,
    read: ReadMode,
    subclass: number,
    trylock: boolean,
    nestLock: object | undefined,
    frame: Frame,
  ): HeldLock | undefined {
    this.finding = undefined;
    this.merged = false;
    this.stats.acquisitions++;
    const cls = this.classOf(map, subclass);
    if (cls === undefined) return undefined;
    cls.markUsed(read);

    // Nest-lock merge (§1.4 step 4): the top held lock has this class and a nest lock is given.
    if (nestLock !== undefined) {
      for (let f: Frame | null = frame; f !== null; f = f.next) {
        const top = f.hold;
        if (top === null || top.released) continue;
        if (top.cls === cls) {
          top.references++;
          this.merged = true;
          return top;
        }
        break;
      }
    }

    const hold = new HeldLock(
      cls,
      instance,
      read,
      trylock,
      nestLock,
      frame.task,
    );
    if (nestLock !== undefined && !holds(frame, nestLock))
      this.nestNotHeld(frame, hold, nestLock);

    let depth = 0;
    for (let f: Frame | null = frame; f !== null; f = f.next)
      if (f.hold !== null && !f.hold.released) depth++;
    if (depth >= this.limits.depth) {
      this.limit(frame, "depth", this.limits.depth);
      return hold;
    }

    const next = hold.id;
    const hash = this.chains.hash(frame, next);
    let chain = this.chains.lookup(hash, frame, next);
    const validate = !trylock && cls.validate;
    if (chain !== undefined && (chain.validated || !validate)) {
      this.stats.chainHits++;
      hold.chain = chain;
      // A trylock shares its chain key with the ordinary acquisition but is never validated
      // (lockdep §1.5): it must not inherit that chain's finding, or `throw` leaves it untracked.
      if (chain.bad !== undefined && validate) this.finding = chain.bad;
      return hold;
    }
    this.stats.chainMisses++;
    if (chain === undefined) {
      if (this.chains.size >= this.limits.chains) {
        this.limit(frame, "chains", this.limits.chains);
        return hold;
      }
      chain = this.chains.add(hash, frame, next, captureTrace());
    }
    hold.chain = chain;
    if (!validate) return hold;
    chain.validated = true;

    const held = liveHolds(frame);
    const verdict = this.checkDeadlock(held, hold, frame, chain.trace);
    if (verdict === "reported") {
      chain.bad = this.finding;
      return hold;
    }
    if (verdict === "nested") return hold;
    if (this.checkPrevsAdd(held, hold, frame, chain.trace) === "reported")
      chain.bad = this.finding;
    return hold;
  }

  private classOf(map: LockMap, subclass: number): LockClass | undefined {
    const existing = map.key.classes[subclass];
    if (existing !== undefined) return existing;
    const cls = this.registry.classOf(map, subclass);
    if (cls === undefined) {
      this.limit(null, "classes", this.limits.classes);
      return undefined;
    }
    this.graph.addNode(cls.index);
    return cls;
  }

  /**
   * lockdep `check_deadlock`: walk the held locks bottom to top. Example: `A.lock(); A.lock()`
   * or `A1.lock(); A2.lock()` of one class → recursive locking; `r(X1); R(X2)` → allowed.
   */
  private checkDeadlock(
    held: HeldLock[],
    next: HeldLock,
    frame: Frame,
    trace: Trace,
  ): "ok" | "nested" | "reported" {
    let nest: HeldLock | undefined;
    for (const prev of held) {
      if (next.nestLock !== undefined && prev.instance === next.nestLock)
        nest = prev;
      if (prev.cls !== next.cls) continue;
      if (next.read === 2 && prev.read !== 0) continue;
      let orderResult: number | undefined;
      const order = prev.cls.key.order;
      if (order !== undefined) {
        orderResult = this.callOrder(order, prev, next, frame);
        if (orderResult !== undefined && orderResult < 0) continue;
      }
      if (nest !== undefined) return "nested";
      this.recursive(frame, prev, next, orderResult, trace);
      return "reported";
    }
    return "ok";
  }

  /**
   * lockdep `check_prevs_add`: an edge from each trylock directly below the new lock and from
   * the first ordinary held lock; deeper locks are connected transitively. Novalidate holds are
   * stepped over. Example: held [A, B(try)] then C → edges B → C and A → C.
   */
  private checkPrevsAdd(
    held: HeldLock[],
    next: HeldLock,
    frame: Frame,
    trace: Trace,
  ): "ok" | "reported" {
    for (let i = held.length - 1; i >= 0; i--) {
      const prev = held[i]!;
      if (!prev.cls.validate) continue;
      if (this.checkPrevAdd(prev, next, frame, trace) === "reported")
        return "reported";
      if (!prev.trylock) break;
    }
    return "ok";
  }

  /** lockdep `check_prev_add`: search for a strong path next → … → prev, else add or widen prev → next. */
  private checkPrevAdd(
    prev: HeldLock,
    next: HeldLock,
    frame: Frame,
    trace: Trace,
  ): "ok" | "reported" {
    const order = prev.cls.key.order;
    if (prev.cls === next.cls && order !== undefined) {
      const r = this.callOrder(order, prev, next, frame);
      if (r !== undefined && r < 0) return "ok";
    }
    const from = prev.cls.index;
    const to = next.cls.index;
    if (this.graph.order.respects(from, to)) {
      this.stats.searchesSkipped++;
    } else {
      this.stats.searches++;
      const path = this.graph.strongPath(
        to,
        next.read === 2,
        from,
        prev.read,
        this.limits.searchQueue,
      );
      if (path === "overflow") {
        this.limit(frame, "searchQueue", this.limits.searchQueue);
        return "ok";
      }
      if (path !== null) {
        this.circular(frame, prev, next, path, trace);
        return "reported";
      }
    }
    const bit = depBit(prev.read, next.read);
    const existing = this.graph.edge(from, to);
    if (existing !== undefined) {
      existing.dep |= bit;
      return "ok";
    }
    if (this.graph.edgeCount >= this.limits.edges) {
      this.limit(frame, "edges", this.limits.edges);
      return "ok";
    }
    this.graph.add(from, to, bit, trace);
    return "ok";
  }

  private callOrder(
    order: (a: never, b: never) => number,
    prev: HeldLock,
    next: HeldLock,
    frame: Frame,
  ): number | undefined {
    let result: unknown;
    try {
      result = (order as (a: object, b: object) => unknown)(
        prev.instance,
        next.instance,
      );
    } catch (error) {
      this.invalid(
        frame,
        `the \`order\` function of ${prev.cls.name} threw: ${String(error)}`,
        [prev.cls.name],
      );
      return undefined;
    }
    if (typeof result !== "number" || Number.isNaN(result)) {
      this.invalid(
        frame,
        `the \`order\` function of ${prev.cls.name} must return a number, got ${typeof result === "number" ? "NaN" : typeof result}`,
        [prev.cls.name],
      );
      return undefined;
    }
    return result;
  }

  // ---- findings -------------------------------------------------------------------------

  private recursive(
    frame: Frame,
    prev: HeldLock,
    next: HeldLock,
    orderResult: number | undefined,
    trace: Trace,
  ): void {
    const sameInstance = prev.instance === next.instance;
    const data: ReportData = {
      kind: "recursive-locking",
      id: `recursive-locking:${next.cls.id}${sameInstance ? ":same-instance" : ""}`,
      classes: [next.cls.name],
      task: frame.task.name,
      held: liveHolds(frame).map(lockRef),
      stack: userFrames(trace),
      next: { ...lockRef(next), at: userFrames(trace, 3) },
      prev: lockRef(prev),
      sameInstance,
      ...(orderResult !== undefined ? { orderResult } : {}),
    };
    this.finding = this.emit(data);
  }

  private circular(
    frame: Frame,
    prev: HeldLock,
    next: HeldLock,
    path: Edge[],
    trace: Trace,
  ): void {
    const classes = this.registry.classes;
    const cycleNodes = [next.cls.index, ...path.map((e) => e.to)];
    const cycle: ClassRef[] = cycleNodes.map((n) => classes[n]!.ref());
    // "the existing dependency chain (in reverse order)": #N = prev (edge into it), …, #0 = next.
    const chain = [
      ...path
        .slice()
        .reverse()
        .map((e) => ({
          class: classes[e.to]!.ref(),
          read: readOf(e),
          stack: userFrames(e.trace),
        })),
      { class: next.cls.ref(), read: next.read, stack: userFrames(trace) },
    ];
    const ids = cycle.map((c) => c.id);
    const data: ReportData = {
      kind: "circular-dependency",
      id: `circular-dependency:${canonicalCycle(ids).join(" -> ")}`,
      classes: cycle.map((c) => c.name),
      task: frame.task.name,
      held: liveHolds(frame).map(lockRef),
      stack: userFrames(trace),
      next: { ...lockRef(next), at: userFrames(trace, 3) },
      prev: lockRef(prev),
      chain,
      cycle,
    };
    this.finding = this.emit(data);
  }

  private nestNotHeld(frame: Frame, hold: HeldLock, nestLock: object): void {
    const nestName = nameOfInstance(nestLock);
    const trace = captureTrace();
    this.emit({
      kind: "nest-lock-not-held",
      id: `nest-lock-not-held:${hold.cls.id}:${nestName}`,
      classes: [hold.cls.name, nestName],
      task: frame.task.name,
      held: liveHolds(frame).map(lockRef),
      stack: userFrames(trace),
      lock: { ...lockRef(hold), at: userFrames(trace, 3) },
      nestLock: { id: nestName, name: nestName, type: "lock", usage: "{....}" },
    });
  }

  invalid(frame: Frame | null, message: string, classes: string[]): void {
    const trace = captureTrace();
    this.emit({
      kind: "invalid-annotation",
      id: `invalid-annotation:${message}`,
      classes,
      task: frame?.task.name ?? "main",
      held: frame === null ? [] : liveHolds(frame).map(lockRef),
      stack: userFrames(trace),
      message,
    });
  }

  /** A capacity ran out: report it once; what needed it is not validated. */
  private limit(frame: Frame | null, limit: keyof Limits, max: number): void {
    if (this.exhausted.has(limit)) return;
    this.exhausted.add(limit);
    this.emit({
      kind: "limit-exceeded",
      id: `limit-exceeded:${limit}`,
      classes: [],
      task: frame?.task.name ?? "main",
      held: frame === null ? [] : liveHolds(frame).map(lockRef),
      stack: userFrames(captureTrace()),
      limit,
      max,
    });
  }

  reset(): void {
    this.registry.reset();
    this.graph.reset();
    this.chains.reset();
    this.exhausted.clear();
    this.registry.limit = this.limits.classes;
    for (const k of Object.keys(this.stats) as (keyof ValidatorStats)[])
      this.stats[k] = 0;
    this.finding = undefined;
  }
}

function readOf(e: Edge): ReadMode {
  return (e.dep & (DEP_SN | DEP_EN)) !== 0 ? 0 : 2;
}

/** Rotates a cycle to start at its smallest id, so one cycle found from any edge has one id. */
function canonicalCycle(ids: string[]): string[] {
  let best = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[best]!) best = i;
  return [...ids.slice(best), ...ids.slice(0, best)];
}

export function lockRef(hold: HeldLock): LockRef {
  return {
    ...hold.cls.ref(),
    read: hold.read,
    at: userFrames(hold.chain?.trace, 3),
  };
}

/** Does this task hold `instance` (any mode)? A nest-merged entry matches by class too. */
export function holds(frame: Frame, instance: object): boolean {
  for (let f: Frame | null = frame; f !== null; f = f.next) {
    const h = f.hold;
    if (h !== null && !h.released && h.instance === instance) return true;
  }
  return false;
}

function nameOfInstance(instance: object): string {
  const name = (instance as { name?: unknown }).name;
  return typeof name === "string"
    ? name
    : (instance.constructor?.name ?? "lock");
}
