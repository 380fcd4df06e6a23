// A promise nobody can settle any more (its resolvers are garbage, as with a deferred raced
// against a timeout and dropped) will never raise its event: its request is withdrawn.
// Otherwise "some event is awaited" would stay true for good, and every acquisition would keep
// paying for the wait history.
//
// Most awaited deferreds settle within microtasks, and a registration (with its weak cell, and
// the unregistration when the event happens) costs as much as the rest of the wait. So an
// awaited promise is only queued, and registered at the next macrotask if it is still
// pending — or when 64 are queued, in a loop that never yields to a macrotask: the queue
// keeps at most 64 promises alive, for at most one macrotask. A registration left behind
// after the event would live until a collection and a cleanup task, piling up one weak cell
// per deferred, so the event unregisters it.
import type { EventState } from "./events.js";
import { core } from "./instance.js";
import { internalError } from "./findings.js";
import { state } from "./process-state.js";

const unsettleable = state.unsettleable;
state.onUnsettled = (ev) => {
  if (ev.requestGen !== 0) core.events.withdrawn(ev, false);
};
const queued = state.watchQueue;
const WATCH_BATCH = 64;

/** `promise` raises `ev` when it settles: withdraw the request if it becomes unsettleable. */
export function watchSoon(promise: Promise<unknown>, ev: EventState): void {
  ev.watch = 1;
  queued.push({ promise, ev });
  if (!state.watchQueued) {
    state.watchQueued = true;
    setImmediate(atMacrotask).unref();
  } else if (queued.length >= WATCH_BATCH) registerStillPending();
}

function atMacrotask(): void {
  state.watchQueued = false;
  try {
    registerStillPending();
  } catch (error) {
    // Runs on its own (an immediate): nothing above it would catch, and it must not crash.
    queued.length = 0;
    internalError(error);
  }
}

function registerStillPending(): void {
  for (const { promise, ev } of queued) {
    if (ev.watch !== 1) continue;
    ev.watch = 2;
    unsettleable.register(promise, ev, ev);
  }
  queued.length = 0;
}

/** The event happened: its promise needs no watching any more. */
export function unwatch(ev: EventState): void {
  if (ev.watch === 2) unsettleable.unregister(ev);
  ev.watch = 0;
}
