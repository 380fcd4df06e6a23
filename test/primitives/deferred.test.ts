// deferred() as a primitive in its own right: a promise with its resolve and reject outside,
// settled once, with tracking on and off.
import assert from "node:assert/strict";
import { it } from "node:test";
import { deferred, task, tracker } from "../../src/index.js";
import { flush, hasCode, trackingOnAndOff, watch } from "./support.js";

const INVALID = "ERR_WAITGRAPH_INVALID_ARGUMENT";

trackingOnAndOff(() => {
  it("resolves its promise with the first value; later resolve and reject calls are ignored", async () => {
    const d = deferred<number>({ name: "answer" });
    const w = watch(d.promise);
    await flush();
    assert.equal(w.state, "pending");
    d.resolve(1);
    d.resolve(2);
    d.reject(new Error("late"));
    assert.equal(await d.promise, 1);
    assert.equal(w.state, "fulfilled");
    assert.equal(w.value, 1);
  });

  it("rejects its promise with the first reason; later calls are ignored", async () => {
    const d = deferred<number>();
    const first = new Error("first");
    d.reject(first);
    d.reject(new Error("second"));
    d.resolve(3);
    await assert.rejects(d.promise, (e) => e === first);
  });

  it("settles every awaiter, whenever it awaits", async () => {
    const d = deferred<string>();
    const early = [watch(d.promise), watch(d.promise)];
    d.resolve("done");
    await flush();
    assert.deepEqual(
      early.map((w) => w.value),
      ["done", "done"],
    );
    assert.equal(await d.promise, "done");
  });

  it("resolves with a value awaited from another task, and makes no report on its own", async () => {
    const d = deferred<number>({ name: "result" });
    const consumer = task("consumer", async () => (await d.promise) * 2);
    await task("producer", async () => {
      await null;
      d.resolve(21);
    });
    assert.equal(await consumer, 42);
    assert.deepEqual(tracker.reports(), []);
  });

  it("rejects bad class options with ERR_WAITGRAPH_INVALID_ARGUMENT", () => {
    for (const o of [{ name: 1 }, { key: "" }, { key: {} }, 7])
      assert.throws(
        () => deferred(o as never),
        hasCode(INVALID),
        JSON.stringify(o),
      );
  });
});
