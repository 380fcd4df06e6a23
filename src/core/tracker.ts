// The tracker's public face: configure, tasks, inspection. Inspection (snapshot, stats,
// reports) is kept apart from validation, as lockdep keeps /proc/lockdep* apart from lockdep.c.
import { core } from "./instance.js";
import { newTask, type ContextMode } from "./context.js";
import { ReportError } from "./errors.js";
import {
  checkBoolean,
  checkCallback,
  checkInteger,
  checkOneOf,
  expected,
  readOptions,
} from "./arguments.js";
import { liveHolds, type HeldLock, type Frame } from "./held-lock.js";
import type { Policy } from "./policy.js";
import {
  boundedName,
  type Renderer,
  type Report,
  type ReportKind,
} from "./report.js";
import { captureTrace, keepLibraryFrames, userFrames } from "./stack.js";
import { DEFAULT_LIMITS, lockRef, type Limits } from "./validator.js";
import { awaitIsWait, ecxtEnter, eventInit } from "./seam.js";
import type { EventKind } from "./lock-class.js";
import { internalError, report } from "./findings.js";
import { dump } from "./dump.js";
import { setDeadlockTimeout } from "./watchdog.js";

export interface TrackerOptions {
  /** false: primitives stay correct locks, nothing is tracked (and the promise hooks are removed). */
  enabled?: boolean;
  policy?: Policy;
  /** Named capacities (lockdep's MAX_* constants). */
  limits?: Partial<Limits>;
  /** Force the AsyncLocalStorage fallback even where promise hooks exist. */
  context?: ContextMode;
  /**
   * Report cycles through a wait with a timeout, as "circular dependency through a timeout"
   * (DEPT's CONFIG_DEPT_AGGRESSIVE_TIMEOUT_WAIT). Off by default: such a cycle delays, it cannot hang.
   */
  reportTimeouts?: boolean;
  /**
   * Which site a report shows for a held lock. `'first-seen'` (default): the hold's own site when
   * its acquisition was the first of its locking pattern (chain), else the chain's first-seen
   * site, marked as such. `'every'`: every acquisition captures its own site (1–8 µs each).
   */
  sites?: Sites;
  /**
   * Which frames report stacks show. `'user'` (default): frames under node_modules only when
   * there is nothing else; `'all'`: library frames too, for debugging the library itself.
   */
  frames?: "user" | "all";
  /** ms a wait stays blocked before the watchdog checks it for a live deadlock; 0 or false: off (default 1000). */
  deadlockTimeout?: number | false;
}

export type Sites = "first-seen" | "every";

export interface Snapshot {
  classes: { id: string; name: string; type: string }[];
  /** `from`/`to` are display names; `fromId`/`toId` the stable ids graphs from several runs merge by. */
  edges: {
    from: string;
    to: string;
    fromId: string;
    toId: string;
    read: { SR: boolean; ER: boolean; SN: boolean; EN: boolean };
    /** Where `to` was taken (or waited for) while `from` was held: the edge's [W]. */
    stack: import("./report.js").SourceFrame[];
    /** Where `from` was taken (or its event context began): the edge's [S]; empty when unknown. */
    fromStack: import("./report.js").SourceFrame[];
    /** Every wait that made this edge had a timeout: it can delay, not deadlock. */
    timeout: boolean;
  }[];
}

export interface Stats {
  enabled: boolean;
  context: ContextMode;
  classes: number;
  /** String keys (deferred keys, task names) and construction sites remembered: at most `limits.keys`. */
  keys: number;
  edges: number;
  chains: number;
  acquisitions: number;
  chainHits: number;
  chainMisses: number;
  searches: number;
  searchesSkipped: number;
  topologicalOrder: boolean;
  reports: Partial<Record<ReportKind, number>>;
  reportsDropped: number;
  limits: Limits;
}

const TRACKER_OPTION_KEYS = [
  "enabled",
  "policy",
  "limits",
  "context",
  "reportTimeouts",
  "sites",
  "frames",
  "deadlockTimeout",
];

/** The largest value any limit may take; `classes` is bounded lower (edge keys, graph.ts). */
const MAX_LIMIT = 2 ** 31 - 1;

