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
import { boundedName } from "./report.js";

const kFrame = Symbol("waitgraph.frame");
const kAcquire = Symbol("waitgraph.acquire");

/**
 * A promise whose awaiting is a DEPT wait (a deferred's promise, a task's result): `awaited`
 * runs when a continuation of it is created, in the awaiter's frame. It must not throw.
 */
export interface AwaitTag {
  readonly awaitTag: true;
  awaited(frame: Frame): void;
}

type Tagged = { [kFrame]?: Frame; [kAcquire]?: HeldLock | AwaitTag };

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
              if (!hold.resumed || !onFrame(frame, hold))
                frame = withHold(frame, hold);
            } else (hold.waiters ??= []).push(promise);
          } else if (hold.suspended) (hold.waiters ??= []).push(promise);
        }
      }
    }
    if (frame !== ROOT) (promise as Tagged)[kFrame] = frame;
  },
  before(promise: Promise<unknown>): void {
    saved.push(current);
    current = (promise as Tagged)[kFrame] ?? ROOT;
  },
  after(): void {
    current = saved.pop() ?? ROOT;
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
    saved.length = 0;
  }

  current(): Frame {
    return mode === "promise-hooks" ? current : (als.getStore() ?? ROOT);
  }

  /** Marks `promise` as the promise acquire() returned for `hold`. */
  tagAcquire(promise: Promise<unknown>, hold: HeldLock): void {
    (promise as Tagged)[kAcquire] = hold;
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
    setCurrent(withHold(context.current(), hold));
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
