// A held lock: one entry on a task's held list (lockdep's `struct held_lock`).
import type { EventState } from "./events.js";
import type { LockClass } from "./lock-class.js";
import type { ReadMode } from "./report.js";
import type { Trace } from "./stack.js";
import { state } from "./process-state.js";

/** A task: one async flow of control (lockdep's task, DEPT's context). */
export interface TaskRecord {
  readonly id: number;
  readonly name: string;
  /** Holds taken by an explicit `task()`, checked when it settles (held-at-task-end). */
  holds: HeldLock[] | undefined;
  /** DEPT's wait history (a ring): the waits this task made while some event was awaited. */
  history: WaitEntry[] | undefined;
  historyPos: number;
}

/** One wait in a task's history: which class, when (global wait generation), where. */
export interface WaitEntry {
  cls: LockClass;
  gen: number;
  trace: Trace | undefined;
  timeout: boolean;
  /** The event waited for, when the wait was for an event (not a lock). */
  event: EventState | undefined;
  /** Tells whether the wait is another flow's right now, when that can be known. */
  blocking: Blocking | undefined;
}

/**
 * A wait that may, at the moment an event happens, be another flow's than the raiser's. The
 * raiser is running, so a wait still blocked is not its own; nor is a lock acquisition that
 * was granted to a flow the raiser is not (the caller of an async function that took a lock
 * before its first await goes on without it). Such a wait is no dependency of the event,
 * whichever task's history it was recorded in (a task's history holds the waits of the
 * functions it starts, awaited or not).
 */
export interface Blocking {
  /** `raiser`: the raiser's held list, when it is exact (promise hooks). */
  elsewhere(raiser: Frame | undefined): boolean;
  /**
   * Told which history entry records this wait, by a blocking that knows when it stops
   * waiting (a queued waiter): it then clears `entry.blocking` if that is still itself. Its
   * answer from then on would be "not elsewhere", which an entry without one gives too; and a
   * task's long-lived history no longer keeps a finished waiter — and the promise it settled —
   * alive until the entry is overwritten (measured: ~65 ns per Completion wait in promotion).
   */
  recordedIn?(entry: { blocking: unknown }): void;
}

/** A validated chain: the ordered (class, read) list it stands for and its first-seen stack. */
export interface ChainRecord {
  readonly hash: number;
  readonly ids: Int32Array;
  readonly trace: Trace;
  /** The first report this chain produced; a cache hit re-applies it instead of re-checking. */
  bad: import("./report.js").Report | undefined;
  /** Trylock and novalidate chains are cached for their stack only; never as validated. */
  validated: boolean;
  alt: ChainRecord | undefined;
  /** A wait's chain: the class it waits for (validator.wait). Undefined on a lock's chain. */
  waited: LockClass | undefined;
}

export class HeldLock implements Blocking {
  private releasedFlag = false;
  /** Released — or its class was forgotten by tracker.reset(): a stale hold counts nowhere. */
  get released(): boolean {
    return this.releasedFlag || this.cls.retired;
  }
  set released(value: boolean) {
    this.releasedFlag = value;
    // An unformatted trace pins its frames' closures; a released hold is in no report, and
    // hands nothing over (its continuation's promise and reactions can go).
    if (value) {
      if (this.site !== undefined) this.site = undefined;
      this.continuation = undefined;
    }
  }
  granted = false;
  /**
   * The held list of the flow that asked for it, when it asked (promise hooks): whether a
   * promise that flow's caller started settles with this hold as its result (context.ts).
   */
  takenIn: Frame | undefined = undefined;
  /** The first promise that continues the acquisition (`await`'s, or `.then`'s): context.ts. */
  continuation: object | undefined = undefined;
  /** lockdep's `references`: nest-lock acquisitions merged into this entry. */
  references = 1;
  /** Continuations created before a contended grant; they receive the hold at grant. */
  waiters: object[] | null = null;
  chain: ChainRecord | undefined = undefined;
  /** lockdep's hlock_id: class index and read mode, the unit of chain keys. */
  readonly id: number;
  /** Acquisition order, process-wide: which of two holds was taken first. */
  readonly since: number;

