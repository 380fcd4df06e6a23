// deferred(): a promise with its resolve and reject outside, whose awaiting is a DEPT wait and
// whose settling is the event. The common JS shape it catches: a task holds a lock and awaits
// a promise that is resolved only after someone takes that lock.
import {
  awaitIsWait,
  eventRaise,
  eventInit,
  newEventState,
  type EventKind,
  type EventState,
} from "../core/seam.js";
import type { LockOptions } from "./mutex.js";

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** A deferred is awaited and resolved. */
const DEFERRED: EventKind = { start: "await", wait: "await", event: "resolve" };

export function deferred<T>(opts?: LockOptions): Deferred<T> {
  const map = eventInit(opts, "deferred", deferred, DEFERRED);
  const ev: EventState = newEventState(true);
  let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
  let settled = false;
  const promise = new Promise<T>(
    (resolve, reject) => (settle = { resolve, reject }),
  );
  awaitIsWait(promise, map, ev, ev, { elsewhere: () => !settled });
  const raise = (): boolean => {
    if (settled) return false;
    settled = true;
    eventRaise(map, ev, false);
    return true;
  };
  return {
    promise,
    resolve(value: T): void {
      if (raise()) settle.resolve(value);
    },
    reject(reason: unknown): void {
      if (raise()) settle.reject(reason);
    },
  };
}
