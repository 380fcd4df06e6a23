// The Web Locks API (`navigator.locks`) through waitgraph/adapters/web-locks, against the real
// LockManager of Node 24+ (skipped where the runtime has none: Node 20 and 22). The shared
// compliance suite with exclusive requests, then the mapping of each request option:
//
//   scenario                                                        expected
//   A then B in one flow, B then A in another                       circular-dependency at the
//                                                                   inner request's line
//   A then B in many concurrent flows                               A -> B only, nothing reported
//   shared A then shared B, and shared B then shared A              circular-dependency (shared is a
//                                                                   non-recursive read: it queues
//                                                                   behind a waiting exclusive one)
//   shared A then shared B in many flows, the same order            nothing
//   ifAvailable that gets null, then B                              nothing held, no edge
//   ifAvailable that gets the lock, then B                          A -> B; taken under B: no cycle
//   N again, exclusively, inside N's callback                       recursive-locking, same instance,
//                                                                   certain; DeadlockError under throw
//   two names of one classOf class, nested                          recursive-locking unless `order`
//   steal under a held lock; a stolen holder's later requests       no report; no edge
//   a request aborted while it waits                                holds nothing
//   300 names and no classOf                                        one limit-exceeded; checks go on
//   values, errors and query(); requests the library refuses        the library's, untracked
//   trackWebLocks of no LockManager, or with bad options            InvalidArgumentError
//   the program's own trackWebLocks({ classOf }) under the hook     its classes win
//   `node --import waitgraph/register`, no waitgraph in the program the ABBA reported at its lines
//   a real ABBA hang                                                a deadlock report at exit
//   two worker threads, opposite orders one after the other         reported by the second (the threads
//                                                                   share one graph under the hook);
//                                                                   nothing with WAITGRAPH_STORE=off
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, it } from "node:test";
import { DeadlockError, heldLocks, tracker } from "../../src/index.js";
import {
  trackWebLocks,
  type WebLockManager,
} from "../../src/adapters/web-locks.js";
import {
  assertGraph,
  deferred,
  fresh,
  macrotask,
  reportKinds,
} from "../helpers/edges.js";
import { complianceSuite, lineHere } from "./compliance.js";

const present = (globalThis as { navigator?: { locks?: WebLockManager } })
  .navigator?.locks;
const skip =
  present === undefined
    ? `navigator.locks is missing on Node ${process.version} (Node 24 has it)`
    : false;
// The real LockManager, tracked in place (where there is one).
const locks = (present !== undefined ? trackWebLocks(present) : undefined)!;
/** The library's own methods (its prototype), untracked: what every answer is compared with. */
const untracked = present?.constructor.prototype as WebLockManager | undefined;

const names = (): string[] => heldLocks().map((h) => h.name);
const root = fileURLToPath(new URL("../../", import.meta.url));
const register = fileURLToPath(
  new URL("../../src/register.ts", import.meta.url),
);

describe("Web Locks, exclusive requests (compliance)", { skip }, () =>
  complianceSuite({
    permits: 1,
    make: (cls) => ({
      name: `web-lock ${cls}`,
      run: (fn) => locks.request(cls, () => fn()),
    }),
  }),
);

