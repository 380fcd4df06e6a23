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
import {
  canonicalCycle,
  DependencyGraph,
  depBit,
  DEP_EN,
  DEP_SN,
  type AddResult,
  type AddRules,
  type Edge,
} from "./graph.js";
import {
  HeldLock,
  heldOf,
  liveHolds,
  mergedHold,
  siteOf,
  type ChainRecord,
  type Frame,
} from "./held-lock.js";
import { ClassRegistry, type LockClass, type LockMap } from "./lock-class.js";
import type {
  ClassRef,
  LockRef,
  ReadMode,
  RecursiveLockingReport,
  Report,
  ReportData,
  SourceFrame,
  WaitContext,
} from "./report.js";
import { boundedName } from "./report.js";
import { safeString } from "./policy.js";
import type { SharedEdge, SharedGraph } from "./shared-graph.js";
import { captureTrace, userFrames, type Trace } from "./stack.js";
import { capacityOf } from "./capacity.js";

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
  /**
   * Distinct string keys (with deferred keys and task names) and construction sites remembered
   * until tracker.reset(): ~240 B each (lock-class.ts, "Memory").
   */
  keys: number;
}

export const DEFAULT_LIMITS: Limits = {
  classes: 8192,
  depth: 48,
  edges: 32768,
  chains: 65536,
  searchQueue: 4096,
  keys: 65536,
};

export interface ValidatorStats {
  acquisitions: number;
  /** DEPT waits on event classes (completions, conditions, deferreds, tasks). */
  waits: number;
  waitHits: number;
  waitMisses: number;
  chainHits: number;
  chainMisses: number;
  searches: number;
  searchesSkipped: number;
}

export class Validator {
  readonly limits: Limits = { ...DEFAULT_LIMITS };
  readonly registry = new ClassRegistry(
    DEFAULT_LIMITS.classes,
    DEFAULT_LIMITS.keys,
  );
  readonly graph = new DependencyGraph();
  readonly chains = new ChainCache();
  readonly stats: ValidatorStats = {
    acquisitions: 0,
    waits: 0,
    waitHits: 0,
    waitMisses: 0,
    chainHits: 0,
    chainMisses: 0,
    searches: 0,
    searchesSkipped: 0,
  };
  /** Report cycles through timed waits as "circular dependency through a timeout". */
  reportTimeouts = false;
  /** `sites: 'every'`: each acquisition captures its own site (1–8 µs), so reports are exact. */
  everySite = false;
  /** The graph shared with other isolates through a store (stores/), when one is attached. */
  shared: SharedGraph | undefined;
  private readonly exhausted = new Set<string>();

  constructor(
    private readonly emit: (data: ReportData) => Report,
    /** A finding no acquisition throws (policy `throw` prints it instead: policy.ts). */
    private readonly unthrown: (report: Report) => void = () => {},
  ) {}

  /**
   * The most common acquisition, without the general path's bookkeeping: subclass 0, no nest
   * lock, not a trylock, by a task that holds nothing, of a class already taken alone in this
   * read mode. Its verdict is the class's alone chain, validated then and unable to change:
   * with nothing held there is no edge to add and nothing to take twice. Undefined when any of
   * that is not so (the caller takes the general path).
   */
  acquireAlone(
    map: LockMap,
    instance: object,
    read: ReadMode,
    frame: Frame,
  ): HeldLock | undefined {
    const cls = map.key.classes[0];
    const chain = cls?.aloneChain[read];
    if (chain === undefined || frame.hold !== null || frame.next !== null)
      return undefined;
    this.stats.acquisitions++;
    this.stats.chainHits++;
    const hold = new HeldLock(
      cls!,
      instance,
      read,
      false,
      undefined,
      frame.task,
    );
    hold.chain = chain;
    if (this.everySite) hold.site = captureTrace();
    return hold;
  }

