// The rows of reference/async-context.md §3.1 (and §7.2) that the promise-hook tracker (design G)
// does not get right. Each test asserts today's imperfect outcome and names the limit in its
// title, so that a change in behaviour (a fix, or a new regression) is noticed here. The correct
// answer is stated beside each assertion.
import { beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { heldLocks } from "../../src/index.js";
import {
  assertGraph,
  deferred,
  fresh,
  inCallback,
  mutex,
} from "../helpers/edges.js";

beforeEach(() => fresh());

const names = (): string[] => heldLocks().map((h) => h.name);

describe("limits of design G, pinned", () => {
  test("limit d5 (false edge): an un-awaited async call made under A inherits A and adds A → B while A is held", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const bTaken = deferred<string[]>();
    const open = deferred();
    const holder = (async () => {
      const rA = await A.acquire();
      void (async () => {
        const inside = names();
        await B.runExclusive(() => {});
        bTaken.resolve(inside);
      })();
      await open.promise;
      rA();
    })();
    // Correct: {} (nobody waits for the detached call while holding A); detach(fn) gives that.
    assert.deepEqual(await bTaken.promise, ["A"]);
    open.resolve();
    await holder;
    assertGraph(["A -> B"]);
  });

  test("limit d6 (missed edge): work in a timer callback that the holder of A waits for is not seen without bind(fn)", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const rA = await A.acquire();
    await new Promise<void>((resolve) => {
      setTimeout(() => void B.runExclusive(() => {}).then(resolve), 0);
    });
    rA();
    // Correct: {A → B} (the holder of A waited for the timer's B); bind(fn) gives that.
    assertGraph([]);
  });

  test("limit d7 (missed edge): a task created before A and awaited while A is held takes B without A", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const open = deferred();
    const early = (async () => {
      await open.promise;
      assert.deepEqual(names(), []);
      await B.runExclusive(() => {});
    })();
    const rA = await A.acquire();
    open.resolve();
    await early;
    rA();
    // Correct: {A → B} (the holder of A waits for the task that takes B).
    assertGraph([]);
  });

  test("limit x1 (missed edge): of locks taken together through Promise.all([A.acquire(), B.acquire()]), the awaiter holds only the one granted last", async () => {
    const [A, B, C] = [mutex("A"), mutex("B"), mutex("C")];
    const [rA, rB] = await Promise.all([A.acquire(), B.acquire()]);
    // Promise.all settles in the reaction on the last acquisition's promise, which alone holds
    // its lock (hand-over.ts); the reaction on A's promise ends holding A, and hands it to no one.
    assert.deepEqual(names(), ["B"]);
    const rC = await C.acquire();
    rC();
    rB();
    rA();
    // Correct: {A → C, B → C}.
    assertGraph(["B -> C"]);
  });
});

describe("limits of holds following resolution (hand-over.ts), pinned", () => {
  test("limit h1 (missed edge): a helper that awaits before it locks, called by a callback flow that holds nothing, hands nothing over", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const lockUser = async (m: typeof A) => {
      await null;
      return m.acquire();
    };
    let inside: string[] = [];
    await inCallback(async () => {
      // The caller's continuation is made while its flow has no list of its own yet (nothing
      // held, not a task): nothing ties it to the helper's flow.
      const rA = await lockUser(A);
      inside = names();
      (await B.acquire())();
      rA();
    });
    assert.deepEqual(inside, []);
    // Correct: {A → B}; inside task() it is (hand-over.test.ts).
    assertGraph([]);
  });

  test("limit h2 (missed edge): `return helper()` without await does not pass the helper's hold on", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const inner = async (m: typeof A) => m.acquire();
    const outer = async (m: typeof A) => inner(m); // V8 forwards inner's promise in a job
    const rA = await outer(A);
    assert.deepEqual(names(), []);
    (await B.acquire())();
    rA();
    // Correct: {A → B}; `return await inner(m)` gives it.
    assertGraph([]);
  });

  test("limit h3 (false edge): a helper that hands its releaser to a timer and returns makes its caller a holder until the timer runs", async () => {
    const [A, B] = [mutex("A"), mutex("B")];
    const rateLimit = async () => {
      const release = await A.acquire();
      setTimeout(release, 5);
    };
    await rateLimit();
    assert.deepEqual(names(), ["A"]);
    (await B.acquire())();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(names(), []);
    // Correct: {} (the timer releases A whatever the caller does).
    assertGraph(["A -> B"]);
  });
});
