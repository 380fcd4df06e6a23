// deadlockTimeout is checked at the boundary, and tracker.dump() shows a blocked wait with what
// its flow holds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError, Mutex, tracker } from "../../src/index.js";
import { settingsFromEnvironment } from "../../src/core/environment.js";

tracker.configure({ enabled: true, policy: "silent" });

for (const bad of [-1, Number.NaN, Infinity, "1000", true, null])
  test(`deadlockTimeout ${String(bad)} is refused with a typed error`, () => {
    assert.throws(
      () => tracker.configure({ deadlockTimeout: bad as unknown as number }),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
        /^Expected `deadlockTimeout` to be a non-negative finite number/.test(
          e.message,
        ) &&
        / got /.test(e.message),
    );
  });

test("deadlockTimeout takes milliseconds, 0 and false", () => {
  for (const ok of [0, false, 250, 1000] as const)
    tracker.configure({ deadlockTimeout: ok });
});

test("WAITGRAPH_DEADLOCK_TIMEOUT sets deadlockTimeout; off is 0", () => {
  assert.equal(
    settingsFromEnvironment({ WAITGRAPH_DEADLOCK_TIMEOUT: "250" })
      .deadlockTimeout,
    250,
  );
  assert.equal(
    settingsFromEnvironment({ WAITGRAPH_DEADLOCK_TIMEOUT: "off" })
      .deadlockTimeout,
    0,
  );
});

test("tracker.dump() lists a blocked wait, its flow's holds and who holds what it waits for", async () => {
  const a = new Mutex({ name: "dump-A" });
  const b = new Mutex({ name: "dump-B" });
  let releaseB!: () => void;
  const gate = new Promise<void>((resolve) => (releaseB = resolve));
  // A sibling flow holds dump-B: the waiting flow below does not inherit it.
  const holder = (async () => {
    const release = await b.acquire();
    await gate;
    release();
  })();
  await new Promise((resolve) => setImmediate(resolve));
  const waiting = (async () => {
    const releaseA = await a.acquire();
    (await b.acquire())();
    releaseA();
  })();
  await new Promise((resolve) => setImmediate(resolve));
  const d = tracker.dump();
  assert.equal(d.flows.length, 1);
  assert.equal(d.flows[0]!.waitsFor.name, "dump-B");
  assert.deepEqual(
    d.flows[0]!.holds.map((h) => h.name),
    ["dump-A"],
  );
  assert.equal(d.flows[0]!.stuck, false, "dump-B's holder is not blocked");
  assert.match(d.text, /Showing all locks held in the system/);
  releaseB();
  await Promise.all([holder, waiting]);
  assert.equal(tracker.dump().flows.length, 0);
});
