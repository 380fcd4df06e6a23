// The tracker's mutable state outside the core object (instance.ts), in one versioned global
// slot, so that every installed copy of waitgraph in a process shares it. npm often installs
// two copies (a library pins one version, the app another); before this each copy had its own
// lock table, wait-for graph, watchdog and acquisition counter, so a lock made by one copy was
// no lock to the other (a Condition refused its Mutex), a wait across copies was no wait, and
// two holds could share one `since` — the wait-for graph's key.
//
// Only plain data lives here, and this file imports no value: every module of every copy can
// import it without an import cycle. The state of one layout version is shared; a copy whose
// layout differs (a future waitgraph) takes the next slot and keeps to itself, as copies whose
// core version differs do.
import type { EventState } from "./events.js";
import type { HeldLock } from "./held-lock.js";
import type { LockMap } from "./lock-class.js";
import type { BlockedWait } from "./wait-for.js";

export interface ProcessState {
  readonly version: 1;
  /** Every lock instance's class data; `UNTRACKED` for one made while tracking was off. */
  readonly locks: WeakMap<object, LockMap>;
  /** Acquisitions so far: a hold's `since`, unique in the process. */
  acquisitions: number;
  /** The live wait-for graph: every blocked wait by its hold's `since`, in blocking order. */
  readonly blocked: Map<number, BlockedWait>;
  /** How many may hold an instance at once, for the instances whose capacity is known. */
  readonly capacities: WeakMap<object, number>;
  /** Called when `blocked` goes from empty to not empty (the watchdog arms itself). */
  onFirstBlocked: () => void;
  readonly watchdog: {
    timeoutMs: number;
    timer: ReturnType<typeof setTimeout> | undefined;
    exitHooked: boolean;
  };
  /** Waits already in a deadlock report: each deadlock is reported once. */
  readonly deadlocksReported: WeakSet<HeldLock>;
  /** Report stacks keep frames under node_modules (`frames: 'all'`). */
  libraryFrames: boolean;
  /** The source and build folders of every copy (paths and file URLs): their frames are ours. */
  readonly ownPaths: string[];
  readonly ownUrls: string[];
  /** Deferreds whose promise is watched for being collected unsettled (seam.ts). */
  readonly unsettleable: FinalizationRegistry<EventState>;
  /** A watched deferred's promise was collected before its event (seam.ts sets it). */
  onUnsettled: (ev: EventState) => void;
  readonly watchQueue: { promise: Promise<unknown>; ev: EventState }[];
  watchQueued: boolean;
  /** A pool tracked by any copy: its Permits (adapters/permits.ts). */
  readonly pools: WeakMap<object, unknown>;
}

/** ms a wait stays blocked before the watchdog checks it (`deadlockTimeout`). */
export const DEFAULT_DEADLOCK_TIMEOUT = 1000;

const SLOT = Symbol.for("waitgraph.state/v1");

/** The state of the process, created by the first copy to load. */
export const state: ProcessState = ((globalThis as { [SLOT]?: ProcessState })[
  SLOT
] ??= {
  version: 1,
  locks: new WeakMap(),
  acquisitions: 0,
  blocked: new Map(),
  capacities: new WeakMap(),
  onFirstBlocked: () => {},
  watchdog: {
    timeoutMs: DEFAULT_DEADLOCK_TIMEOUT,
    timer: undefined,
    exitHooked: false,
  },
  deadlocksReported: new WeakSet(),
  libraryFrames: false,
  ownPaths: [],
  ownUrls: [],
  // Indirect: the registry outlives the copy that made it, the handler is any copy's (seam.ts).
  unsettleable: new FinalizationRegistry((ev: EventState) =>
    state.onUnsettled(ev),
  ),
  onUnsettled: () => {},
  watchQueue: [],
  watchQueued: false,
  pools: new WeakMap(),
});
