// The tracker keeps stacks for good (a chain's, a dependency's, a class's site). An unformatted
// V8 stack keeps every captured frame's function and receiver alive, so each kept stack must
// hold text only: else the graph pins whatever the program's closures referred to when it
// first took a lock or awaited an event.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Mutex, deferred, task, tracker } from "../../src/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A WeakRef's target stays alive until the job that read it ends: collect in a fresh one. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1));
    gc();
    if (ref.deref() === undefined) return true;
  }
  return false;
}

test("a lock's first-seen chain does not keep the acquiring closure's objects", async () => {
  tracker.configure({ enabled: true, policy: "silent" });
  tracker.reset();
  const a = new Mutex({ key: "retention.a" });
  const b = new Mutex({ key: "retention.b" });
  let ref!: WeakRef<object>;
  await (async () => {
    const request = { body: new Array(1000).fill("payload") };
    ref = new WeakRef(request);
    // The closure refers to `request`; its frame is on the stack the new chain A → B keeps.
    await a.runExclusive(() =>
      b.runExclusive(() => {
        void request.body.length;
      }),
    );
  })();
  assert.equal(tracker.stats().edges, 1, "the acquisition added A → B");
  assert.ok(await collected(ref), "the request is garbage once the call ended");
});

test("a chain of deferreds, each resolving to the next, is not kept by the wait's chain", async () => {
  tracker.reset();
  interface Link {
    next: ReturnType<typeof deferred<Link>>;
  }
  let first: WeakRef<object> | undefined;
  await (async () => {
    let d = deferred<Link>({ key: "retention.link" });
    first = new WeakRef(d.promise);
    const consumer = task("consumer", async () => {
      let cur = d;
      for (let i = 0; i < 100; i++) cur = (await cur.promise).next;
    });
    for (let i = 0; i < 100; i++) {
      const next = deferred<Link>({ key: "retention.link" });
      d.resolve({ next });
      d = next;
      await null;
    }
    await consumer;
  })();
  assert.ok(await collected(first!), "the first deferred is garbage");
});