  /**
   * An acquisition attempt of `instance` (of `map`'s key, `subclass`) by the task whose held
   * list is `frame`. Returns the hold to push when granted — a token sharing a held entry when
   * it merged into one (nest lock: `mergedInto`) — or undefined when the lock cannot be tracked
   * (a capacity ran out). Its deadlock finding, if any, is `findingOf(hold)`.
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
    this.stats.acquisitions++;
    const cls = map.key.classes[subclass] ?? this.classOf(map, subclass);
    if (cls === undefined) return undefined;
    cls.markUsed(read);

    // Nest-lock merge (§1.4 step 4): the top held lock has this class and a nest lock is given.
    if (nestLock !== undefined) {
      for (let f: Frame | null = frame; f !== null; f = f.next) {
        const top = f.hold;
        if (top === null || top.released) continue;
        if (top.cls === cls) {
          top.references++;
          return mergedHold(top);
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
    if (this.everySite) hold.site = captureTrace();
    if (nestLock !== undefined && heldOf(frame, nestLock) === undefined)
      this.nestNotHeld(frame, hold, nestLock);

    // Nothing held: the chain is the class alone, validated once per read mode.
    if (frame.hold === null && frame.next === null) {
      const alone = cls.aloneChain[read];
      if (alone !== undefined) {
        this.stats.chainHits++;
        hold.chain = alone;
        return hold;
      }
    }

    const next = hold.id;
    const hash = this.chains.hash(frame, next, instance);
    if (this.chains.depth >= this.limits.depth) {
      this.limit(frame, "depth", this.limits.depth);
      return hold;
    }
    let chain = this.chains.lookup(hash, frame, next, instance);
    const validate = !trylock && cls.key.validate;
    if (chain !== undefined && (chain.validated || !validate)) {
      this.stats.chainHits++;
      hold.chain = chain;
      return hold;
    }
    this.stats.chainMisses++;
    if (chain === undefined) {
      if (this.chains.size >= this.limits.chains) {
        this.limit(frame, "chains", this.limits.chains);
        return hold;
      }
      chain = this.chains.add(
        hash,
        frame,
        next,
        instance,
        hold.site ?? captureTrace(),
      );
      // The chain is new, so its trace is this very acquisition's site.
      hold.site = chain.trace;
    }
    hold.chain = chain;
    if (!validate) return hold;
    chain.validated = true;
    if (this.chains.depth === 0) cls.aloneChain[read] = chain;

    const held = liveHolds(frame);
    const verdict = this.checkDeadlock(held, hold, frame, chain.trace, map);
    if (verdict === "nested") return hold;
    chain.bad =
      verdict ?? this.checkPrevsAdd(held, hold, frame, chain.trace, false);
    return hold;
  }

  /** The class of (key, subclass), a graph node from its first use. */
  classOf(map: LockMap, subclass: number): LockClass | undefined {
    const existing = map.key.classes[subclass];
    if (existing !== undefined) return existing;
    const cls = this.registry.classOf(map, subclass);
    if (cls === undefined) {
      const full = this.registry.refused;
      this.limit(null, full, this.limits[full]);
      return undefined;
    }
    if (this.registry.created) this.graph.addNode(cls.index);
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
    map: LockMap,
  ): Report | "nested" | undefined {
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
      const pool = poolLoad(held, next, map.concurrency);
      // The user promised fewer flows than it takes to exhaust the pool: intended nesting.
      if (pool === "promised") return "nested";
      return this.recursive(frame, prev, next, orderResult, trace, pool);
    }
    return undefined;
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
    timeout = false,
  ): Report | undefined {
    for (let i = held.length - 1; i >= 0; i--) {
      const prev = held[i]!;
      if (!prev.cls.validate) continue;
      // A task awaiting a task of its own class is a tree of structured work, not a cycle:
      // the child never waits for its parent. (A task awaiting itself cannot be written.)
      if (prev.ecxt && prev.cls === next.cls && prev.cls.event?.tree === true)
        break;
      const report = this.checkPrevAdd(prev, next, frame, trace, timeout);
      if (report !== undefined) return report;
      if (!prev.trylock) break;
    }
    return undefined;
  }

  /** lockdep `check_prev_add`: search for a strong path next → … → prev, else add or widen prev → next. */
  private checkPrevAdd(
    prev: HeldLock,
    next: HeldLock,
    frame: Frame,
    trace: Trace,
    timeout: boolean,
  ): Report | undefined {
    const order = prev.cls.key.order;
    if (prev.cls === next.cls && order !== undefined) {
      const r = this.callOrder(order, prev, next, frame);
      if (r !== undefined && r < 0) return undefined;
    }
    const bit = depBit(prev.read, next.read);
    const added = this.graph.tryAdd(
      prev.cls.index,
      next.cls.index,
      bit,
      timeout,
      this.addRules(),
      trace,
      { start: siteOf(prev) },
    );
    if (added.kind === "cycle")
      return this.circular(frame, prev, next, added.path, trace, {
        cycle: added.timeout,
        closing: timeout,
      });
    return this.added(added, bit, trace, frame, siteOf(prev), timeout);
  }

  private addRules(): AddRules {
    return {
      maxQueue: this.limits.searchQueue,
      maxEdges: this.limits.edges,
      reportTimeouts: this.reportTimeouts,
      counts: this.stats,
    };
  }

  /**
   * After an insert that closed no cycle: a bound that ran out is reported once; a new
   * dependency, a new bit of one, or a bit only timed waits had made now made by an untimed
   * one is news for the shared graph, where it may close a cycle the local graph cannot see.
   */
  private added(
    added: AddResult,
    bit: number,
    trace: Trace,
    frame: Frame,
    start: Trace | undefined,
    timeout: boolean,
  ): Report | undefined {
    switch (added.kind) {
      case "overflow":
        this.limit(frame, "searchQueue", this.limits.searchQueue);
        return undefined;
      case "full":
        this.limit(frame, "edges", this.limits.edges);
        return undefined;
      case "added":
      case "widened": {
        const { from, to } = added.edge;
        return this.share(from, to, bit, trace, frame, { start, timeout });
      }
      default:
        return undefined;
    }
  }

  /**
   * A new dependency (or read/write bit of one) goes to the graph shared with other isolates,
   * when there is one; a cycle it closes through their edges is this acquisition's finding, as
   * a local one would be: returned, so the chain is cached with it (a retry is refused again)
   * and `throw` breaks it here.
   */
  private share(
    from: number,
    to: number,
    bit: number,
    trace: Trace,
    frame: Frame,
    extra: { start?: Trace | undefined; timeout: boolean },
  ): Report | undefined {
    const shared = this.shared;
    if (shared === undefined) return undefined;
    const classes = this.registry.classes;
    const report = shared.local(
      {
        from: classes[from]!.ref(),
        to: classes[to]!.ref(),
        dep: bit,
        timeout: extra.timeout,
        stack: userFrames(trace),
        fromStack: framesOf(extra.start),
        task: frame.task.name,
        origin: shared.origin,
      },
      () => heldRefs(frame),
    );
    return report === undefined ? undefined : this.emit(report);
  }

  /** This isolate's dependencies as the shared graph takes them (their tasks are not kept). */
  ownEdges(origin: SharedEdge["origin"]): SharedEdge[] {
    const classes = this.registry.classes;
    const edges: SharedEdge[] = [];
    for (const e of this.graph.edges())
      edges.push({
        from: classes[e.from]!.ref(),
        to: classes[e.to]!.ref(),
        dep: e.dep,
        timeout: e.timeout,
        stack: userFrames(e.trace),
        fromStack: userFrames(e.start),
        task: "a task before sharing began",
        origin,
      });
    return edges;
  }

  /** Dependencies other isolates published (a store delivers them): cycles they close are reported. */
  received(edges: readonly SharedEdge[]): void {
    const shared = this.shared;
    if (shared === undefined) return;
    for (const edge of edges) {
      const report = shared.remote(edge);
      // No acquisition is there to throw it: under `throw` it is printed as one not thrown.
      if (report !== undefined) this.unthrown(this.emit(report));
    }
  }

  // ---- DEPT: waits and events ----------------------------------------------------------

  /**
   * A wait for an event of `map`'s class (dept_wait): validated like an acquisition that is
   * not kept. Holding lock A while waiting for completion C adds A → C. Returns the wait's
   * chain — its class (`waited`), its stack (for the task's history) and its finding (`bad`) —
   * or undefined when untracked. A cached chain is returned as it is: no allocation per wait.
   */
  wait(
    map: LockMap,
    instance: object,
    frame: Frame,
    timeout: boolean,
  ): ChainRecord | undefined {
    this.stats.waits++;
    const cls = this.classOf(map, 0);
    // `validate: false` (DEPT's nocheck map): its waits and events are ignored.
    if (cls === undefined || !cls.key.validate) return undefined;
    // A timed wait is cached under its own key (slot 3 of the class: no lock has read mode 3).
    // Its verdict — a delay at worst, searched only with `reportTimeouts` — must not answer for
    // the untimed wait of the same chain: `M; wait(C, 100ms)` first, then `M; wait(C)` must
    // still close M → C → M. (A hold's id is `index * 4 + read`; a wait is an exclusive take.)
    const slot = timeout ? 3 : 0;
    if (frame.hold === null && frame.next === null) {
      const alone = cls.aloneChain[slot];
      if (alone !== undefined) {
        this.stats.waitHits++;
        alone.waited ??= cls; // first made by an acquisition of this class
        return alone;
      }
    }
    const key = cls.index * 4 + slot;
    const hash = this.chains.hash(frame, key, undefined);
    let chain = this.chains.lookup(hash, frame, key, undefined);
    if (chain !== undefined && chain.validated) {
      this.stats.waitHits++;
      chain.waited ??= cls; // first made by an acquisition of this class
      return chain;
    }
    this.stats.waitMisses++;
    if (chain === undefined) {
      if (this.chains.size >= this.limits.chains) {
        this.limit(frame, "chains", this.limits.chains);
        return uncached(cls, captureTrace());
      }
      chain = this.chains.add(hash, frame, key, undefined, captureTrace());
    }
    chain.validated = true;
    chain.waited = cls;
    if (this.chains.depth === 0) cls.aloneChain[slot] = chain;
    const next = new HeldLock(cls, instance, 0, false, undefined, frame.task);
    next.chain = chain;
    chain.bad = this.checkPrevsAdd(
      liveHolds(frame),
      next,
      frame,
      chain.trace,
      timeout,
    );
    return chain;
  }

  /**
   * `event → waited`: inside the event context of `event` the raising task waited for
   * `waited` (from its history). Checked once per edge, ever; a closing edge is never inserted.
   * An edge that only timed waits made is checked again when an untimed wait makes it: `C → D`
   * from a raiser of C that waited for D with a timeout closed no deadlock with `D → C`; the
   * same edge from an untimed wait does.
   */
  dependency(
    event: LockClass,
    waited: LockClass,
    frame: Frame,
    traces: {
      wait: Trace | undefined;
      start: Trace | undefined;
      event: () => Trace;
    },
    timeout: boolean,
  ): Report | undefined {
    if (!event.key.validate || !waited.key.validate) return undefined;
    const bit = depBit(0, 0);
    // Known: checked when it was added. Asked first, so the event's stack is not captured.
    if (this.graph.knows(event.index, waited.index, bit, timeout))
      return undefined;
    const eventTrace = traces.event();
    const waitTrace = traces.wait ?? eventTrace;
    const added = this.graph.tryAdd(
      event.index,
      waited.index,
      bit,
      timeout,
      this.addRules(),
      waitTrace,
      { start: traces.start, event: eventTrace },
    );
    if (added.kind === "cycle")
      return this.dependencyCycle(
        frame,
        event,
        waited,
        added.path,
        { ...traces, wait: waitTrace, event: eventTrace },
        { cycle: added.timeout, closing: timeout },
      );
    return this.added(added, bit, waitTrace, frame, traces.start, timeout);
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
        `the \`order\` function of ${prev.cls.name} threw: ${boundedName(safeString(error))}`,
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
    pool: RecursiveLockingReport["pool"],
  ): Report {
    const sameInstance = prev.instance === next.instance;
    const data: ReportData = {
      kind: "recursive-locking",
      id: `recursive-locking:${next.cls.id}${sameInstance ? ":same-instance" : ""}`,
      classes: [next.cls.name],
      task: frame.task.name,
      held: heldRefs(frame),
      stack: userFrames(trace),
      next: lockRef(next, trace),
      prev: lockRef(prev),
      sameInstance,
      certain:
        sameInstance &&
        prev.read === 0 &&
        next.read === 0 &&
        capacityOf(next.instance) === 1,
      ...(orderResult !== undefined ? { orderResult } : {}),
      ...(pool !== undefined && sameInstance ? { pool } : {}),
    };
    return this.emit(data);
  }

  /**
   * Taking `next` while holding `prev` closes the cycle prev → next → … → prev. `timeout.cycle`:
   * the cycle runs through a timed wait; `timeout.closing`: the closing wait itself is timed.
   */
  private circular(
    frame: Frame,
    prev: HeldLock,
    next: HeldLock,
    path: Edge[],
    trace: Trace,
    timeout: { cycle: boolean; closing: boolean },
  ): Report {
    return this.cycleReport(frame, path, timeout.cycle, {
      timed: timeout.closing,
      from: prev.cls,
      to: next.cls,
      prev: lockRef(prev),
      next: lockRef(next, trace),
      nextRead: next.read,
      trace,
      start: siteOf(prev),
      event: undefined,
    });
  }

  /** Inside the event context of `event` the raiser waited for `waited`, closing a cycle. */
  private dependencyCycle(
    frame: Frame,
    event: LockClass,
    waited: LockClass,
    path: Edge[],
    traces: { wait: Trace; start: Trace | undefined; event: Trace },
    timeout: { cycle: boolean; closing: boolean },
  ): Report {
    return this.cycleReport(frame, path, timeout.cycle, {
      timed: timeout.closing,
      from: event,
      to: waited,
      prev: { ...event.ref(), read: 0, at: userFrames(traces.start, 3) },
      next: { ...waited.ref(), read: 0, at: userFrames(traces.wait, 3) },
      nextRead: 0,
      trace: traces.wait,
      start: traces.start,
      event: traces.event,
    });
  }

  private cycleReport(
    frame: Frame,
    path: Edge[],
    timeout: boolean,
    closing: {
      /** The closing wait had a timeout (DEPT marks its [W]). */
      timed: boolean;
      from: LockClass;
      to: LockClass;
      prev: LockRef;
      next: LockRef;
      nextRead: ReadMode;
      trace: Trace;
      start: Trace | undefined;
      event: Trace | undefined;
    },
  ): Report {
    const classes = this.registry.classes;
    const cycleClasses = [closing.to, ...path.map((e) => classes[e.to]!)];
    const cycle: ClassRef[] = cycleClasses.map((c) => c.ref());
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
      {
        class: closing.to.ref(),
        read: closing.nextRead,
        stack: userFrames(closing.trace),
      },
    ];
    // DEPT's view, one context per edge: the closing edge first, then the path back.
    const dept = cycleClasses.some((c) => c.event !== undefined) || timeout;
    const contexts: WaitContext[] = dept
      ? [
          waitContext(
            closing.from,
            closing.to,
            closing.start,
            closing.trace,
            closing.event,
            closing.timed,
          ),
          ...path.map((e) =>
            waitContext(
              classes[e.from]!,
              classes[e.to]!,
              e.start,
              e.trace,
              e.event,
              e.timeout,
            ),
          ),
        ]
      : [];
    const ids = cycle.map((c) => c.id);
    const data: ReportData = {
      kind: "circular-dependency",
      id: `circular-dependency:${canonicalCycle(ids).join(" -> ")}${timeout ? ":timeout" : ""}`,
      classes: cycle.map((c) => c.name),
      task: frame.task.name,
      held: heldRefs(frame),
      stack: userFrames(closing.trace),
      next: closing.next,
      prev: closing.prev,
      chain,
      cycle,
      ...(dept ? { waits: contexts } : {}),
      ...(timeout ? { timeout: true } : {}),
    };
    return this.emit(data);
  }

  private nestNotHeld(frame: Frame, hold: HeldLock, nestLock: object): void {
    const nestName = nameOfInstance(nestLock);
    const trace = captureTrace();
    this.emit({
      kind: "nest-lock-not-held",
      id: `nest-lock-not-held:${hold.cls.id}:${nestName}`,
      classes: [hold.cls.name, nestName],
      task: frame.task.name,
      held: heldRefs(frame),
      stack: userFrames(trace),
      lock: lockRef(hold, trace),
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
      held: frame === null ? [] : heldRefs(frame),
      stack: userFrames(trace),
      message,
    });
  }

  /** The key table was full when a lock was made: it is untracked (reported once). */
  keysFull(): void {
    this.limit(null, "keys", this.limits.keys);
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
      held: frame === null ? [] : heldRefs(frame),
      stack: userFrames(captureTrace()),
      limit,
      max,
    });
  }

  reset(): void {
    this.shared?.forgetOwn();
    this.registry.reset();
    this.graph.reset();
    this.chains.reset();
    this.exhausted.clear();
    this.registry.limit = this.limits.classes;
    this.registry.keyLimit = this.limits.keys;
    for (const k of Object.keys(this.stats) as (keyof ValidatorStats)[])
      this.stats[k] = 0;
  }
}

