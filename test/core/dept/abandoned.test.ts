// A deferred awaited but never settled, then dropped (raced against a timeout), can never raise
// its event. Once it is garbage its request is withdrawn, so acquisitions stop paying for the
// wait history that an awaited event needs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { deferred, task, tracker } from "../../../src/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const events = (
  (globalThis as Record<symbol, unknown>)[Symbol.for("waitgraph.core/v1")] as {
    events: { outstanding: number };
  }
).events;

test("awaited deferreds that nobody can settle any more stop counting as awaited", async () => {
  tracker.configure({ enabled: true, policy: "silent" });
  tracker.reset();
  const abandon = () =>
    task("requester", async () => {
      const reply = deferred<void>({ key: "reply" });
      await Promise.race([reply.promise, new Promise((r) => setImmediate(r))]);
    });
  for (let i = 0; i < 5; i++) await abandon();
  assert.equal(
    events.outstanding,
    5,
    "five abandoned replies are still awaited",
  );
  // Finalizers run as their own task after a collection; a few rounds make room for that.
  for (let i = 0; i < 20 && events.outstanding > 0; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 1));
  }
  // All five, the first one too: the chain its wait added keeps a formatted stack, which
  // refers to none of that call's objects (an unformatted one kept the first reply alive).
  assert.equal(events.outstanding, 0);
});

test("an awaited deferred whose resolve is still reachable keeps counting", async () => {
  tracker.reset();
  let keep: (() => void) | undefined;
  await task("requester", async () => {
    const reply = deferred<void>({ key: "reply" });
    keep = () => reply.resolve();
    await Promise.race([reply.promise, new Promise((r) => setImmediate(r))]);
  });
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(events.outstanding, 1);
  keep!();
  assert.equal(events.outstanding, 0);
});
