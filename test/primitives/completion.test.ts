// Completion as a primitive in its own right (the kernel's `struct completion`), with tracking
// on and off: tracking must never change what it does.
import assert from "node:assert/strict";
import { it } from "node:test";
import { Completion, TimeoutError, tracker } from "../../src/index.js";
import {
  fakeClock,
  flush,
  hasCode,
  tick,
  trackingOnAndOff,
  watch,
} from "./support.js";

const INVALID = "ERR_WAITGRAPH_INVALID_ARGUMENT";
const TIMEOUT = "ERR_WAITGRAPH_TIMEOUT";

trackingOnAndOff((tracked) => {
  fakeClock();

  it("is not done when new, and a wait waits until complete()", async () => {
    const c = new Completion();
    assert.equal(c.isDone(), false);
    const w = watch(c.wait());
    await tick(10_000);
    assert.equal(w.state, "pending");
    c.complete();
    await flush();
    assert.equal(w.state, "fulfilled");
    assert.equal(c.isDone(), false, "the completion went to the waiter");
  });

  it("complete() wakes exactly one waiter, first come first served", async () => {
    const c = new Completion();
    const order: number[] = [];
    const waits = [0, 1, 2].map((i) => c.wait().then(() => order.push(i)));
    c.complete();
    await flush();
    assert.deepEqual(order, [0]);
    c.complete();
    c.complete();
    await Promise.all(waits);
    assert.deepEqual(order, [0, 1, 2]);
    assert.equal(c.isDone(), false);
  });

  it("complete() with nobody waiting lets the next wait through, once per complete()", async () => {
    const c = new Completion();
    c.complete();
    c.complete();
    assert.equal(c.isDone(), true);
    await c.wait();
    assert.equal(c.isDone(), true, "one completion left");
    await c.wait();
    assert.equal(c.isDone(), false);
    const third = watch(c.wait());
    await flush();
    assert.equal(third.state, "pending");
    c.complete();
    await flush();
    assert.equal(third.state, "fulfilled");
  });

  it("completeAll() wakes every waiter and lets every later wait through until reinit()", async () => {
    const c = new Completion();
    const waits = [watch(c.wait()), watch(c.wait()), watch(c.wait())];
    c.completeAll();
    await flush();
    assert.deepEqual(
      waits.map((w) => w.state),
      ["fulfilled", "fulfilled", "fulfilled"],
    );
    assert.equal(c.isDone(), true);
    await c.wait();
    await c.wait();
    c.complete(); // changes nothing: still done for everyone
    assert.equal(c.isDone(), true);
    c.reinit();
    assert.equal(c.isDone(), false);
    const after = watch(c.wait());
    await flush();
    assert.equal(after.state, "pending");
    c.complete();
    await flush();
    assert.equal(after.state, "fulfilled");
  });

  it("reinit() forgets completions nobody consumed, but a waiter still waiting keeps waiting", async () => {
    const c = new Completion();
    c.complete();
    c.reinit();
    assert.equal(c.isDone(), false);
    const w = watch(c.wait());
    c.reinit();
    await flush();
    assert.equal(w.state, "pending");
    c.complete();
    await flush();
    assert.equal(w.state, "fulfilled");
  });

  it("rejects a wait with TimeoutError after its timeout, not before", async () => {
    const c = new Completion();
    const w = watch(c.wait({ timeout: 100 }));
    await tick(99);
    assert.equal(w.state, "pending");
    await tick(1);
    assert.equal(w.state, "rejected");
    assert.ok(w.reason instanceof TimeoutError);
    hasCode(TIMEOUT)(w.reason);
  });

  it("a wait that is completed in time ignores its timeout", async () => {
    const c = new Completion();
    const w = watch(c.wait({ timeout: 100 }));
    c.complete();
    await tick(1_000);
    assert.equal(w.state, "fulfilled");
  });

  it("a done completion lets a wait through whatever its timeout, 0 included", async () => {
    const c = new Completion();
    c.complete();
    await c.wait({ timeout: 0 });
  });

  it("rejects a wait aborted while waiting with the signal's reason; an aborted signal rejects at once", async () => {
    const c = new Completion();
    const abort = new AbortController();
    const w = watch(c.wait({ signal: abort.signal }));
    abort.abort(new Error("stop"));
    await flush();
    assert.equal(w.state, "rejected");
    assert.equal((w.reason as Error).message, "stop");
    c.complete(); // not swallowed by the aborted waiter
    assert.equal(c.isDone(), true);
    await assert.rejects(c.wait({ signal: abort.signal }), /stop/);
    assert.equal(c.isDone(), true, "a refused wait consumes nothing");
  });

  it("a waiter that gave up does not swallow a later complete(): the next waiter gets it", async () => {
    const c = new Completion();
    const gaveUp = watch(c.wait({ timeout: 10 }));
    const patient = watch(c.wait());
    await tick(10);
    assert.equal(gaveUp.state, "rejected");
    c.complete();
    await flush();
    assert.equal(patient.state, "fulfilled");
    const alone = watch(c.wait({ timeout: 10 }));
    await tick(10);
    assert.equal(alone.state, "rejected");
    c.complete();
    assert.equal(c.isDone(), true, "kept for the next wait");
    await c.wait();
  });

  it("rejects bad wait options with ERR_WAITGRAPH_INVALID_ARGUMENT and consumes nothing", async () => {
    const c = new Completion();
    c.complete();
    for (const o of [
      { timeout: -1 },
      { timeout: Number.NaN },
      { timeout: "10" },
      { signal: {} },
      null,
      "fast",
    ])
      await assert.rejects(
        c.wait(o as never),
        hasCode(INVALID),
        JSON.stringify(o),
      );
    assert.equal(c.isDone(), true);
  });

  it("rejects bad class options with ERR_WAITGRAPH_INVALID_ARGUMENT", () => {
    for (const o of [{ name: 3 }, { key: "" }, { key: 7 }, "done"])
      assert.throws(
        () => new Completion(o as never),
        hasCode(INVALID),
        JSON.stringify(o),
      );
    assert.doesNotThrow(() => new Completion({ name: "done", key: "done" }));
  });

  it("makes no report on its own, however it is used", async () => {
    const c = new Completion({ name: "done" });
    const waits = [c.wait(), c.wait()];
    c.complete();
    c.completeAll();
    await Promise.all(waits);
    c.reinit();
    const late = c.wait();
    c.complete();
    await late;
    assert.deepEqual(tracker.reports(), []);
    assert.equal(tracker.enabled, tracked);
  });
});
