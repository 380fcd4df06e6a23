// "A bug inside waitgraph never throws into your program: it becomes one internal-error report."
// A fault is injected into the validator (the tracker's own code); the program's locks must go
// on working untracked, and the fault must surface as exactly one report.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Completion, Mutex, deferred, task, tracker } from "../../src/index.js";

const core = (globalThis as Record<symbol, unknown>)[
  Symbol.for("waitgraph.core/v1")
] as {
  validator: {
    acquire: (...args: unknown[]) => unknown;
    wait: (...args: unknown[]) => unknown;
  };
};
const original = { acquire: core.validator.acquire, wait: core.validator.wait };

beforeEach(() => {
  tracker.reset();
  tracker.configure({ policy: "silent" });
});
afterEach(() => {
  core.validator.acquire = original.acquire;
  core.validator.wait = original.wait;
  tracker.configure({ policy: "log" });
});

function breakValidator(): void {
  const fault = () => {
    throw new Error("injected validator fault");
  };
  core.validator.acquire = fault;
  core.validator.wait = fault;
}

const internalErrors = () =>
  tracker.reports().filter((r) => r.kind === "internal-error");

test("a fault in the validator leaves acquire, release and runExclusive working, and is one report", async () => {
  breakValidator();
  const m = new Mutex({ name: "m" });
  const release = await m.acquire();
  assert.equal(m.isLocked(), true);
  release();
  assert.equal(m.isLocked(), false);
  assert.equal(await m.runExclusive(() => 42), 42);
  assert.equal(m.tryAcquire()?.(), undefined);
  const reports = internalErrors();
  assert.equal(reports.length, 1, "the same fault is reported once");
  assert.match(reports[0]!.text, /injected validator fault/);
});

test("under policy 'throw' a fault is still a report, never an exception", async () => {
  tracker.configure({ policy: "throw" });
  breakValidator();
  const a = new Mutex({ name: "a" });
  const b = new Mutex({ name: "b" });
  const result = await a.runExclusive(() => b.runExclusive(() => "ran"));
  assert.equal(result, "ran");
  assert.equal(a.isLocked() || b.isLocked(), false);
  assert.equal(internalErrors().length, 1);
});

test("a fault while validating waits leaves completions, deferreds and tasks working", async () => {
  breakValidator();
  const c = new Completion({ name: "c" });
  const d = deferred<number>({ name: "d" });
  const waiter = task("waiter", async () => {
    await c.wait();
    return await d.promise;
  });
  await task("raiser", async () => {
    await null;
    c.complete();
    d.resolve(7);
  });
  assert.equal(await waiter, 7);
  assert.equal(internalErrors().length, 1);
});