function configure(given: TrackerOptions): void {
  // Required (unlike other options): `configure()` with nothing to configure is a mistake.
  if (given === undefined) throw expected("options", "an object", given);
  const options = readOptions(given, TRACKER_OPTION_KEYS)!;
  const {
    enabled,
    policy,
    context: mode,
    reportTimeouts,
    sites,
    frames,
  } = options;
  checkBoolean("enabled", enabled);
  checkBoolean("reportTimeouts", reportTimeouts);
  checkOneOf("sites", sites, ["first-seen", "every"]);
  checkOneOf("frames", frames, ["user", "all"]);
  if (typeof policy !== "function")
    checkOneOf(
      "policy",
      policy,
      ["log", "throw", "silent"],
      "'log', 'throw', 'silent' or a function",
    );
  checkOneOf("context", mode, ["promise-hooks", "async-local-storage"]);
  const limits = readOptions(
    options.limits,
    Object.keys(DEFAULT_LIMITS),
    "limits",
  );
  for (const [name, value] of Object.entries(limits ?? {}))
    // Edges are keyed from * 0x10000 + to (graph.ts): at most 65,535 classes.
    checkInteger(
      `limits.${name}`,
      value,
      1,
      name === "classes" ? 0xffff : MAX_LIMIT,
      name === "classes"
        ? "an integer from 1 to 65535"
        : `a positive integer (at most ${MAX_LIMIT})`,
    );
  if (options.deadlockTimeout !== undefined)
    setDeadlockTimeout(options.deadlockTimeout);
  if (policy !== undefined) core.reporter.policy = policy;
  if (reportTimeouts !== undefined)
    core.validator.reportTimeouts = reportTimeouts;
  if (sites !== undefined) core.validator.everySite = sites === "every";
  if (frames !== undefined) keepLibraryFrames(frames === "all");
  if (limits !== undefined) {
    Object.assign(core.validator.limits, limits);
    core.validator.registry.limit = core.validator.limits.classes;
    core.validator.registry.keyLimit = core.validator.limits.keys;
  }
  if (mode !== undefined && mode !== core.context.mode && core.tracking.on) {
    core.context.disable();
    core.context.enable(mode);
  }
  if (enabled === true && !core.tracking.on) {
    core.context.enable(mode ?? "promise-hooks");
    core.tracking.on = true;
  } else if (enabled === false && core.tracking.on) {
    core.tracking.on = false;
    core.context.disable();
  }
}

function snapshot(): Snapshot {
  const classes = core.validator.registry.classes;
  return {
    classes: classes.map((c) => ({ id: c.id, name: c.name, type: c.type })),
    edges: [...core.validator.graph.edges()].map((e) => ({
      from: classes[e.from]!.name,
      to: classes[e.to]!.name,
      fromId: classes[e.from]!.id,
      toId: classes[e.to]!.id,
      read: {
        SR: (e.dep & 1) !== 0,
        ER: (e.dep & 2) !== 0,
        SN: (e.dep & 4) !== 0,
        EN: (e.dep & 8) !== 0,
      },
      stack: userFrames(e.trace, 4),
      fromStack: userFrames(e.start, 4),
      timeout: e.timeout,
    })),
  };
}

function stats(): Stats {
  const v = core.validator;
  return {
    enabled: core.tracking.on,
    context: core.context.mode,
    classes: v.registry.classes.length,
    keys: v.registry.keyCount,
    edges: v.graph.edgeCount,
    chains: v.chains.size,
    ...v.stats,
    topologicalOrder: v.graph.order.acyclic,
    reports: Object.fromEntries(core.reporter.counts),
    reportsDropped: core.reporter.dropped,
    limits: { ...v.limits },
  };
}

export const tracker = {
  configure,
  reports(): readonly Report[] {
    return core.reporter.stored.slice();
  },
  /** Forget classes, edges, chains and reports (tests). Locks keep working. */
  reset(): void {
    core.validator.reset();
    core.reporter.reset();
    core.events.reset();
  },
  snapshot,
  stats,
  /** Every blocked wait and what its flow holds (sysrq "show all locks held"). */
  dump,
  get enabled(): boolean {
    return core.tracking.on;
  },
  get policy(): Policy {
    return core.reporter.policy;
  },
  /** @internal the entry point installs the text renderer (core cannot import src/report). */
  setRenderer(renderer: Renderer): void {
    core.reporter.renderer = renderer;
  },
  /** @internal where `log` writes (tests capture it). */
  setWriter(write: (text: string) => void): void {
    core.reporter.write = write;
  },
};

