// DEPT's report as a user reads it: both sides of the cycle — [S], [W] and [E] of each
// context — at this file's own lines, never at waitgraph's. Lines are found by the trailing
// `// <marker>` comments below.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  Completion,
  Mutex,
  deferred,
  task,
  tracker,
} from "../../../src/index.js";
import { fresh } from "../../helpers/edges.js";
import { assertVerdicts, escape, sourceOf, later } from "./support.js";

const src = sourceOf(import.meta.url);

beforeEach(() => fresh());

/** The detail block of one point: `[S] lock(M):` then `[file:line:col] fn`. */
function point(label: string, event: string, marker: string): RegExp {
  return new RegExp(
    `^${escape(`${label} ${event}:`)}\\n\\[${src.at(marker)}\\] .+\\nstacktrace:\\n {6}at .*${src.at(marker)}`,
    "m",
  );
}

function noPoint(label: string, event: string): RegExp {
  return new RegExp(`^${escape(`${label} ${event}:`)}\\n\\(N/A\\)$`, "m");
}

function assertOwnFramesOnly(text: string): void {
  assert.doesNotMatch(text, /(^|[\s([])src\//m, "no frame of waitgraph");
  assert.ok(!text.includes(process.cwd()), "paths are relative to the cwd");
}

describe("a completion waited for under a mutex whose class the completer takes", () => {
  it("shows [S] [W] [E] of both contexts at the lines that made them", async () => {
    const M = new Mutex({ name: "queue.lock" });
    const done = new Completion({ name: "done" });
    await task("drain", async () => {
      const release = await M.acquire(); // drain takes the lock
      const blocked = done.wait(); // drain waits for done
      later("helper", () => done.complete());
      await blocked;
      release();
    });
    const waiter = task("waiter", () => done.wait()); // waiter waits for done
    await task("flush", async () => {
      const release = await M.acquire(); // flush takes the lock
      release();
      done.complete(); // flush completes done
    });
    await waiter;
    assertVerdicts([
      { kind: "circular-dependency", classes: ["queue.lock", "done"] },
    ]);
    const text = tracker.reports()[0]!.text;

    assert.match(text, /^DEPT: Circular dependency has been detected\.$/m);
    assert.match(text, /^\*\*\* DEADLOCK \*\*\*$/m);
    assert.match(
      text,
      /^context A\n {3}\[S\] wait_for_completion\(done\)\n {3}\[W\] lock\(queue\.lock\)\n {3}\[E\] complete\(done\)$/m,
    );
    assert.match(
      text,
      /^context B\n {3}\[S\] lock\(queue\.lock\)\n {3}\[W\] wait_for_completion\(done\)\n {3}\[E\] unlock\(queue\.lock\)$/m,
    );
    assert.match(text, /^\[S\]: start of the event context$/m);
    assert.match(text, /^\[W\]: the wait blocked$/m);
    assert.match(text, /^\[E\]: the event not reachable$/m);

    // context A (the completer's side): the event context began when the waiter started
    // waiting, the completer then waited for the lock, and completed.
    const [, a, b] = text.split(/^-+\ncontext [AB]'s detail\n-+$/m);
    assert.ok(a !== undefined && b !== undefined, "two detail blocks");
    assert.match(
      a,
      point("[S]", "wait_for_completion(done)", "waiter waits for done"),
    );
    assert.match(a, point("[W]", "lock(queue.lock)", "flush takes the lock"));
    assert.match(a, point("[E]", "complete(done)", "flush completes done"));
    // context B (the waiter's side): it took the lock, then waited for done under it; the
    // unlock it would reach is never seen ((N/A), as in DEPT).
    assert.match(b, point("[S]", "lock(queue.lock)", "drain takes the lock"));
    assert.match(
      b,
      point("[W]", "wait_for_completion(done)", "drain waits for done"),
    );
    assert.match(b, noPoint("[E]", "unlock(queue.lock)"));
    assert.match(text, /^no locks held by task "flush"\.$/m);
    assertOwnFramesOnly(text);
  });
});

describe("a deferred resolved after a lock that its awaiter holds", () => {
  it("shows the await, the lock and the resolve at their lines", async () => {
    const M = new Mutex({ name: "cache" });
    const load = () => deferred<number>({ name: "loaded" });
    const first = load();
    const peek = task("peek", async () => await first.promise); // peek awaits loaded
    await task("loader", async () => {
      const release = await M.acquire(); // loader takes the cache
      release();
      first.resolve(1); // loader resolves loaded
    });
    await peek;
    const second = load();
    await task("get", async () => {
      const release = await M.acquire(); // get takes the cache
      void task("helper", async () => {
        await null;
        second.resolve(2);
      });
      await second.promise; // get awaits loaded under the cache
      release();
    });
    assertVerdicts([
      { kind: "circular-dependency", classes: ["loaded", "cache"] },
    ]);
    const text = tracker.reports()[0]!.text;
    const [, a, b] = text.split(/^-+\ncontext [AB]'s detail\n-+$/m);
    assert.ok(a !== undefined && b !== undefined);
    // The closing edge: get held the cache and awaited loaded.
    assert.match(a, point("[S]", "lock(cache)", "get takes the cache"));
    assert.match(
      a,
      point("[W]", "await(loaded)", "get awaits loaded under the cache"),
    );
    assert.match(a, noPoint("[E]", "unlock(cache)"));
    // The other side: loaded's context began at peek's await; the loader took the cache, then
    // resolved.
    assert.match(b, point("[S]", "await(loaded)", "peek awaits loaded"));
    assert.match(b, point("[W]", "lock(cache)", "loader takes the cache"));
    assert.match(b, point("[E]", "resolve(loaded)", "loader resolves loaded"));
    assert.match(text, /^1 lock held by task "get":$/m);
    assertOwnFramesOnly(text);
  });
});

describe("a task that holds a mutex and awaits a child task taking its class", () => {
  it("shows where the task started, the child's lock, and the parent's await", async () => {
    const account = () => new Mutex({ name: "account" });
    const alice = account();
    const bob = account();
    const audit = async () => {
      const r = await bob.acquire(); // audit locks bob
      r();
    };
    await task("transfer", async () => {
      const release = await alice.acquire(); // transfer locks alice
      await task("audit", audit); // transfer starts audit and awaits it
      release();
    });
    assertVerdicts([
      { kind: "circular-dependency", classes: ["task audit", "account"] },
    ]);
    const text = tracker.reports()[0]!.text;
    const [, a, b] = text.split(/^-+\ncontext [AB]'s detail\n-+$/m);
    assert.ok(a !== undefined && b !== undefined);
    assert.match(a, point("[S]", "lock(account)", "transfer locks alice"));
    assert.match(a, noPoint("[E]", "unlock(account)"));
    assert.match(
      b,
      point("[S]", "task(task audit)", "transfer starts audit and awaits it"),
    );
    assert.match(b, point("[W]", "lock(account)", "audit locks bob"));
    assert.match(b, noPoint("[E]", "return(task audit)"));
    // The parent's await of the child is seen at the `await task(…)` expression.
    assert.match(
      a,
      point("[W]", "await(task audit)", "transfer starts audit and awaits it"),
    );
    assertOwnFramesOnly(text);
  });
});
