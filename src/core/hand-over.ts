// Holds follow resolution (issue 9): a helper that returns a held lock hands it to its caller.
//
//   async function lockUser(id) { return users.acquire(); }            // a releaser
//   async function getClient() { const c = await pool.connect(); …; return c; }
//   const release = await lockUser(1); await audit.acquire();          // users → audit
//
// Creation alone cannot see this: the hold is taken in the helper's own flow, and the
// caller's continuation was created (at `await lockUser(1)`) before the hold existed. So when
// a promise settles, the live holds of the settling flow go to the continuations awaiting it
// that are its creator's flow — `origin` is on their held list — if the hold was asked for by
// that flow or one it started (`takenIn` descends from `origin`). A promise made where nothing
// was held has no creation frame; its origin is then each awaiter's own flow (the bottom of
// its list: a task, or the flow that first took a lock in top-level or callback code).
//
// A result is told from a signal by who settles the promise (settledAsResult). An async
// function's return or a generator's yield, V8 settling `.then(f)` with f's result, or V8
// running the reaction on an acquisition's own promise (`return m.acquire()`'s thenable job)
// hands over: the flow that took the hold is done with it. A resolve function called by code
// (`gate.resolve()` inside a critical section, `setImmediate(resolve)`), or by V8 for a flow
// (`.then(gate.resolve)`), does not: that flow goes on holding its lock, and whoever waited
// for the gate does not hold it. So a different task, an unrelated callback flow, or a sibling
// released by a gate receives nothing.
import { onFrame, type Frame, type HeldLock } from "./held-lock.js";

type CallSites = { getFileName(): string | null | undefined }[];

/** Node's own frame when several settled hooks are installed (an APM agent's, say). */
const HOOK_DISPATCH = "node:internal/promise_hooks";

/**
 * Is the promise being settled (in the settled hook `hook`) settled as a result, not as a
 * signal? The frame below the hook is the returning async function, or V8's anonymous resolve
 * function; no frame at all is V8 settling a reaction's result (`.then(f)` once f returned, a
 * generator's yield). The resolve function called by code (`gate.resolve()`, a timer calling
 * `resolve`) is a signal. Called by V8 with nothing below it, it is a result only from the
 * reaction on an acquisition's own promise (`ownReaction`: `return m.acquire()`'s thenable job);
 * `.then(gate.resolve)` is V8 calling a signal. Captured only on the rare settle that could
 * hand a hold over.
 */
export function settledAsResult(
  hook: (...args: never[]) => unknown,
  ownReaction: boolean,
): boolean {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  const holder: { stack?: unknown } = {};
  try {
    Error.stackTraceLimit = 4;
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, hook);
    const sites = holder.stack as CallSites;
    let i = 0;
    while (sites[i]?.getFileName()?.startsWith(HOOK_DISPATCH) === true) i++;
    const first = sites[i];
    if (first === undefined) return true; // V8 settling a reaction's result, or a yield
    if (first.getFileName() != null) return true; // an async function's return
    if (sites[i + 1] !== undefined) return false; // code called the resolve function
    return ownReaction; // V8 called it: a thenable job, or `.then(gate.resolve)`
  } catch {
    return false; // a host that forbids this capture hands nothing over: never a false hold
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/** `origin` is on `frame`'s list: `frame` is `origin`'s flow, or one it started, later on. */
export function descends(frame: Frame | undefined, origin: Frame): boolean {
  for (let f = frame ?? null; f !== null; f = f.next)
    if (f === origin) return true;
  return false;
}

/** The bottom of a held list: the flow's own start (a task, or a flow's first lock). */
export function flowOf(frame: Frame): Frame {
  let f = frame;
  while (f.next !== null) f = f.next;
  return f;
}

/** The settling flow's live holds above `stop` (the promise's creation frame), oldest first. */
export function settlingHolds(
  settling: Frame,
  stop: Frame | undefined,
): HeldLock[] | undefined {
  let holds: HeldLock[] | undefined;
  for (let f: Frame | null = settling; f !== null && f !== stop; f = f.next) {
    const h = f.hold;
    if (h !== null && !h.released && h.granted && !h.ecxt)
      (holds ??= []).unshift(h);
  }
  return holds;
}

/**
 * Which of `holds` the awaiter whose list is `frame` receives: those asked for by `origin`'s
 * flow when it is the awaiter's, and not on its list already.
 */
export function received(
  frame: Frame,
  origin: Frame,
  holds: readonly HeldLock[],
): HeldLock[] | undefined {
  if (!descends(frame, origin)) return undefined;
  let out: HeldLock[] | undefined;
  for (const h of holds)
    if (!h.released && descends(h.takenIn, origin) && !onFrame(frame, h))
      (out ??= []).push(h);
  return out;
}