/** A lock's DEPT points; an event class declares its own (EventKind). */
const LOCK_POINTS = { start: "lock", wait: "lock", event: "unlock" } as const;

function waitContext(
  from: LockClass,
  to: LockClass,
  start: Trace | undefined,
  wait: Trace | undefined,
  event: Trace | undefined,
  timeout: boolean,
): WaitContext {
  return {
    start: {
      fn: (from.event ?? LOCK_POINTS).start,
      class: from.ref(),
      at: userFrames(start, 6),
    },
    wait: {
      fn: (to.event ?? LOCK_POINTS).wait,
      class: to.ref(),
      at: userFrames(wait, 6),
      ...(timeout ? { timeout: true } : {}),
    },
    event: {
      fn: (from.event ?? LOCK_POINTS).event,
      class: from.ref(),
      at: userFrames(event, 6),
    },
  };
}

/**
 * A held lock's site as user frames, parsed once: the same hold's trace is the `from` of every
 * dependency taken under it, each one shared (a parse is ~10 µs).
 */
const parsed = new WeakMap<Trace, SourceFrame[]>();
function framesOf(trace: Trace | undefined): SourceFrame[] {
  if (trace === undefined) return [];
  let frames = parsed.get(trace);
  if (frames === undefined) parsed.set(trace, (frames = userFrames(trace)));
  return frames;
}

