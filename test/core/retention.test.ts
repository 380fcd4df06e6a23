// The tracker keeps stacks for good (a chain's, a dependency's, a class's site). An unformatted
// V8 stack keeps every captured frame's function and receiver alive, so each kept stack must
// hold text only: else the graph pins whatever the program's closures referred to when it
// first took a lock or awaited an event.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Completion, Mutex, deferred, task, tracker } from "../../src/index.js";

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

test("a long-lived task's wait history does not keep the results of the tasks it awaited", async () => {
  tracker.reset();
  // Some event stays awaited, so every wait enters a history.
  const never = deferred<void>({ key: "retention.never" });
  void (async () => await never.promise)();
  const refs: WeakRef<object>[] = [];
  const idle = new Completion({ key: "retention.idle" });
  void task("worker", async () => {
    for (let i = 0; i < 10; i++)
      await task("job", async () => {
        await new Promise((r) => setImmediate(r));
        const result = { payload: new Array(1000).fill(i) };
        refs.push(new WeakRef(result));
        return result;
      });
    await idle.wait(); // idle for good, its history full of awaited jobs
  });
  for (let i = 0; i < 15; i++) await new Promise((r) => setImmediate(r));
  assert.equal(refs.length, 10);
  // The last job's result may still be held by the worker's own frame; the others are garbage.
  const alive = async () => {
    await new Promise((r) => setTimeout(r, 1));
    gc();
    return refs.filter((r) => r.deref() !== undefined).length;
  };
  let left = await alive();
  for (let i = 0; i < 5 && left > 1; i++) left = await alive();
  assert.ok(left <= 1, `${left} of 10 results are still alive`);
});

test("awaited deferreds dropped unsettled in a loop that never yields are not kept until it does", async () => {
  tracker.reset();
  let collected = 0;
  const registry = new FinalizationRegistry(() => collected++);
  // 200 awaits without a macrotask: each deferred is raced and dropped, never settled.
  for (let i = 0; i < 200; i++) {
    const d = deferred<void>({ key: "retention.dropped" });
    const payload = { i };
    registry.register(payload, i);
    await Promise.race([d.promise.then(() => payload), Promise.resolve()]);
  }
  gc(); // still before any macrotask
  await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(
    collected >= 100,
    `only ${collected} of 200 payloads were collected before the loop yielded`,
  );
});