  // Rarely set, so their defaults live on the prototype (below) and a typical hold carries
  // ten own fields instead of fifteen: one is made per acquisition.
  /** Taken with tryAcquire: never validated, looked through for edges. */
  declare readonly trylock: boolean;
  declare readonly nestLock: object | undefined;
  /**
   * An event context rather than a lock: a task's whole life (its end is the event its
   * awaiters wait for) or an explicit ecxt_enter. Waits inside it are its dependencies; it is
   * never "re-taken", so it is exempt from recursive-locking.
   */
  declare ecxt: boolean;
  /**
   * Released for a while by Condition.wait, to be taken again by the same waiter: counts
   * nowhere meanwhile, and continuations awaiting the wait receive it back when it is resumed.
   */
  declare suspended: boolean;
  /** Was suspended and resumed at least once: it may already be on the frames it returns to. */
  declare resumed: boolean;
  /** Set on the token a nest-merged acquisition gets: the shared entry it counts in. */
  declare mergedInto: HeldLock | undefined;
  /**
   * Where this very hold was taken, when that is known: the acquisition validated a new chain
   * (its trace is this hold's), or `sites: 'every'` captured one. Otherwise a report can show
   * only its chain's first-seen site, and says so.
   */
  declare site: Trace | undefined;

  /** Not the raiser's while not granted yet, or held by a flow the raiser is not. */
  elsewhere(raiser: Frame | undefined): boolean {
    if (this.released) return false;
    return !this.granted || (raiser !== undefined && !onFrame(raiser, this));
  }

  constructor(
    readonly cls: LockClass,
    readonly instance: object,
    readonly read: ReadMode,
    trylock: boolean,
    nestLock: object | undefined,
    readonly task: TaskRecord,
  ) {
    this.id = cls.index * 4 + read;
    this.since = ++state.acquisitions;
    if (trylock) (this as { trylock: boolean }).trylock = true;
    if (nestLock !== undefined)
      (this as { nestLock: object }).nestLock = nestLock;
  }
}

Object.assign(HeldLock.prototype, {
  trylock: false,
  nestLock: undefined,
  ecxt: false,
  suspended: false,
  resumed: false,
  mergedInto: undefined,
  site: undefined,
});

/** The trace a report shows for a hold, and whether it is this hold's own or its chain's first. */
export function siteOf(hold: HeldLock): Trace | undefined {
  return hold.site ?? hold.chain?.trace;
}

/**
 * A task's held list at one point of its flow: an immutable linked list, newest first. Every
 * promise created while something is held carries the frame current at its creation.
 * A frame with `hold === null` is the bottom of a task's list.
 */
export interface Frame {
  readonly task: TaskRecord;
  readonly hold: HeldLock | null;
  readonly next: Frame | null;
}

/** Live holds of a frame, bottom first (the order lockdep walks `check_deadlock`). */
export function liveHolds(frame: Frame): HeldLock[] {
  const out: HeldLock[] = [];
  for (let f: Frame | null = frame; f !== null; f = f.next) {
    const h = f.hold;
    if (h !== null && !h.released) out.push(h);
  }
  return out.reverse();
}

/** The task's live hold of `instance` nearest the top of its list, if it holds it. */
export function heldOf(frame: Frame, instance: object): HeldLock | undefined {
  for (let f: Frame | null = frame; f !== null; f = f.next) {
    const h = f.hold;
    if (h !== null && !h.released && !h.ecxt && h.instance === instance)
      return h;
  }
  return undefined;
}

/** Is this very hold on the frame (released or not)? */
export function onFrame(frame: Frame, hold: HeldLock): boolean {
  for (let f: Frame | null = frame; f !== null; f = f.next)
    if (f.hold === hold) return true;
  return false;
}

/** A nest-merged acquisition shares the held entry; only its release is its own. */
export function mergedHold(hold: HeldLock): HeldLock {
  const token = Object.create(hold) as HeldLock;
  token.mergedInto = hold;
  return token;
}