/**
 * Runs `fn` as a new task named `name`, with nothing held. When it settles, any lock it took
 * and still holds is reported (held-at-task-end); under `policy: 'throw'` the task rejects.
 */
/** A task's life is its event context, its return the event; tasks nest as a tree. */
const TASK: EventKind = {
  start: "task",
  wait: "await",
  event: "return",
  tree: true,
};

export function task<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  if (typeof name !== "string") throw expected("name", "a string", name);
  checkCallback("fn", fn);
  if (!core.tracking.on) {
    // As with tracking on: fn starts now, synchronously; its outcome settles the task.
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const record = newTask(name);
  record.holds = [];
  // The task's whole life is the event context of its end (DEPT): everything it waits for
  // before it returns is a dependency of whoever awaits it. Its class is the task() call site.
  // Keyed by name, not by call site: a `spawn(name, fn)` wrapper must not make every task of
  // the program one class. Use stable names; a name per request is a class per request.
  const map = eventInit({ key: `task ${name}` }, "task", task, TASK);
  const life = ecxtEnter(map, record, { task: record, hold: null, next: null });
  const own: Frame = { task: record, hold: life ?? null, next: null };
  let result: Promise<T> | T;
  try {
    result = core.context.runInFrame(own, fn);
  } catch (error) {
    if (life !== undefined) life.released = true;
    return Promise.reject(error);
  }
  const end = new TaskEnd();
  const ended = (): void => {
    end.ended = true;
    if (life !== undefined) life.released = true;
    const left = record.holds!.filter((h) => h.granted && !h.released);
    record.holds = undefined;
    if (left.length > 0) heldAtEnd(name, left);
  };
  // The task itself waits for the promise `fn` returned (`task("t", () => done.wait())`): its
  // subscription is the task's own wait, not one of the caller that started it.
  const done = core.context.runInFrame(own, () =>
    Promise.resolve(result).then(
      (value) => {
        ended();
        return value;
      },
      (error: unknown) => {
        try {
          ended();
        } catch (reported) {
          if (!(reported instanceof ReportError)) throw reported;
        }
        throw error;
      },
    ),
  );
  // Awaiting the task is a wait for its end: holding lock M while awaiting a task that takes
  // M's class closes M → task → M.
  awaitIsWait(done, map, record, undefined, end);
  return done;
}

/**
 * Whether awaiting a task still blocks. Its own object, made outside task(): the waits of a
 * long-lived task's history keep it, and a closure of task() would keep the task's result.
 */
class TaskEnd {
  ended = false;
  /** Awaiting a task that has not ended blocks. */
  elsewhere(): boolean {
    return !this.ended;
  }
}

function heldAtEnd(taskName: string, left: HeldLock[]): void {
  let r: Report | undefined;
  try {
    const name = boundedName(taskName); // report.ts, MAX_NAME_CHARS
    const trace = captureTrace();
    r = report({
      kind: "held-at-task-end",
      id: `held-at-task-end:${name}:${left.map((h) => h.cls.id).join(",")}`,
      classes: left.map((h) => h.cls.name),
      task: name,
      held: left.map((h) => lockRef(h)),
      stack: userFrames(trace),
      locks: left.map((h) => lockRef(h)),
    });
  } catch (error) {
    internalError(error);
    return;
  }
  if (core.reporter.policy === "throw") throw new ReportError(r);
}

/** Wraps `fn` so that it runs with the caller's held locks (a callback the holder really waits for). */
export function bind<A extends unknown[], R>(
  fn: (...args: A) => R,
): (...args: A) => R {
  checkCallback("fn", fn);
  if (!core.tracking.on) return fn;
  const frame: Frame = core.context.current();
  return function (this: unknown, ...args: A): R {
    return core.context.runInFrame(frame, () => fn.apply(this, args));
  };
}

/** Runs `fn` as fire-and-forget work: a new task with nothing held (no false edges from the caller's locks). */
export function detach<R>(fn: () => R): R {
  checkCallback("fn", fn);
  if (!core.tracking.on) return fn();
  return core.context.runAsTask(newTask("detached"), fn);
}

/** The locks the current task holds, bottom first (for debugging and tests). */
export function heldLocks(): { name: string; read: 0 | 1 | 2 }[] {
  if (!core.tracking.on) return [];
  return liveHolds(core.context.current())
    .filter((h) => !h.ecxt)
    .map((h) => ({
      name: h.cls.name,
      read: h.read,
    }));
}
