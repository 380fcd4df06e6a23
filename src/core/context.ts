// Which locks does the current async task hold? (reference/async-context.md, design G)
//
// The held list of the running code is `current`, a Frame. It propagates along promise
// creation with v8.promiseHooks: `init` stores `current` on every promise created while
// something is held (nothing is written otherwise), `before`/`after` switch `current` to the
// frame of the reaction that runs.
//
// The promise that acquire() returns is tagged with its hold. A promise created with that
// promise as its parent is the caller's continuation (the hidden promise of `await
// m.acquire()`, or the promise `.then` derives), and only it receives the hold: siblings
// started in the same tick (Promise.all children) do not, because acquire() never writes to
// the caller's own frame. A contended waiter's continuation receives the hold at grant.
//
// A promise that settles in a flow holding locks its creator did not hold hands them to its
// creator's continuations that await it (hand-over.ts): a helper's `return m.acquire()` or
// `return client` is the caller's hold from then on.
//
// Timers, immediates, nextTick, queueMicrotask and I/O callbacks are not promise reactions:
// they start with nothing held. bind(fn) carries the held list into such a callback when the
// holder really waits for it; detach(fn) starts fire-and-forget work with nothing held.
//
// Where v8.promiseHooks is missing (or WAITGRAPH_CONTEXT=als), AsyncLocalStorage carries the
// frame instead: callback style (runExclusive) and `await using` guards are tracked; a bare
// `await m.acquire()` cannot be seen by ALS (reference §3.3 D), nor can awaiting a deferred or
// a task (those waits need promise hooks).
import { AsyncLocalStorage } from "node:async_hooks";
import * as v8 from "node:v8";
import {
  onFrame,
  type Frame,
  type HeldLock,
  type TaskRecord,
} from "./held-lock.js";
import {
  flowOf,
  received,
  settledAsResult,
  settlingHolds,
} from "./hand-over.js";
import { boundedName } from "./report.js";

const kFrame = Symbol("waitgraph.frame");
const kAcquire = Symbol("waitgraph.acquire");
/** On a continuation of an untagged promise: that promise (it may hand holds over). */
const kFrom = Symbol("waitgraph.from");
/** On a continuation of a contended acquisition, made before the grant. */
const kContinues = Symbol("waitgraph.continues");
/** On an acquisition's own continuation that is awaited in turn: its settling is looked at. */
const kAwaited = Symbol("waitgraph.awaited");
/** On a promise that settled handing holds over: where it was made, and the holds. */
const kHanded = Symbol("waitgraph.handed");

/**
 * A promise whose awaiting is a DEPT wait (a deferred's promise, a task's result): `awaited`
 * runs when a continuation of it is created, in the awaiter's frame. It must not throw.
 */
export interface AwaitTag {
  readonly awaitTag: true;
  awaited(frame: Frame): void;
}

interface Handed {
  /** Where the promise was made; undefined when nothing was held there (each awaiter's flow). */
  readonly origin: Frame | undefined;
  readonly holds: readonly HeldLock[];
}

type Tagged = {
  [kFrame]?: Frame;
  [kAcquire]?: HeldLock | AwaitTag;
  [kFrom]?: Tagged | undefined;
  [kAwaited]?: true;
  [kContinues]?: true;
  [kHanded]?: Handed;
};

let nextTaskId = 1;
export function newTask(name: string): TaskRecord {
  return {
    id: nextTaskId++,
    name: boundedName(name), // a report shows it (report.ts, MAX_NAME_CHARS)
    holds: undefined,
    history: undefined,
    historyPos: 0,
  };
}

export const MAIN_TASK: TaskRecord = newTask("main");
export const ROOT: Frame = { task: MAIN_TASK, hold: null, next: null };

export type ContextMode = "promise-hooks" | "async-local-storage";

let current: Frame = ROOT;
const saved: Frame[] = [];
/** The promise whose reaction runs now (`before`), if known. */
let running: Promise<unknown> | undefined;
let stopHook: (() => void) | undefined;
let mode: ContextMode = "promise-hooks";
const als = new AsyncLocalStorage<Frame>();
let topResetQueued = false;

/** Top of a frame, skipping holds released since (they only make lists longer). */
function live(frame: Frame): Frame {
  let f = frame;
  while (f.hold !== null && f.hold.released && f.next !== null) f = f.next;
  return f;
}

function withHold(frame: Frame, hold: HeldLock): Frame {
  return { task: frame.task, hold, next: live(frame) };
}

/** `frame` receiving a settled promise's holds, if it awaits as their taker's flow. */
function receive(frame: Frame, handed: Handed): Frame {
  const holds = received(frame, handed.origin ?? flowOf(frame), handed.holds);
  if (holds === undefined) return frame;
  let f = frame;
  for (const h of holds) f = withHold(f, h);
  return f;
}

/**
 * A continuation of an untracked promise, made by a flow with a list of its own: it looks at
 * what that promise handed over when it runs (`before`). Nothing is listed on the promise, so a
 * long-lived promise awaited many times keeps no continuation alive. An acquisition's own
 * continuation (`m.acquire().then(f)`) is marked awaited: its settling is looked at, while the
 * hidden continuation of `await m.acquire()`, which nobody awaits, is not.
 */