describe("Web Locks", { skip }, () => {
  beforeEach(() => fresh());

  it("is the same LockManager, with the library's query()", () => {
    assert.equal(trackWebLocks(locks), locks, "tracking again returns it");
    assert.equal(trackWebLocks(), locks, "navigator.locks by default");
    assert.equal(locks.query, untracked!.query);
    assert.equal(Object.getPrototypeOf(locks), untracked);
  });

  it("reports an ABBA between two flows at the inner request's line", async () => {
    const transfer = (from: string, to: string, line: { at: number }) =>
      locks.request(from, async () => {
        await macrotask();
        line.at = lineHere() + 1;
        await locks.request(to, () => names());
      });
    const first = { at: 0 };
    await transfer("alice", "bob", first);
    assertGraph(["web-lock alice -> web-lock bob"]);
    const second = { at: 0 };
    await transfer("bob", "alice", second);
    assert.deepEqual(reportKinds(), ["circular-dependency"]);
    const report = tracker.reports()[0] as {
      stack: { file: string; line: number }[];
      chain: { stack: { line: number }[] }[];
      cycle: { name: string }[];
    };
    assert.ok(report.stack[0]!.file.endsWith("web-locks.test.ts"));
    assert.equal(report.stack[0]!.line, second.at);
    assert.deepEqual(
      report.cycle.map((c) => c.name),
      ["web-lock alice", "web-lock bob"],
    );
    assert.ok(
      report.chain.some((link) => link.stack[0]?.line === first.at),
      "the existing chain shows where alice -> bob was recorded",
    );
  });

  it("records nothing but A -> B when many flows keep one order", async () => {
    await Promise.all(
      Array.from({ length: 8 }, () =>
        locks.request("A", async () => {
          await macrotask();
          await locks.request("B", () => macrotask());
        }),
      ),
    );
    assertGraph(["web-lock A -> web-lock B"]);
  });

  it("names a class `web-lock <name>`: the same class for every LockManager and thread", async () => {
    await locks.request("orders", () => {
      assert.deepEqual(names(), ["web-lock orders"]);
    });
    assert.deepEqual(names(), [], "the hold ends with the callback");
  });

  describe("shared mode", () => {
    it("really queues a shared request behind a waiting exclusive one (why it is a non-recursive read)", async () => {
      const open = deferred();
      const granted: string[] = [];
      const reader = locks.request("rw", { mode: "shared" }, () => {
        granted.push("reader 1");
        return open.promise;
      });
      const writer = locks.request("rw", () => {
        granted.push("writer");
      });
      const second = locks.request("rw", { mode: "shared" }, () => {
        granted.push("reader 2");
      });
      await macrotask();
      assert.deepEqual(granted, ["reader 1"], "reader 2 waits for the writer");
      open.resolve();
      await Promise.all([reader, writer, second]);
      assert.deepEqual(granted, ["reader 1", "writer", "reader 2"]);
    });

    it("holds a shared request as a read, and reports shared A, B against shared B, A", async () => {
      await locks.request("A", { mode: "shared" }, async () => {
        assert.deepEqual(
          heldLocks().map((h) => h.read),
          [1],
        );
        await locks.request("B", { mode: "shared" }, () => {});
      });
      await locks.request("B", { mode: "shared" }, () =>
        locks.request("A", { mode: "shared" }, () => {}),
      );
      assert.deepEqual(reportKinds(), ["circular-dependency"]);
    });

    it("reports nothing for shared A then shared B in many flows, one order", async () => {
      await Promise.all(
        Array.from({ length: 4 }, () =>
          locks.request("A", { mode: "shared" }, async () => {
            await macrotask();
            await locks.request("B", { mode: "shared" }, () => macrotask());
          }),
        ),
      );
      assertGraph(["web-lock A -> web-lock B"]);
    });

    it("reports re-reading a name inside its own shared callback (a queued writer would hang it), as not certain", async () => {
      await locks.request("rw", { mode: "shared" }, () =>
        locks.request("rw", { mode: "shared" }, () => {}),
      );
      assert.deepEqual(reportKinds(), ["recursive-locking"]);
      const report = tracker.reports()[0] as {
        sameInstance: boolean;
        certain: boolean;
      };
      assert.equal(report.sameInstance, true);
      assert.equal(report.certain, false);
    });
  });

  describe("the same name again", () => {
    it("reports an exclusive request of the name inside its own callback as a certain self-deadlock, and rejects it under throw", async () => {
      fresh("throw");
      let line = 0;
      const outer = locks.request("self", async () => {
        line = lineHere() + 1;
        await locks.request("self", () => "never");
      });
      await assert.rejects(outer, DeadlockError);
      assert.deepEqual(reportKinds(), ["recursive-locking"]);
      const report = tracker.reports()[0] as {
        sameInstance: boolean;
        certain: boolean;
        stack: { line: number }[];
      };
      assert.equal(report.sameInstance, true);
      assert.equal(report.certain, true);
      assert.equal(report.stack[0]!.line, line);
      // The refused request asked the library for nothing: the name is free again.
      const state = (await locks.query()) as { held: unknown[] };
      assert.deepEqual(state.held, []);
    });

    it("groups names per entity with classOf: two accounts nested are recursive locking, not the same instance", async () => {
      const perEntity = fakeManager();
      trackWebLocks(perEntity, {
        classOf: (name) => name.replace(/:\d+$/, ":*"),
      });
      await perEntity.request("account:1", () =>
        perEntity.request("account:2", () => {
          assert.deepEqual(names(), [
            "web-lock account:*",
            "web-lock account:*",
          ]);
        }),
      );
      assert.deepEqual(reportKinds(), ["recursive-locking"]);
      const report = tracker.reports()[0] as { sameInstance: boolean };
      assert.equal(report.sameInstance, false);
    });

    it("takes `order` over names of one class: ascending is fine", async () => {
      const ordered = orderedAccounts();
      await ordered.request("account:1", () =>
        ordered.request("account:2", () => {}),
      );
      assertGraph([]);
    });

    it("takes `order` over names of one class: descending is recursive locking", async () => {
      // A fresh graph: the chain (account, account) is validated once, whichever order came
      // first (the chain cache does not key on `order`'s verdict; see the report).
      const ordered = orderedAccounts();
      await ordered.request("account:2", () =>
        ordered.request("account:1", () => {}),
      );
      assert.deepEqual(reportKinds(), ["recursive-locking"]);
      const report = tracker.reports()[0] as { orderResult?: number };
      assert.equal(report.orderResult, 1);
    });

    it("stops making classes at 256 names, says so once, leaves the overflow unchecked and keeps checking the rest", async () => {
      const many = fakeManager();
      trackWebLocks(many);
      await many.request("A", () => many.request("B", () => {}));
      for (let id = 0; id < 300; id++)
        await many.request(`user:${id}`, () => undefined);
      assert.deepEqual(reportKinds(), ["limit-exceeded"]);
      // Past the cap names share one class; nesting two of them in ascending order is healthy
      // and must not read as recursive locking of that class.
      await many.request("user:400", () => many.request("user:401", () => {}));
      assert.deepEqual(reportKinds(), ["limit-exceeded"]);
      // Names with a class of their own are still checked.
      await many.request("B", () => many.request("A", () => {}));
      assert.deepEqual(reportKinds(), [
        "limit-exceeded",
        "circular-dependency",
      ]);
    });
  });

  describe("ifAvailable, steal and signal", () => {
    it("holds nothing when ifAvailable gets null, so nothing depends on it", async () => {
      const open = deferred();
      const inside = deferred();
      const holder = locks.request("A", () => {
        inside.resolve();
        return open.promise;
      });
      await inside.promise;
      const seen = await locks.request("A", { ifAvailable: true }, (lock) =>
        locks.request("B", () => ({ lock, held: names() })),
      );
      assert.deepEqual(seen, { lock: null, held: ["web-lock B"] });
      open.resolve();
      await holder;
      assertGraph([]);
    });

    it("holds what ifAvailable gets, and never validates it (a trylock cannot wait)", async () => {
      await locks.request("A", { ifAvailable: true }, (lock) => {
        assert.equal(lock?.name, "A");
        return locks.request("B", () => {});
      });
      assertGraph(["web-lock A -> web-lock B"]);
      await locks.request("B", () =>
        locks.request("A", { ifAvailable: true }, () => {}),
      );
      assertGraph(["web-lock A -> web-lock B"]);
    });

    it("never validates a steal (it does not wait), and the stolen holder holds nothing after it", async () => {
      await locks.request("A", () => locks.request("B", () => {}));
      const inside = deferred();
      const open = deferred();
      let after: string[] = [];
      const victim = locks
        .request("A", async () => {
          inside.resolve();
          await open.promise;
          after = names();
          await locks.request("C", () => {});
        })
        .catch((error: unknown) => (error as Error).name);
      await inside.promise;
      await locks.request("B", () =>
        locks.request("A", { steal: true }, (lock) => lock?.mode),
      );
      assert.equal(await Promise.race([victim, macrotask()]), "AbortError");
      open.resolve();
      await macrotask();
      await macrotask();
      assert.deepEqual(after, []);
      // No B -> A from the steal, no A -> C from the robbed callback.
      assertGraph(["web-lock A -> web-lock B"]);
    });

    it("holds nothing for a request aborted while it waits", async () => {
      const open = deferred();
      const inside = deferred();
      const holder = locks.request("A", () => {
        inside.resolve();
        return open.promise;
      });
      await inside.promise;
      const controller = new AbortController();
      const waiting = locks.request(
        "A",
        { signal: controller.signal },
        () => "granted",
      );
      controller.abort();
      await assert.rejects(waiting, { name: "AbortError" });
      open.resolve();
      await holder;
      await locks.request("B", () => assert.deepEqual(names(), ["web-lock B"]));
      assertGraph([]);
    });

    it("reports an ABBA whose closing request has a signal: nobody need ever abort it", async () => {
      await locks.request("A", () => locks.request("B", () => {}));
      await locks.request("B", () =>
        locks.request("A", { signal: new AbortController().signal }, () => {}),
      );
      assert.deepEqual(reportKinds(), ["circular-dependency"]);
    });
  });

  describe("what the program sees", () => {
    it("resolves to the callback's value and rejects with its error", async () => {
      assert.equal(await locks.request("v", () => 42), 42);
      assert.equal(
        await locks.request("v", { mode: "shared" }, async () => "shared"),
        "shared",
      );
      const boom = new Error("boom");
      await assert.rejects(
        locks.request("v", () => Promise.reject(boom)),
        (error) => error === boom,
      );
      // A name of its own: Node 24 keeps a lock whose callback throws synchronously held for
      // good (the spec releases it), and the adapter changes nothing about that.
      await assert.rejects(
        locks.request("throws", () => {
          throw boom;
        }),
        (error) => error === boom,
      );
      assert.deepEqual(names(), []);
    });

    for (const [what, args] of [
      ["a name starting with -", ["-x", () => {}]],
      ["no callback", ["x"]],
      ["an unknown mode", ["x", { mode: "bogus" }, () => {}]],
      [
        "steal with ifAvailable",
        ["x", { steal: true, ifAvailable: true }, () => {}],
      ],
      [
        "steal in shared mode",
        ["x", { steal: true, mode: "shared" }, () => {}],
      ],
      ["an aborted signal", ["x", { signal: AbortSignal.abort() }, () => {}]],
    ] as const)
      it(`refuses ${what} as the library does`, async () => {
        const raw = untracked!.request as (...a: unknown[]) => Promise<unknown>;
        const mine = await settle(
          (locks.request as (...a: unknown[]) => Promise<unknown>)(
            ...[...args],
          ),
        );
        const theirs = await settle(raw.apply(locks, [...args]));
        assert.deepEqual(mine, theirs);
        assert.equal(mine.ok, false);
        assertGraph([]);
      });

    it("throws InvalidArgumentError for what is not a LockManager, or bad options", () => {
      const invalid = {
        name: "InvalidArgumentError",
        code: "ERR_WAITGRAPH_INVALID_ARGUMENT",
      };
      for (const bad of [null, {}, { request() {} }, "navigator.locks"])
        assert.throws(() => trackWebLocks(bad as never), {
          ...invalid,
          message: /^Expected `locks` to be a Web Locks LockManager/,
        });
      assert.throws(
        () => trackWebLocks(fakeManager(), { classOf: "x" as never }),
        { ...invalid, message: /^Expected `classOf` to be a function, got/ },
      );
      assert.throws(() => trackWebLocks(fakeManager(), { order: 1 as never }), {
        ...invalid,
        message: /^Expected `order` to be a function, got 1/,
      });
      assert.throws(
        () => trackWebLocks(fakeManager(), { clasOf: () => "x" } as never),
        TypeError,
      );
    });

    it("rejects a request whose classOf returns what is not a string", async () => {
      const lm = fakeManager();
      trackWebLocks(lm, { classOf: () => 5 as never });
      await assert.rejects(
        lm.request("x", () => {}),
        {
          code: "ERR_WAITGRAPH_INVALID_ARGUMENT",
          message:
            /^Expected `classOf\(name\)` to be a string or undefined, got 5/,
        },
      );
    });
  });
});