function readOf(e: Edge): ReadMode {
  return (e.dep & (DEP_SN | DEP_EN)) !== 0 ? 0 : 2;
}

/**
 * A hold as a report shows it. `at` is the hold's own site when known (`trace`, the running
 * acquisition's; or the hold's); otherwise its chain's first-seen site, marked as such: the
 * same locking pattern may have been first taken by other code.
 */
export function lockRef(hold: HeldLock, trace?: Trace): LockRef {
  const own = trace ?? hold.site;
  const ref: LockRef = {
    ...hold.cls.ref(),
    read: hold.read,
    at: userFrames(own ?? hold.chain?.trace, 3),
  };
  if (own === undefined && hold.chain !== undefined) ref.site = "first-seen";
  return ref;
}

function nameOfInstance(instance: object): string {
  const name = (instance as { name?: unknown }).name;
  return boundedName(
    typeof name === "string" ? name : (instance.constructor?.name ?? "lock"),
  );
}

/** The locks a task holds, bottom first, for a report (event contexts are not locks). */
export function heldRefs(frame: Frame): LockRef[] {
  return liveHolds(frame)
    .filter((h) => !h.ecxt)
    .map((h) => lockRef(h));
}

/**
 * A flow re-taking a lock of several units that it holds some of: how many units it holds and
 * how many flows doing the same exhaust it (each holds at most `held` and waits for one more,
 * so ⌈size / held⌉ flows can hold every unit). "promised" when the lock's `concurrency`
 * (`promised`) is below that; undefined when it is not such a lock or its size is unknown.
 */