function awaiting(promise: Tagged, parent: Tagged): void {
  promise[kFrom] = parent;
  const made = parent[kFrame];
  if (
    made !== undefined &&
    (made.hold?.continuation === parent || parent[kContinues] === true) &&
    Object.isExtensible(parent)
  )
    parent[kAwaited] = true;
}

/**
 * `promise`, made by the flow whose list was `made` (undefined: nothing was held), settles in
 * the running code's frame as a result: it hands its creator's flow the holds listed here.
 */
function handOver(promise: Tagged, made: Frame | undefined): void {
  const origin = made === undefined || made === ROOT ? undefined : live(made);
  const holds = settlingHolds(current, origin);
  if (holds === undefined) return;
  // Settled by V8 from the reaction on an acquisition's own promise (`return m.acquire()`'s
  // thenable job), or by V8 calling a resolve function some flow gave it (`.then(gate.resolve)`)?
  const own = running !== undefined && current.hold?.continuation === running;
  if (!settledAsResult(hooks.settled, own)) return;
  if (Object.isExtensible(promise)) promise[kHanded] = { origin, holds };
}

/**
 * The running code's list is about to hold a lock. Top-level and callback code runs on ROOT,
 * shared by every such flow; the first lock a flow takes gives it a bottom of its own (the
 * same task, main), so that what it takes can be told from what another flow took (hand-over.ts).
 */
function ownFlow(): Frame {
  if (current !== ROOT || mode !== "promise-hooks") return context.current();
  const own: Frame = { task: MAIN_TASK, hold: null, next: null };
  setCurrent(own);
  return own;
}

const hooks = {
  init(promise: Promise<unknown>, parent: Promise<unknown> | undefined): void {
    let frame = current;
    if (parent !== undefined) {
      const tag = (parent as Tagged)[kAcquire];
      if (tag !== undefined) {
        if ((tag as AwaitTag).awaitTag === true) {
          (tag as AwaitTag).awaited(frame);
          frame = current; // the awaiter may have been given a task of its own
        } else {
          const hold = tag as HeldLock;
          if (!hold.released) {
            // A hold resumed by Condition.wait may already be on the awaiter's frame.
            if (hold.granted) {
              hold.continuation ??= promise;
              if (!hold.resumed || !onFrame(frame, hold))
                frame = withHold(frame, hold);
            } else {
              (hold.waiters ??= []).push(promise);
              (promise as Tagged)[kContinues] = true; // continues it once granted
            }
          } else if (hold.suspended) (hold.waiters ??= []).push(promise);
        }
      } else if (frame !== ROOT) {
        const handed = (parent as Tagged)[kHanded];
        if (handed !== undefined) frame = receive(frame, handed);
        else awaiting(promise as Tagged, parent as Tagged);
      }
    }
    if (frame !== ROOT) (promise as Tagged)[kFrame] = frame;
  },
  settled(promise: Promise<unknown>): void {
    // Fast exits first: every promise settles, few awaited while holding what their creator
    // did not.
    if (current.hold === null && current.next === null) return;
    const t = promise as Tagged;
    if (t[kAcquire] !== undefined) return;
    const made = t[kFrame];
    if (made === current) {
      // Made holding it only as the acquisition's own continuation (`m.acquire().then(f)`),
      // and awaited: its creator is the flow below that hold, and f's result is that flow's.
      if (t[kAwaited] === true && current.hold?.continuation === promise)
        handOver(t, current.next ?? undefined);
      return;
    }
    handOver(t, made);
  },
  before(promise: Promise<unknown>): void {
    saved.push(current);
    running = promise;
    const t = promise as Tagged;
    const from = t[kFrom];
    if (from !== undefined) {
      const handed = from[kHanded];
      const frame = t[kFrame];
      if (handed !== undefined && frame !== undefined)
        t[kFrame] = receive(frame, handed);
    }
    current = t[kFrame] ?? ROOT;
  },
  after(): void {
    current = saved.pop() ?? ROOT;
    running = undefined; // a reaction nested in another (rare) leaves none: nothing handed
  },
};

function resetTop(): void {
  topResetQueued = false;
  if (saved.length === 0) current = ROOT;
}

/**
 * Replaces the running code's frame (a sync acquisition, or a release). Inside a promise
 * reaction `after` drops it when the reaction ends. Outside one (module top level, a timer
 * callback) nothing would, so a microtask resets the top level to nothing held: the next
 * macrotask starts a new task, as it must.
 */
function setCurrent(frame: Frame): void {
  if (mode === "async-local-storage") {
    als.enterWith(frame);
    return;
  }
  current = frame;
  if (saved.length === 0 && !topResetQueued) {
    topResetQueued = true;
    queueMicrotask(resetTop);
  }
}

/**
 * The context mechanism, one per process (instance.ts shares it). A class instance, not an
 * object literal: V8 keeps a literal with a getter and this many methods in dictionary mode, and
 * every acquisition calls through it (measured: ~380 instructions per uncontended Mutex
 * acquire/release).
 */
