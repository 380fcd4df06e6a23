// p-queue through waitgraph/adapters/p-queue, against the real library: the shared compliance
// suite (concurrency 1 and 2, a tracked library queue), then the queue's own features.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import LibPQueue from "p-queue";
import PQueue, { track } from "../../src/adapters/p-queue.js";
import { Mutex, heldLocks, tracker } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  reportKinds,
} from "../helpers/edges.js";
import { complianceSuite } from "./compliance.js";

const names = (): string[] => heldLocks().map((h) => h.name);

describe("PQueue({ concurrency: 1 })", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const queue = new PQueue({ concurrency: 1 }, { key: cls });
      return {
        name: cls,
        run: <T>(fn: () => Promise<T> | T) => queue.add(fn) as Promise<T>,
      };
    },
  }));

describe("PQueue({ concurrency: 2 })", () =>
  complianceSuite({
    permits: 2,
    make: (cls) => {
      const queue = new PQueue({ concurrency: 2 }, { key: cls });
      return {
        name: cls,
        run: <T>(fn: () => Promise<T> | T) => queue.add(fn) as Promise<T>,
      };
    },
  }));

describe("track(a queue made by the library)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const queue = track(new LibPQueue({ concurrency: 1 }), { key: cls });
      return {
        name: cls,
        run: <T>(fn: () => Promise<T> | T) => queue.add(fn) as Promise<T>,
      };
    },
  }));

describe("p-queue specifics", () => {
  beforeEach(() => fresh());

  it("is the library's PQueue, with its events and counters", async () => {
    const queue = new PQueue({ concurrency: 1 }, { key: "Q" });
    assert.ok(queue instanceof LibPQueue);
    const events: string[] = [];
    queue.on("completed", (value) => events.push(`completed ${String(value)}`));
    void queue.add(() => "a");
    void queue.add(() => "b");
    assert.equal(queue.size + queue.pending, 2);
    await queue.onIdle();
    assert.deepEqual(events, ["completed a", "completed b"]);
  });

  it("keeps priorities", async () => {
    const queue = new PQueue({ concurrency: 1 }, { key: "Q" });
    const open = deferred();
    const order: string[] = [];
    const first = queue.add(() => open.promise);
    const low = queue.add(() => void order.push("low"), { priority: 0 });
    const high = queue.add(() => void order.push("high"), { priority: 5 });
    open.resolve();
    await Promise.all([first, low, high]);
    assert.deepEqual(order, ["high", "low"]);
  });

  it("reports work that adds to its own queue and waits, at the user's line even through addAll", async () => {
    const queue = new PQueue({ concurrency: 2 }, { name: "queue" });
    const results = await queue.addAll([
      async () => queue.add(async () => "inner"),
    ]);
    assert.deepEqual(results, ["inner"]);
    assert.deepEqual(reportKinds(), ["recursive-locking"]);
    const report = tracker.reports()[0]!;
    assert.ok(
      report.stack.every((f) => !f.file.includes("/node_modules/p-queue/")),
      "no p-queue frames in the report",
    );
    assert.ok(report.stack[0]?.file.endsWith("p-queue.test.ts"));
  });

  it("never holds the queue for work aborted while it waits", async () => {
    const queue = new PQueue({ concurrency: 1 }, { key: "Q" });
    const open = deferred();
    const first = queue.add(() => open.promise);
    const abort = new AbortController();
    let ran = false;
    const waiting = queue.add(
      () => {
        ran = true;
      },
      { signal: abort.signal },
    );
    abort.abort();
    await assert.rejects(waiting, { name: "AbortError" });
    open.resolve();
    await first;
    assert.equal(ran, false);
    assertGraph([]);
  });

  it("gives the permit back when the queue does: work aborted while it runs holds nothing after", async () => {
    const queue = new PQueue({ concurrency: 1 }, { key: "Q" });
    const abort = new AbortController();
    const inside = deferred();
    const open = deferred();
    let after: string[] = [];
    const running = queue.add(
      async () => {
        inside.resolve();
        await open.promise;
        after = names();
      },
      { signal: abort.signal },
    );
    await inside.promise;
    abort.abort();
    await assert.rejects(running, { name: "AbortError" });
    open.resolve();
    await queue.onIdle();
    await macrotask();
    assert.deepEqual(after, []);
  });

  it("holds nothing for a queue without a limit (the default), but charges its work to the submitter", async () => {
    const queue = new PQueue(undefined, { key: "Q" });
    const M = new Mutex({ key: "M" });
    const seen = await M.runExclusive(() =>
      queue.add(async () => queue.add(async () => names())),
    );
    assert.deepEqual(seen, ["M"]);
    assertGraph([]);
  });
});
