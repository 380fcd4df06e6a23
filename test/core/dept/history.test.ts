// A task's wait history is a ring of the last HISTORY waits; an event's context is the waits
// after its request, oldest first, without the waits still blocked (not the raiser's) and the
// raiser's own subscription to an event that happens once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newTask } from "../../../src/core/context.js";
import {
  EventClock,
  HISTORY,
  newEventState,
} from "../../../src/core/events.js";
import type { LockClass } from "../../../src/core/lock-class.js";
import { WaitQueue, Waiter } from "../../../src/primitives/wait-queue.js";

const cls = (n: number) => ({ n }) as unknown as LockClass;
const numbers = (waits: readonly { cls: LockClass }[]) =>
  waits.map((w) => (w.cls as unknown as { n: number }).n);

describe("the wait history of a task", () => {
  it("returns the waits after the request, oldest first, across the ring's wrap", () => {
    for (const before of [0, 10, HISTORY - 3, HISTORY, 3 * HISTORY + 5]) {
      for (const after of [1, 5, HISTORY - 1, HISTORY, HISTORY + 7]) {
        const clock = new EventClock();
        const task = newTask("t");
        const frame = { task, hold: null, next: null };
        const ev = newEventState();
        const other = newEventState();
        clock.request(other, undefined); // some event is awaited: waits are recorded
        for (let i = 0; i < before; i++)
          clock.record(task, cls(i), undefined, false);
        clock.request(ev, undefined);
        for (let i = 0; i < after; i++)
          clock.record(task, cls(1000 + i), undefined, false);
        const kept = Math.min(after, HISTORY);
        assert.deepEqual(
          numbers(clock.contextWaits(task, ev, frame)),
          Array.from({ length: kept }, (_, i) => 1000 + after - kept + i),
          `${before} waits before the request, ${after} after`,
        );
      }
    }
  });

  it("leaves out waits still blocked, and a subscription to the once-event being raised", () => {
    const clock = new EventClock();
    const task = newTask("t");
    const frame = { task, hold: null, next: null };
    const ev = newEventState(true);
    const pendingOnce = newEventState(true);
    clock.request(ev, undefined);
    let stillBlocked = true;
    clock.record(task, cls(1), undefined, false); // a finished wait: counts
    clock.record(task, cls(2), undefined, false, ev); // a subscription to ev itself
    clock.record(task, cls(3), undefined, false, pendingOnce); // a once-event not yet happened
    clock.record(task, cls(4), undefined, false, undefined, {
      elsewhere: () => stillBlocked,
    });
    assert.deepEqual(numbers(clock.contextWaits(task, ev, frame)), [1]);
    pendingOnce.happened = true;
    stillBlocked = false;
    assert.deepEqual(numbers(clock.contextWaits(task, ev, frame)), [1, 3, 4]);
  });

  it("lets go of a queued waiter once it leaves, and never of a later wait in its reused entry", () => {
    const clock = new EventClock();
    const task = newTask("t");
    const frame = { task, hold: null, next: null };
    const ev = newEventState();
    clock.request(newEventState(), undefined); // some event is awaited: waits are recorded
    for (let i = 0; i < HISTORY; i++)
      clock.record(task, cls(i), undefined, false); // the ring is full: entries are reused
    const queue = new WaitQueue();
    const first = new Waiter(
      () => {},
      () => {},
      1,
      () => {},
    );
    queue.push(first, undefined, "test");
    clock.request(ev, undefined);
    clock.record(task, cls(100), undefined, false, undefined, first);
    const entry = task.history!.find((w) => w.blocking === first);
    assert.ok(entry, "the wait is recorded with its waiter");
    assert.deepEqual(numbers(clock.contextWaits(task, ev, frame)), []);
    assert.equal(queue.shift(), first); // granted: no longer blocked
    assert.equal(
      entry.blocking,
      undefined,
      "the entry keeps no finished waiter",
    );
    assert.deepEqual(numbers(clock.contextWaits(task, ev, frame)), [100]);

    // The entry is overwritten by a later wait whose waiter is still queued: a waiter that
    // leaves after its entry was reused must not clear the new one.
    const late = new Waiter(
      () => {},
      () => {},
      1,
      () => {},
    );
    const second = new Waiter(
      () => {},
      () => {},
      1,
      () => {},
    );
    queue.push(late, undefined, "test");
    queue.push(second, undefined, "test");
    for (let i = 0; i < HISTORY - 1; i++)
      clock.record(task, cls(200 + i), undefined, false);
    clock.record(task, cls(300), undefined, false, undefined, late);
    const lateEntry = task.history!.find((w) => w.blocking === late);
    for (let i = 0; i < HISTORY - 1; i++)
      clock.record(task, cls(400 + i), undefined, false);
    clock.record(task, cls(500), undefined, false, undefined, second);
    const reused = task.history!.find((w) => w.blocking === second);
    assert.ok(
      reused !== undefined && reused === lateEntry,
      "the later wait reuses the late waiter's entry",
    );
    assert.equal(queue.shift(), late);
    assert.equal(reused.blocking, second, "the later wait's waiter is kept");
  });
});