function poolLoad(
  held: HeldLock[],
  next: HeldLock,
  promised: number | undefined,
): RecursiveLockingReport["pool"] | "promised" | undefined {
  // A lock of one unit re-taken is a certain self-deadlock, not a pool under load.
  const size = capacityOf(next.instance);
  if (size === undefined || size < 2 || next.read !== 0) return undefined;
  let units = 0;
  for (const h of held) if (h.instance === next.instance) units++;
  if (units === 0) return undefined;
  const flowsToHang = Math.ceil(size / units);
  if (promised !== undefined && promised < flowsToHang) return "promised";
  return { size, held: units, flowsToHang };
}

/** A wait's verdict when the chain table is full: validated by nobody, cached nowhere. */
function uncached(waited: LockClass, trace: Trace): ChainRecord {
  return {
    hash: 0,
    ids: new Int32Array(0),
    trace,
    bad: undefined,
    validated: false,
    alt: undefined,
    waited,
  };
}

/**
 * The deadlock finding an acquisition carries: its chain's first report, served to every
 * acquisition of that chain that is validated — never to a trylock's (lockdep §1.5: it shares
 * its chain key with the ordinary acquisition but is never validated; inheriting the finding
 * would leave it untracked under `throw`), a nest-merged one's or a `validate: false` class's.
 */
export function findingOf(hold: HeldLock): Report | undefined {
  if (hold.mergedInto !== undefined || hold.trylock || !hold.cls.key.validate)
    return undefined;
  return hold.chain?.bad;
}