describe("Web Locks under `node --import waitgraph/register`", { skip }, () => {
  it("tracks navigator.locks with no user code and reports the ABBA at its lines", () => {
    const fixture = "test/fixtures/web-locks/register-abba.mjs";
    const r = run([fixture]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tracked: true\ndone 2/);
    assert.equal(count(r.stderr, "possible circular locking dependency"), 1);
    assert.ok(
      r.stderr.includes(`${fixture}:${lineOf(fixture, "ABBA")}:`),
      r.stderr,
    );
  });

  it("lets the program's own trackWebLocks options replace register's defaults", () => {
    // The built package, as a program that imports waitgraph/adapters/web-locks gets it.
    const fixture = "test/fixtures/web-locks/register-classof.mjs";
    const r = spawnSync(
      process.execPath,
      ["--import", "waitgraph/register", fixture],
      { cwd: root, env: childEnv({}), encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /same manager: true\ndone/);
    assert.equal(count(r.stderr, "possible recursive locking detected"), 1);
    assert.ok(r.stderr.includes("web-lock account:*"), r.stderr);
    assert.ok(
      r.stderr.includes(`${fixture}:${lineOf(fixture, "NESTED")}:`),
      r.stderr,
    );
  });

  it("leaves navigator.locks alone with WAITGRAPH=off", () => {
    const r = run(["test/fixtures/web-locks/register-abba.mjs"], {
      WAITGRAPH: "off",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tracked: false\ndone 2/);
    assert.equal(r.stderr, "");
  });

  it("reports a real ABBA hang as a deadlock when the process drains", () => {
    const fixture = "test/fixtures/web-locks/hang.mjs";
    const r = run([fixture]);
    assert.match(r.stderr, /WARNING: deadlock: 2 flows wait for each other/);
    for (const text of ["first waits for B", "second waits for A"])
      assert.ok(
        r.stderr.includes(`${fixture}:${lineOf(fixture, text)}:`),
        r.stderr,
      );
    assert.doesNotMatch(r.stdout, /never printed/);
  });

  it("reports two worker threads taking two Web Locks in opposite orders, one after the other, through the threads' shared graph", () => {
    // Each thread keeps its own held list; under the hook the threads share one class graph
    // (docs/stores.md), so the second worker's B -> A meets the first's A -> B.
    const fixture = "test/fixtures/web-locks/workers.mjs";
    const r = run([fixture]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /workers done/);
    assert.equal(
      count(r.stderr, "possible circular locking dependency"),
      1,
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(`${fixture}:${lineOf(fixture, "inner request")}:`),
      r.stderr,
    );
    assert.match(r.stderr, /added by workers\.mjs\[\d+\]@\S+ thread \d+/);
  });

  it("keeps each thread's graph its own with WAITGRAPH_STORE=off: the same workers report nothing", () => {
    const r = run(["test/fixtures/web-locks/workers.mjs"], {
      WAITGRAPH_STORE: "off",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /workers done/);
    assert.equal(r.stderr, "");
  });
});

// ---- helpers ----------------------------------------------------------------------------

/**
 * A LockManager of its own for tests that give trackWebLocks options: the real one's request
 * under a prefix of names, so that its state (classOf, order, classes) is this test's alone.
 */
let fakes = 0;
function fakeManager(): WebLockManager {
  const prefix = `fake${++fakes}.`;
  const raw = untracked!.request as (...a: unknown[]) => Promise<unknown>;
  return {
    request: (name: string, ...rest: unknown[]) =>
      raw.call(present, prefix + name, ...rest),
    query: () => untracked!.query.call(present),
  } as unknown as WebLockManager;
}

/** A manager whose `account:<id>` names are one class, nested in ascending id order. */
function orderedAccounts(): WebLockManager {
  return trackWebLocks(fakeManager(), {
    classOf: (name) => (name.startsWith("account:") ? "account" : undefined),
    order: (held, next) => idOf(held) - idOf(next),
  });
}

function idOf(name: string): number {
  return Number(name.slice(name.indexOf(":") + 1));
}

async function settle(p: Promise<unknown>): Promise<{
  ok: boolean;
  value?: unknown;
  name?: string;
  message?: string | undefined;
  code?: unknown;
}> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    const e = error as {
      name?: string;
      message?: string;
      code?: unknown;
      constructor: { name: string };
    };
    return {
      ok: false,
      name: `${e.constructor.name} ${e.name}`,
      message: e.message?.replace(/\n[\s\S]*$/, ""),
      code: e.code,
    };
  }
}

/** A child's environment: this process's, without the test runner's and WAITGRAPH. */
function childEnv(
  env: Record<string, string>,
): Record<string, string | undefined> {
  const base = { ...process.env };
  delete base["NODE_TEST_CONTEXT"];
  delete base["WAITGRAPH"];
  return { ...base, ...env };
}

/** Runs `args` under the register hook of the sources (through tsx). */
function run(args: string[], env: Record<string, string> = {}) {
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "--import", register, ...args],
    { cwd: root, env: childEnv(env), encoding: "utf8", timeout: 60_000 },
  );
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

function lineOf(file: string, text: string): number {
  const lines = readFileSync(
    new URL(`../../${file}`, import.meta.url),
    "utf8",
  ).split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  assert.equal(hits.length, 1, `${text} once in ${file}`);
  return hits[0]!;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
