// What every lock and limiter adapter owes its users, as one suite parameterised by a factory
// (the async-mutex `test/mutex.ts` pattern). async-mutex, async-lock, p-limit and p-queue each
// run it against the real library, in every shape they offer (callback, acquire/release,
// decorators, one lock of a `track`ed instance).
//
//   scenario                                                      expected
//   at most `permits` holders, every call once, FIFO start        as the library documents
//   results and errors of the work                                passed through unchanged
//   tracking off                                                  the same behaviour, nothing held
//   while the work runs / after it                                holds the class / nothing
//   the holder waits for the same lock (policy 'throw')           recursive-locking, DeadlockError
//                                                                 at the caller's line, no hang
//   A then B in one task, B then A in another                     circular-dependency, A -> B only
//   Promise.all siblings, each holding its lock at the same time  no edge between them
//   the same siblings under a held P                              P -> A, P -> B
//   work queued behind full permits, started by another task      charged to its submitter
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { DeadlockError, Mutex, heldLocks, tracker } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  reportKinds,
} from "../helpers/edges.js";

export interface LockUnderTest {
  /** The lock class's display name, as held lists and edges show it. */
  readonly name: string;
  /** Runs `fn` holding the lock the library's way; resolves to what `fn` resolves to. */
  run<T>(fn: () => Promise<T> | T): Promise<T>;
}

export interface AdapterUnderTest {
  /** How many holders the library lets in at once. */
  readonly permits: number;
  /** A lock of the class `cls` (one class per distinct `cls`). */
  make(cls: string): LockUnderTest;
}

/** The line of the code that calls this (for asserting where a report points). */
export function lineHere(): number {
  const caller = new Error().stack?.split("\n")[2] ?? "";
  const match = /:(\d+):\d+\)?$/.exec(caller);
  assert.ok(match !== null, `no line in ${caller}`);
  return Number(match[1]);
}

const names = (): string[] => heldLocks().map((h) => h.name);

export function complianceSuite(subject: AdapterUnderTest): void {
  for (const tracked of [true, false])
    describe(tracked ? "tracking on" : "tracking off", () => {
      before(() => tracker.configure({ enabled: tracked }));
      after(() => tracker.configure({ enabled: true }));
      beforeEach(() => {
        if (tracked) fresh();
      });
      behaviour(subject, tracked);
    });
  describe("detection", () => {
    beforeEach(() => fresh());
    detection(subject);
  });
}

function behaviour(subject: AdapterUnderTest, tracked: boolean): void {
  const { permits } = subject;

  it(`lets at most ${permits} holder(s) in at once and runs every call once`, async () => {
    const lock = subject.make("L");
    let inside = 0;
    let most = 0;
    const ran: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        lock.run(async () => {
          inside++;
          most = Math.max(most, inside);
          ran.push(i);
          await macrotask();
          inside--;
        }),
      ),
    );
    assert.equal(most, permits);
    assert.deepEqual(
      ran.slice().sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5],
    );
  });

  it("starts queued work in the order it was submitted", async () => {
    const lock = subject.make("L");
    const started: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        lock.run(async () => {
          started.push(i);
          await macrotask();
        }),
      ),
    );
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  });

  it("passes the work's result and error through unchanged", async () => {
    const lock = subject.make("L");
    assert.equal(await lock.run(() => 42), 42);
    assert.equal(await lock.run(async () => "async"), "async");
    const failure = new Error("the work failed");
    await assert.rejects(
      lock.run(async () => {
        throw failure;
      }),
      (error) => error === failure,
    );
    assert.equal(await lock.run(() => "still usable"), "still usable");
  });

  it(
    tracked
      ? "holds the lock's class while the work runs and nothing after"
      : "holds nothing when tracking is off",
    async () => {
      const lock = subject.make("L");
      assert.deepEqual(names(), []);
      const inside = await lock.run(async () => {
        await macrotask();
        return names();
      });
      assert.deepEqual(inside, tracked ? [lock.name] : []);
      assert.deepEqual(names(), []);
      if (tracked) assertGraph([]);
    },
  );
}

