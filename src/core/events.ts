// DEPT's wait/event model (reference §2): waits, events and event contexts.
//
// A wait [W] may block until an event [E] of some class happens. The event context of an
// event is the stretch of the raiser's own flow from [S] — the moment a waiter started
// waiting for it (dept_request_event) — to [E]. A wait the raiser makes inside that stretch
// is a dependency of the event: `E → W`, "E cannot happen unless W is woken".
//
// Worked example (a deferred resolved after a lock its awaiter holds):
//   task A: takes M; awaits deferred D            M → D   (A waits for D while M is held)
//   task B: takes M (after A started waiting); resolves D
//                                                  D → M   (B waited for M inside D's context)
//   M → D → M is a cycle: A can hold M forever waiting for a D that needs M.
//
// What keeps this from crying wolf (§2.3, §2.5):
//  * an event raised before anyone waited has no context: no dependency;
//  * a raiser's waits from before the waiter started waiting are outside the context;
//  * only the raiser's own flow counts: each task keeps its own wait history.
// Locks are the special case where [S] is the acquisition and [E] the release; their
// dependencies come from the held list (validator.ts), not from history.
import type { Blocking, Frame, TaskRecord, WaitEntry } from "./held-lock.js";
import type { LockClass } from "./lock-class.js";
import type { Trace } from "./stack.js";

/** DEPT_MAX_WAIT_HIST: how many waits a task remembers. */
export const HISTORY = 64;

/** Per event object (dept_map.wgen): when the current event context started, and where. */
export interface EventState {
  requestGen: number;
  requestTrace: Trace | undefined;
  /** The event happens at most once (a deferred settles once): see contextWaits. */
  readonly once: boolean;
  /** A once-event happened: until then, whoever awaits it is still blocked. */
  happened: boolean;
  /**
   * Its awaited promise is watched, to withdraw the request if nobody can settle it any more
   * (seam.ts): 0 not, 1 queued for watching, 2 registered with the finalization registry.
   */
  watch: 0 | 1 | 2;
}

export function newEventState(once = false): EventState {
  return {
    requestGen: 0,
    requestTrace: undefined,
    once,
    happened: false,
    watch: 0,
  };
}

const NONE: readonly WaitEntry[] = Object.freeze([]);

/** `w` is another flow's than `raiser`'s: an awaited once-event has not happened, or its wait says so. */
function elsewhere(w: WaitEntry, raiser: Frame | undefined): boolean {
  const event = w.event;
  if (event !== undefined && event.once && !event.happened) return true;
  return w.blocking?.elsewhere(raiser) === true;
}

export class EventClock {
  /** Global wait generation: orders waits and requests. */
  gen = 0;
  /** Events with a waiter right now; while none, no wait can be inside any event context. */
  outstanding = 0;

  /** A waiter starts waiting for `ev`: its event context starts now (kept from the first waiter). */
  request(ev: EventState, trace: Trace | undefined): void {
    if (ev.requestGen !== 0) return;
    ev.requestGen = ++this.gen;
    ev.requestTrace = trace;
    this.outstanding++;
  }

  /**
   * Records a wait in the task's history. Waits made while no event is awaited are never
   * needed. A full ring is overwritten in place, as the kernel's `struct dept_wait_hist` is: a
   * task that waits in a loop allocates nothing per wait, and no young entry is stored into
   * the (long-lived) ring. The entry overwritten is the oldest, outside any event context
   * younger than the last 64 waits.
   */
  record(
    task: TaskRecord,
    cls: LockClass,
    trace: Trace | undefined,
    timeout: boolean,
    event?: EventState,
    blocking?: Blocking,
  ): void {
    if (this.outstanding === 0) return;
    const gen = ++this.gen;
    const history = (task.history ??= []);
    let entry: WaitEntry;
    if (history.length < HISTORY) {
      entry = { cls, gen, trace, timeout, event, blocking };
      history.push(entry);
    } else {
      entry = history[task.historyPos]!;
      entry.cls = cls;
      entry.gen = gen;
      entry.trace = trace;
      entry.timeout = timeout;
      entry.event = event;
      entry.blocking = blocking;
      task.historyPos = (task.historyPos + 1) % HISTORY;
    }
    blocking?.recordedIn?.(entry);
  }

  /** The task's waits inside `ev`'s current event context, oldest first. */
  contextWaits(
    task: TaskRecord,
    ev: EventState,
    /** The raiser's held list, when exact: a lock granted to another flow is not its wait. */
    raiser?: Frame,
  ): readonly WaitEntry[] {
    const history = task.history;
    if (history === undefined || ev.requestGen === 0) return NONE;
    // An event that happens once cannot have both blocked a flow and then been raised by it:
    // such a "wait" was a subscription (`d.promise.then(f)`, then `d.resolve()`), not a
    // dependency. A completion may be completed again by a flow its earlier completion woke,
    // so there the wait counts; so do waits on other events of the same class (AA).
    //
    // A wait still blocked now belongs to a flow that is not running, so not to the raiser:
    // a task's history also holds the waits of async functions it started and did not await
    // (inheritance by creation), and a consumer it started, still waiting for the event the
    // task is raising, is no dependency of that event — nor a subscription through
    // `Promise.all` that the raiser has not blocked on yet. Likewise a lock granted to a flow
    // the raiser is not (held-lock.ts Blocking).
    //
    // The ring is in generation order from historyPos (once full): walk back from the newest
    // entry and stop at the context's start, so a raise costs the waits inside its context.
    let found: WaitEntry[] | undefined;
    const n = history.length;
    const newest = n < HISTORY ? n - 1 : task.historyPos - 1 + n;
    for (let i = newest; i > newest - n; i--) {
      const w = history[i % n]!;
      if (w.gen <= ev.requestGen) break;
      if (!(ev.once && w.event === ev) && !elsewhere(w, raiser))
        (found ??= []).push(w);
    }
    return found === undefined ? NONE : found.reverse();
  }

  /** The event happened. If waiters remain, a new context starts now for them. */
  raised(ev: EventState, waitersLeft: boolean, trace: Trace | undefined): void {
    if (ev.requestGen === 0) return;
    ev.requestGen = 0;
    ev.requestTrace = undefined;
    if (this.outstanding > 0) this.outstanding--;
    if (waitersLeft) this.request(ev, trace);
  }

  /** A waiter gave up; the context ends if nobody else waits. */
  withdrawn(ev: EventState, waitersLeft: boolean): void {
    if (waitersLeft || ev.requestGen === 0) return;
    ev.requestGen = 0;
    ev.requestTrace = undefined;
    if (this.outstanding > 0) this.outstanding--;
  }

  /**
   * tracker.reset(): no event is awaited any more as far as recording goes. The clock itself
   * never restarts — event objects and histories from before the reset keep their generations,
   * and those must stay comparable with new ones.
   */
  reset(): void {
    this.outstanding = 0;
  }
}
