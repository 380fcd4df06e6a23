// Helpers shared by the primitive suites: a seeded PRNG, a promise watcher, a microtask drain
// and the tracking on/off matrix. Time is always the node:test fake clock; nothing sleeps.
import assert from "node:assert/strict";
import { afterEach, before, beforeEach, describe, mock } from "node:test";
import { tracker } from "../../src/index.js";

/** mulberry32: a tiny seeded PRNG, so a failing random run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Lets every queued promise reaction run. setImmediate is not faked, and Node drains the whole
 * microtask queue before the check phase, so this waits for reactions, not for time.
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface Watched<T> {
  readonly promise: Promise<T>;
  state: "pending" | "fulfilled" | "rejected";
  value: T | undefined;
  reason: unknown;
}

/** Records how a promise settles without awaiting it (and without an unhandled rejection). */
export function watch<T>(promise: Promise<T>): Watched<T> {
  const w: Watched<T> = {
    promise,
    state: "pending",
    value: undefined,
    reason: undefined,
  };
  promise.then(
    (value) => {
      w.state = "fulfilled";
      w.value = value;
    },
    (reason: unknown) => {
      w.state = "rejected";
      w.reason = reason;
    },
  );
  return w;
}

/** The value of a fulfilled watch (fails the test otherwise). */
export function valueOf<T>(w: Watched<T>): T {
  assert.equal(w.state, "fulfilled", "expected the promise to be fulfilled");
  return w.value as T;
}

/** Installs the fake clock (setTimeout only) around every test of the enclosing suite. */
export function fakeClock(): void {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());
}

/** Advances the fake clock by `ms` and lets the reactions that follow run. */
export async function tick(ms: number): Promise<void> {
  mock.timers.tick(ms);
  await flush();
}

/**
 * Runs `body` twice: with tracking on (policy silent, a fresh tracker per test, and no
 * internal-error allowed) and with `tracker.configure({ enabled: false })`. Locks must be
 * made inside the tests (or their beforeEach): a lock made while tracking is off stays untracked.
 */
export function trackingOnAndOff(body: (tracked: boolean) => void): void {
  for (const tracked of [true, false]) {
    describe(tracked ? "tracking on" : "tracking off", () => {
      before(() => tracker.configure({ enabled: tracked, policy: "silent" }));
      beforeEach(() => tracker.reset());
      afterEach(() => {
        const internal = tracker
          .reports()
          .filter((r) => r.kind === "internal-error");
        assert.deepEqual(
          internal.map((r) => r.text),
          [],
          "the tracker reported an internal error",
        );
      });
      body(tracked);
    });
  }
}

/** Asserts a waitgraph error by its stable code (never by message text). */
export function hasCode(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  };
}