function detection(subject: AdapterUnderTest): void {
  it("reports a holder that waits for its own lock, and under 'throw' rejects at the caller's line instead of hanging", async () => {
    fresh("throw");
    const lock = subject.make("L");
    let line = 0;
    const outer = lock.run(async () => {
      line = lineHere() + 1;
      return lock.run(() => "inner ran");
    });
    await assert.rejects(outer, (error: unknown) => {
      assert.ok(error instanceof DeadlockError, String(error));
      assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
      return true;
    });
    assert.deepEqual(reportKinds(), ["recursive-locking"]);
    const report = tracker.reports()[0]!;
    assert.deepEqual(report.classes, [lock.name]);
    const lines = report.stack.map(
      (f) => `${f.file.split("/").pop()}:${f.line}`,
    );
    assert.ok(
      lines.includes(`compliance.ts:${line}`),
      `the report's stack ${JSON.stringify(lines)} names compliance.ts:${line}`,
    );
    assert.equal(await lock.run(() => "free again"), "free again");
  });

  it("reports A then B in one task and B then A in another as a circular dependency", async () => {
    const [A, B] = [subject.make("A"), subject.make("B")];
    await A.run(() => B.run(() => {}));
    assertGraph([`${A.name} -> ${B.name}`]);
    await B.run(() => A.run(() => {}));
    assertGraph([`${A.name} -> ${B.name}`], ["circular-dependency"]);
    assert.deepEqual(
      [...tracker.reports()[0]!.classes].sort(),
      [A.name, B.name].sort(),
    );
  });

  it("adds no edge between Promise.all siblings that hold their locks at the same time", async () => {
    const [A, B] = [subject.make("A"), subject.make("B")];
    const aIn = deferred();
    const bIn = deferred();
    const seen = await Promise.all([
      A.run(async () => {
        aIn.resolve();
        await bIn.promise;
        return names();
      }),
      B.run(async () => {
        bIn.resolve();
        await aIn.promise;
        return names();
      }),
    ]);
    assert.deepEqual(seen, [[A.name], [B.name]]);
    assertGraph([]);
  });

  it("adds P -> A and P -> B, not A -> B, for the siblings under a held P", async () => {
    const P = new Mutex({ key: "P" });
    const [A, B] = [subject.make("A"), subject.make("B")];
    const aIn = deferred();
    const bIn = deferred();
    await P.runExclusive(() =>
      Promise.all([
        A.run(async () => {
          aIn.resolve();
          await bIn.promise;
        }),
        B.run(async () => {
          bIn.resolve();
          await aIn.promise;
        }),
      ]),
    );
    assertGraph([`P -> ${A.name}`, `P -> ${B.name}`]);
  });

  it("charges work queued behind full permits to the task that submitted it, not to the task that freed a permit", async () => {
    const L = subject.make("L");
    const [MX, MY, MQ] = ["MX", "MY", "MQ"].map((key) => new Mutex({ key }));
    const allIn = [...Array(subject.permits)].map(() => deferred());
    const open = deferred();
    // The holders fill every permit, each taking MX inside L, then wait for the gate.
    const holders = allIn.map((inside) =>
      L.run(async () => {
        await MX!.runExclusive(() => {});
        inside.resolve();
        await open.promise;
      }),
    );
    await Promise.all(allIn.map((d) => d.promise));
    let started = false;
    let seen: string[] = [];
    // The submitter holds MY and queues work behind them.
    const submitter = MY!.runExclusive(() =>
      L.run(async () => {
        started = true;
        seen = names();
        await MQ!.runExclusive(() => {});
      }),
    );
    await macrotask();
    assert.equal(started, false, "the work waited for a permit");
    open.resolve();
    await Promise.all([...holders, submitter]);
    assert.deepEqual(seen, ["MY", L.name]);
    assertGraph([`${L.name} -> MX`, `MY -> ${L.name}`, `${L.name} -> MQ`]);
  });
}
