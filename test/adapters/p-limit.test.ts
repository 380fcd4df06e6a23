// p-limit through waitgraph/adapters/p-limit, against the real library: the shared compliance
// suite (limits of 1 and 2, a tracked library limiter), then p-limit #91 and the limiter's API.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import realPLimit from "p-limit";
import pLimit, { limitFunction, track } from "../../src/adapters/p-limit.js";
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

describe("pLimit(1)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const limit = pLimit(1, { key: cls });
      return { name: cls, run: (fn) => limit(fn) };
    },
  }));

describe("pLimit({ concurrency: 2 })", () =>
  complianceSuite({
    permits: 2,
    make: (cls) => {
      const limit = pLimit({ concurrency: 2 }, { key: cls });
      return { name: cls, run: (fn) => limit(fn) };
    },
  }));

describe("track(a limiter made by the library)", () =>
  complianceSuite({
    permits: 1,
    make: (cls) => {
      const limit = track(realPLimit(1), { key: cls });
      return { name: cls, run: (fn) => limit(fn) };
    },
  }));

describe("p-limit specifics", () => {
  beforeEach(() => fresh());

  it("reports p-limit #91 from a run that completes: limited work that waits for the same limiter", async () => {
    const limit = pLimit(2, { name: "limit" });
    // One outer call does not starve (a second permit is free); two such calls at once would.
    const result = await limit(async () => limit(async () => "inner"));
    assert.equal(result, "inner");
    assert.deepEqual(reportKinds(), ["recursive-locking"]);
    assert.deepEqual(tracker.reports()[0]!.classes, ["limit"]);
  });

  it("passes arguments through and keeps activeCount, pendingCount and concurrency", async () => {
    const limit = pLimit(1, { key: "L" });
    const open = deferred();
    const first = limit(
      async (a: number, b: number) => {
        await open.promise;
        return a + b;
      },
      2,
      3,
    );
    const second = limit((x: string) => x.toUpperCase(), "ok");
    await macrotask();
    assert.equal(limit.activeCount, 1);
    assert.equal(limit.pendingCount, 1);
    assert.equal(limit.concurrency, 1);
    limit.concurrency = 2;
    assert.equal(limit.concurrency, 2);
    await macrotask();
    assert.equal(await second, "OK");
    open.resolve();
    assert.equal(await first, 5);
    assert.equal(limit.activeCount, 0);
  });

  it("runs limit.map through the tracked limiter", async () => {
    const limit = pLimit(2, { key: "L" });
    const seen = await limit.map([1, 2, 3], async (n, i) => {
      await macrotask();
      return `${n}@${i}:${names().join(",")}`;
    });
    assert.deepEqual(seen, ["1@0:L", "2@1:L", "3@2:L"]);
  });

  it("never runs work cleared from the queue and leaves nothing held", async () => {
    const limit = pLimit({ concurrency: 1, rejectOnClear: true }, { key: "L" });
    const open = deferred();
    const first = limit(() => open.promise);
    let ran = false;
    const cleared = limit(() => {
      ran = true;
    });
    await macrotask();
    limit.clearQueue();
    await assert.rejects(cleared, { name: "AbortError" });
    open.resolve();
    await first;
    assert.equal(ran, false);
    assertGraph([]);
  });

  it("tracks limitFunction", async () => {
    const M = new Mutex({ key: "M" });
    const limited = limitFunction(
      async (n: number) => {
        await M.runExclusive(() => {});
        return names().concat(String(n));
      },
      { concurrency: 1 },
      { key: "F" },
    );
    assert.deepEqual(await limited(7), ["F", "7"]);
    assertGraph(["F -> M"]);
    assert.equal(typeof limited.clearQueue, "function");
  });

  it("holds nothing for a limiter without a limit, but still charges its work to the submitter", async () => {
    const limit = pLimit(Number.POSITIVE_INFINITY, { key: "L" });
    const M = new Mutex({ key: "M" });
    const seen = await M.runExclusive(() =>
      limit(async () => limit(async () => names())),
    );
    assert.deepEqual(seen, ["M"]);
    assertGraph([]);
  });

  it("hands the same limiter back when tracked twice", () => {
    const limit = pLimit(1);
    assert.equal(track(limit), limit);
  });
});