class Context {
  get mode(): ContextMode {
    return mode;
  }

  /** Installs the hooks. Returns the mode in use. */
  enable(prefer: ContextMode = "promise-hooks"): ContextMode {
    if (stopHook !== undefined) return mode;
    const promiseHooks = (v8 as { promiseHooks?: typeof v8.promiseHooks })
      .promiseHooks;
    if (prefer === "promise-hooks" && promiseHooks !== undefined) {
      mode = "promise-hooks";
      stopHook = promiseHooks.createHook(hooks) as () => void;
    } else {
      mode = "async-local-storage";
      // ALS must be enabled before the first enterWith inside a reaction (reference §2.5).
      als.enterWith(ROOT);
      stopHook = () => als.disable();
    }
    current = ROOT;
    return mode;
  }

  disable(): void {
    stopHook?.();
    stopHook = undefined;
    current = ROOT;
    running = undefined;
    saved.length = 0;
  }

  current(): Frame {
    return mode === "promise-hooks" ? current : (als.getStore() ?? ROOT);
  }

  /** Marks `promise` as the promise acquire() returned for `hold`. */
  tagAcquire(promise: Promise<unknown>, hold: HeldLock): void {
    (promise as Tagged)[kAcquire] = hold;
    hold.takenIn ??= ownFlow();
  }

  /** Marks `promise` so that awaiting it is a wait (DEPT); only with promise hooks. */
  tagAwait(promise: Promise<unknown>, tag: AwaitTag): void {
    (promise as Tagged)[kAcquire] = tag;
  }

  /**
   * The running code's frame with a task of its own. Anonymous flows (timer and I/O callbacks,
   * module code) share MAIN_TASK until they first need an identity: DEPT's history is per
   * task, and two unrelated callbacks must not see each other's waits (§2.5). A marker frame
   * with no hold carries the new task; every promise the flow creates from now on inherits it.
   */
  ensureOwnTask(): Frame {
    const frame = context.current();
    if (frame.task !== MAIN_TASK) return frame;
    const own: Frame = {
      task: newTask("(anonymous)"),
      hold: null,
      next: frame === ROOT ? null : frame,
    };
    setCurrent(own);
    return own;
  }

  /** The hold was granted: continuations that awaited it while it was contended receive it now. */
  granted(hold: HeldLock): void {
    hold.granted = true;
    const waiters = hold.waiters;
    if (waiters === null) return;
    hold.waiters = null;
    hold.continuation ??= waiters[0];
    for (const w of waiters) {
      const t = w as Tagged;
      const frame = t[kFrame] ?? ROOT;
      // A resumed hold (Condition.wait) may be on the frame already: never list it twice.
      if (!onFrame(frame, hold)) t[kFrame] = withHold(frame, hold);
    }
  }

  /** A synchronous acquisition (trylock): the running code holds it from now on. */
  holdNow(hold: HeldLock): void {
    hold.granted = true;
    const frame = ownFlow();
    hold.takenIn ??= frame;
    setCurrent(withHold(frame, hold));
  }

  /** The hold was released: drop it from `frame`, the running code's (other frames skip it as released). */
  dropped(hold: HeldLock, frame: Frame): void {
    if (frame.hold === hold) {
      setCurrent(live(frame.next ?? ROOT));
      return;
    }
    // Non-LIFO release: rebuild the frames above it (lists are a few entries long).
    const above: HeldLock[] = [];
    let f: Frame | null = frame;
    while (f !== null && f.hold !== hold) {
      if (f.hold !== null && !f.hold.released) above.push(f.hold);
      f = f.next;
    }
    if (f === null) return; // not held by this task: released elsewhere, skipped as released
    let rebuilt: Frame = f.next ?? { task: frame.task, hold: null, next: null };
    for (let i = above.length - 1; i >= 0; i--)
      rebuilt = { task: frame.task, hold: above[i]!, next: rebuilt };
    setCurrent(rebuilt);
  }

  /** Runs `fn` holding `hold` (callback style). With promise hooks the caller already holds it. */
  runHolding<T>(hold: HeldLock, fn: () => T): T {
    if (mode === "promise-hooks") return fn();
    return als.run(withHold(context.current(), hold), fn);
  }

  /** The running code takes ownership of a granted hold (ALS mode: `enter()`, `await using`). */
  adopt(hold: HeldLock): void {
    if (mode === "promise-hooks" || hold.released) return;
    for (let f: Frame | null = context.current(); f !== null; f = f.next)
      if (f.hold === hold) return;
    als.enterWith(withHold(context.current(), hold));
  }

  /** Runs `fn` as the start of a new task with nothing held. */
  runAsTask<T>(task: TaskRecord, fn: () => T): T {
    return context.runInFrame({ task, hold: null, next: null }, fn);
  }

  runInFrame<T>(frame: Frame, fn: () => T): T {
    if (mode === "async-local-storage") return als.run(frame, fn);
    const outer = current;
    current = frame;
    try {
      return fn();
    } finally {
      current = outer;
    }
  }
}

export const context = new Context();
export type { Context };
