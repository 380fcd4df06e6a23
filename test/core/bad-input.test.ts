// Bad input gets a clear, typed error and changes nothing: the error is an InvalidArgumentError
// with code ERR_WAITGRAPH_INVALID_ARGUMENT, its message names what was expected and what was
// received (`Expected \`x\` to be …, got …`), no report is made, no class is created, and the
// lock works normally afterwards.
import { beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Mutex as AsyncMutexLib } from "async-mutex";
import AsyncLockLib from "async-lock";
import genericPool from "generic-pool";
import {
  Completion,
  Condition,
  DeadlockError,
  InvalidArgumentError,
  LockClassKey,
  Mutex,
  ReportError,
  RwLock,
  Semaphore,
  WaitgraphError,
  assertHeld,
  deferred,
  assertNotHeld,
  bind,
  detach,
  task,
  tracker,
} from "../../src/index.js";
import {
  Mutex as AdaptedAsyncMutex,
  track as trackAsyncMutex,
} from "../../src/adapters/async-mutex.js";
import { track as trackAsyncLock } from "../../src/adapters/async-lock.js";
import { trackPool as trackGenericPool } from "../../src/adapters/generic-pool.js";
import pLimit from "../../src/adapters/p-limit.js";
import { PQueue } from "../../src/adapters/p-queue.js";
import { captureLog, fresh, macrotask, reportKinds } from "../helpers/edges.js";

beforeEach(() => fresh());

/** The error is typed, coded, and says `Expected \`name\` to be …, got <received>`. */
function isInvalid(name: string, received: string) {
  return (error: unknown): boolean => {
    assert.ok(
      error instanceof InvalidArgumentError,
      `not typed: ${String(error)}`,
    );
    assert.equal(error.code, "ERR_WAITGRAPH_INVALID_ARGUMENT");
    assert.match(
      error.message,
      new RegExp(
        `^Expected \`${escape(name)}\` to be .+, got ${escape(received)}$`,
      ),
    );
    return true;
  };
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Nothing was tracked or reported, and the lock still works (and is validated). */
async function stillWorks(m: Mutex): Promise<void> {
  assert.equal(m.isLocked(), false);
  assert.deepEqual(reportKinds(), []);
  const release = await m.acquire();
  assert.equal(m.isLocked(), true);
  release();
  assert.equal(m.isLocked(), false);
  assert.equal(await m.runExclusive(() => 7), 7);
  assert.deepEqual(reportKinds(), []);
}

describe("Semaphore permits and weights", () => {
  for (const [permits, received] of [
    [0, "0 (number)"],
    [-1, "-1 (number)"],
    [1.5, "1.5 (number)"],
    [Number.NaN, "NaN (number)"],
    [Number.POSITIVE_INFINITY, "Infinity (number)"],
    ["2", '"2" (string)'],
    [undefined, "undefined (undefined)"],
  ] as const) {
    test(`new Semaphore(${String(permits)}) is refused`, () => {
      assert.throws(
        () => new Semaphore(permits as number),
        isInvalid("permits", received),
      );
    });
  }

  for (const [weight, received] of [
    [0, "0 (number)"],
    [1.5, "1.5 (number)"],
    [3, "3 (number)"],
    [-1, "-1 (number)"],
  ] as const) {
    test(`a weight of ${weight} on a 2-permit semaphore is refused, and no permit is taken`, async () => {
      const s = new Semaphore(2, { key: "pool" });
      await assert.rejects(
        s.acquire({ weight }),
        isInvalid("weight", received),
      );
      assert.throws(
        () => s.tryAcquire({ weight }),
        isInvalid("weight", received),
      );
      assert.equal(s.available, 2);
      const release = await s.acquire({ weight: 2 });
      assert.equal(s.available, 0);
      release();
      assert.equal(s.available, 2);
      assert.deepEqual(reportKinds(), []);
    });
  }
});

describe("acquire options", () => {
  const cases: [string, object, string, string][] = [
    ["subclass 8", { subclass: 8 }, "subclass", "8 (number)"],
    ["subclass -1", { subclass: -1 }, "subclass", "-1 (number)"],
    ["subclass 1.5", { subclass: 1.5 }, "subclass", "1.5 (number)"],
    ["subclass '1'", { subclass: "1" }, "subclass", '"1" (string)'],
    [
      "a nestLock that is a plain object",
      { nestLock: {} },
      "nestLock",
      "an object (Object)",
    ],
    [
      "a nestLock that is a string",
      { nestLock: "outer" },
      "nestLock",
      '"outer" (string)',
    ],
    ["a negative timeout", { timeout: -1 }, "timeout", "-1 (number)"],
    ["a NaN timeout", { timeout: Number.NaN }, "timeout", "NaN (number)"],
    ["a string timeout", { timeout: "10" }, "timeout", '"10" (string)'],
    [
      "a signal that is not an AbortSignal",
      { signal: {} },
      "signal",
      "an object (Object)",
    ],
    [
      "options that are not an object",
      5 as unknown as object,
      "options",
      "5 (number)",
    ],
  ];
  for (const [what, options, name, received] of cases) {
    test(`${what}: acquire, lock and runExclusive reject; nothing is taken or tracked`, async () => {
      const m = new Mutex({ key: "device" });
      const o = options as never;
      const classes = tracker.stats().classes;
      await assert.rejects(m.acquire(o), isInvalid(name, received));
      await assert.rejects(m.lock(o), isInvalid(name, received));
      let ran = false;
      await assert.rejects(
        m.runExclusive(() => (ran = true), o),
        isInvalid(name, received),
      );
      assert.equal(ran, false);
      assert.equal(tracker.stats().classes, classes);
      await stillWorks(m);
    });
  }

  test("a bad subclass on tryAcquire throws and leaves the mutex free", async () => {
    const m = new Mutex({ key: "device" });
    assert.throws(
      () => m.tryAcquire({ subclass: 8 }),
      isInvalid("subclass", "8 (number)"),
    );
    assert.throws(
      () => m.tryAcquire({ nestLock: {} }),
      isInvalid("nestLock", "an object (Object)"),
    );
    await stillWorks(m);
  });

  test("RwLock read and write acquisitions check their options too", async () => {
    const rw = new RwLock({ key: "table" });
    await assert.rejects(
      rw.acquireRead({ subclass: 8 }),
      isInvalid("subclass", "8 (number)"),
    );
    await assert.rejects(
      rw.acquireWrite({ timeout: -5 }),
      isInvalid("timeout", "-5 (number)"),
    );
    await assert.rejects(
      rw.runRead(() => {}, { signal: {} as AbortSignal }),
      isInvalid("signal", "an object (Object)"),
    );
    assert.throws(
      () => rw.tryAcquireWrite({ subclass: -1 }),
      isInvalid("subclass", "-1 (number)"),
    );
    assert.equal(rw.isLocked(), false);
    const release = await rw.acquireWrite();
    release();
    assert.deepEqual(reportKinds(), []);
  });

  test("an options error is reported the same with tracking off", async () => {
    tracker.configure({ enabled: false });
    try {
      const m = new Mutex({ key: "device" });
      await assert.rejects(
        m.acquire({ subclass: 8 }),
        isInvalid("subclass", "8 (number)"),
      );
      await assert.rejects(
        m.acquire({ nestLock: {} }),
        isInvalid("nestLock", "an object (Object)"),
      );
      (await m.acquire())();
    } finally {
      tracker.configure({ enabled: true });
    }
  });

  test("runExclusive without a function rejects", async () => {
    const m = new Mutex({ key: "device" });
    await assert.rejects(
      m.runExclusive(42 as never),
      isInvalid("fn", "42 (number)"),
    );
    await stillWorks(m);
  });
});

describe("lock options", () => {
  const cases: [string, object, string, string][] = [
    ["a numeric key", { key: 42 }, "key", "42 (number)"],
    [
      "an object key that is not a LockClassKey",
      { key: {} },
      "key",
      "an object (Object)",
    ],
    ["an empty string key", { key: "" }, "key", '"" (string)'],
    ["an order that is not a function", { order: 1 }, "order", "1 (number)"],
    ["a name that is not a string", { name: 3 }, "name", "3 (number)"],
    [
      "validate that is not a boolean",
      { validate: "no" },
      "validate",
      '"no" (string)',
    ],
    [
      "options that are not an object",
      "opts" as unknown as object,
      "options",
      '"opts" (string)',
    ],
  ];
  for (const [what, options, name, received] of cases) {
    test(`${what} is refused by Mutex, RwLock and Semaphore, and creates no class`, () => {
      const classes = tracker.snapshot().classes.length;
      assert.throws(
        () => new Mutex(options as never),
        isInvalid(name, received),
      );
      assert.throws(
        () => new RwLock(options as never),
        isInvalid(name, received),
      );
      assert.throws(
        () => new Semaphore(1, options as never),
        isInvalid(name, received),
      );
      assert.equal(tracker.snapshot().classes.length, classes);
      assert.deepEqual(reportKinds(), []);
    });
  }

  test("recursiveRead that is not a boolean is refused", () => {
    assert.throws(
      () => new RwLock({ recursiveRead: "yes" as never }),
      isInvalid("recursiveRead", '"yes" (string)'),
    );
  });

  test("a LockClassKey name that is not a string is refused", () => {
    assert.throws(
      () => new LockClassKey(5 as never),
      isInvalid("name", "5 (number)"),
    );
  });
});

describe("a releaser called twice", () => {
  // The waiters are other tasks (detach): the holder itself taking the lock again would be
  // recursive locking, a different finding.
  test("one bad-unlock-balance report; the second waiter is not granted by the extra call", async () => {
    const m = new Mutex({ key: "device" });
    const first = await m.acquire();
    const granted: string[] = [];
    const second = detach(() =>
      m.acquire().then((r) => (granted.push("second"), r)),
    );
    const third = detach(() =>
      m.acquire().then((r) => (granted.push("third"), r)),
    );
    first();
    first();
    const releaseSecond = await second;
    await macrotask();
    assert.deepEqual(granted, ["second"]);
    assert.equal(m.isLocked(), true);
    assert.deepEqual(reportKinds(), ["bad-unlock-balance"]);
    assert.deepEqual(tracker.reports()[0]!.classes, ["device"]);
    releaseSecond();
    const releaseThird = await third;
    assert.deepEqual(granted, ["second", "third"]);
    releaseThird();
    assert.equal(m.isLocked(), false);
    assert.deepEqual(reportKinds(), ["bad-unlock-balance"]);
  });

  test("the extra call does not throw under policy throw (it is logged) and does not drop the lock from the task that holds it now", async () => {
    fresh("throw");
    const log = captureLog();
    try {
      const m = new Mutex({ key: "device" });
      const other = new Mutex({ key: "other" });
      const stale = await m.acquire();
      stale();
      const current = await m.acquire();
      assert.doesNotThrow(() => stale());
      assert.equal(m.isLocked(), true);
      assertHeld(m);
      const rOther = await other.acquire();
      rOther();
      current();
      assert.deepEqual(reportKinds(), ["bad-unlock-balance"]);
      assert.equal(log.lines.length, 1);
      assert.match(log.lines[0]!, /bad unlock balance/);
      assert.deepEqual(
        tracker.snapshot().edges.map((e) => `${e.from} -> ${e.to}`),
        ["device -> other"],
      );
    } finally {
      log.restore();
    }
  });

  test("a semaphore permit released twice is given back once", async () => {
    const s = new Semaphore(2, { key: "pool" });
    const r1 = await s.acquire();
    r1();
    r1();
    assert.equal(s.available, 2);
    const all = await s.acquire({ weight: 2 });
    const one = detach(() => s.acquire());
    const two = detach(() => s.acquire({ weight: 2 }));
    all();
    all();
    const releaseOne = await one;
    await macrotask();
    assert.equal(s.available, 1);
    releaseOne();
    (await two)();
    assert.equal(s.available, 2);
    assert.deepEqual(reportKinds(), [
      "bad-unlock-balance",
      "bad-unlock-balance",
    ]);
  });

  test("a reader released twice does not let a writer in while another reader holds the lock", async () => {
    const rw = new RwLock({ key: "table" });
    const r1 = await rw.acquireRead();
    const r2 = await detach(() => rw.acquireRead());
    let writerIn = false;
    const writer = detach(() =>
      rw.acquireWrite().then((r) => ((writerIn = true), r)),
    );
    r1();
    r1();
    await macrotask();
    assert.equal(writerIn, false);
    r2();
    (await writer)();
    assert.equal(writerIn, true);
    assert.deepEqual(reportKinds(), ["bad-unlock-balance"]);
  });
});

describe("tracker and helpers", () => {
  const cases: [string, unknown, string, string][] = [
    ["options that are not an object", null, "options", "null"],
    [
      "enabled that is not a boolean",
      { enabled: "yes" },
      "enabled",
      '"yes" (string)',
    ],
    ["an unknown policy", { policy: "loud" }, "policy", '"loud" (string)'],
    [
      "an unknown context",
      { context: "threads" },
      "context",
      '"threads" (string)',
    ],
    ["limits that are not an object", { limits: 5 }, "limits", "5 (number)"],
    [
      "an unknown limit",
      { limits: { bogus: 1 } },
      "limits.bogus",
      '"bogus" (string)',
    ],
    [
      "a zero limit",
      { limits: { classes: 0 } },
      "limits.classes",
      "0 (number)",
    ],
    [
      "a fractional limit",
      { limits: { depth: 2.5 } },
      "limits.depth",
      "2.5 (number)",
    ],
  ];
  for (const [what, options, name, received] of cases) {
    test(`tracker.configure with ${what} is refused and changes nothing`, () => {
      const before = { policy: tracker.policy, stats: tracker.stats() };
      assert.throws(
        () => tracker.configure(options as never),
        isInvalid(name, received),
      );
      assert.equal(tracker.policy, before.policy);
      assert.deepEqual(tracker.stats(), before.stats);
    });
  }

  test("a configure call with one bad value applies none of its good ones", () => {
    const limits = tracker.stats().limits;
    assert.throws(
      () =>
        tracker.configure({
          policy: "throw",
          limits: { depth: 4 },
          enabled: "no" as never,
        }),
      isInvalid("enabled", '"no" (string)'),
    );
    assert.equal(tracker.policy, "silent");
    assert.deepEqual(tracker.stats().limits, limits);
    assert.equal(tracker.enabled, true);
  });

  test("assertHeld and assertNotHeld refuse what is not a lock, and assertHeld a bad mode", () => {
    const m = new Mutex({ key: "device" });
    assert.throws(
      () => assertHeld({}),
      isInvalid("lock", "an object (Object)"),
    );
    assert.throws(
      () => assertNotHeld(null as never),
      isInvalid("lock", "null"),
    );
    assert.throws(
      () => assertHeld(m, "rw" as never),
      isInvalid("mode", '"rw" (string)'),
    );
    assert.deepEqual(reportKinds(), []);
  });

  test("task, bind and detach refuse a missing function or name", async () => {
    assert.throws(() => task("t", 5 as never), isInvalid("fn", "5 (number)"));
    assert.throws(
      () => task(5 as never, () => {}),
      isInvalid("name", "5 (number)"),
    );
    assert.throws(() => bind("f" as never), isInvalid("fn", '"f" (string)'));
    assert.throws(
      () => detach(undefined as never),
      isInvalid("fn", "undefined (undefined)"),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The table: every public constructor and method that takes options, one row per mistake. Each
// row says which error class Node would use (TypeError for a wrong type, an unknown key or an
// unknown value; RangeError for a number out of range), the code, and a fragment of the message.
// Every row's error is also `instanceof InvalidArgumentError` and `instanceof WaitgraphError`,
// and its message has the `Expected …, got …` shape.

type Row = {
  call: string;
  run: () => unknown;
  cls: typeof TypeError | typeof RangeError;
  fragment: string;
};

const T = TypeError;
const R = RangeError;
const OPTION_KEYS = "(name, key, order, validate, concurrency)";
const ACQUIRE_KEYS = "(subclass, nestLock, timeout, signal)";

function rows(): Row[] {
  const m = new Mutex({ key: "table-m" });
  const rw = new RwLock({ key: "table-rw" });
  const s = new Semaphore(2, { key: "table-s" });
  const c = new Completion({ key: "table-c" });
  const cond = new Condition({ key: "table-cond" });
  const row = (
    call: string,
    run: () => unknown,
    cls: Row["cls"],
    fragment: string,
  ): Row => ({ call, run, cls, fragment });
  return [
    // Lock construction: options must be a plain object with known keys.
    row(
      "new Mutex([])",
      () => new Mutex([] as never),
      T,
      "`options` to be an object, got an array",
    ),
    row("new Mutex(null)", () => new Mutex(null as never), T, "got null"),
    row(
      "new Mutex('opts')",
      () => new Mutex("opts" as never),
      T,
      'got "opts" (string)',
    ),
    row(
      "new Mutex({ kye })",
      () => new Mutex({ kye: "x" } as never),
      T,
      `\`options.kye\` to be one of the known options ${OPTION_KEYS}, got "kye"`,
    ),
    row(
      "new Semaphore(4, { concurrency: 0 })",
      () => new Semaphore(4, { concurrency: 0 }),
      R,
      "`concurrency` to be a positive integer, got 0",
    ),
    row(
      "new Semaphore(4, { concurrency: '2' })",
      () => new Semaphore(4, { concurrency: "2" } as never),
      T,
      "`concurrency` to be a positive integer",
    ),
    row(
      "new Mutex({ name: 1 })",
      () => new Mutex({ name: 1 } as never),
      T,
      "`name` to be a string, got 1 (number)",
    ),
    row(
      "new RwLock({ recursiveRead: 1 })",
      () => new RwLock({ recursiveRead: 1 } as never),
      T,
      "`recursiveRead` to be a boolean",
    ),
    row(
      "new RwLock({ recursive })",
      () => new RwLock({ recursive: true } as never),
      T,
      "(name, key, order, validate, concurrency, recursiveRead)",
    ),
    row(
      "new Semaphore(2 ** 60)",
      () => new Semaphore(2 ** 60),
      R,
      "`permits` to be an integer from 1 to 2147483647 (MAX_PERMITS), got 1152921504606847000 (number)",
    ),
    row(
      "new Semaphore(2 ** 31)",
      () => new Semaphore(2 ** 31),
      R,
      "2147483648 (number)",
    ),
    row("new Semaphore(0)", () => new Semaphore(0), R, "got 0 (number)"),
    row(
      "new Semaphore(NaN)",
      () => new Semaphore(Number.NaN),
      R,
      "got NaN (number)",
    ),
    row(
      "new Semaphore('2')",
      () => new Semaphore("2" as never),
      T,
      'got "2" (string)',
    ),
    row(
      "new Semaphore()",
      () => new (Semaphore as new () => unknown)(),
      T,
      "got undefined",
    ),
    row(
      "new Semaphore(2, [])",
      () => new Semaphore(2, [] as never),
      T,
      "`options` to be an object, got an array",
    ),
    row(
      "new Completion([])",
      () => new Completion([] as never),
      T,
      "`options` to be an object",
    ),
    row(
      "new Condition({ key: '' })",
      () => new Condition({ key: "" }),
      T,
      '`key` to be a non-empty string, got "" (string)',
    ),
    row(
      "deferred({ order: 1 })",
      () => deferred({ order: 1 } as never),
      T,
      "`order` to be a function",
    ),
    row(
      "deferred(null)",
      () => deferred(null as never),
      T,
      "`options` to be an object, got null",
    ),
    row(
      "new LockClassKey(5)",
      () => new LockClassKey(5 as never),
      T,
      "`name` to be a string",
    ),
    // Acquisitions: timeouts are a number from 0 (or Infinity); unknown keys are refused.
    row(
      "m.acquire({ timeout: NaN })",
      () => m.acquire({ timeout: Number.NaN }),
      R,
      "`timeout` to be a number of milliseconds from 0 to Number.MAX_SAFE_INTEGER (MAX_TIMEOUT_MS), or Infinity, got NaN (number)",
    ),
    row(
      "m.acquire({ timeout: -1 })",
      () => m.acquire({ timeout: -1 }),
      R,
      "got -1 (number)",
    ),
    row(
      "m.acquire({ timeout: -Infinity })",
      () => m.acquire({ timeout: -Infinity }),
      R,
      "got -Infinity (number)",
    ),
    row(
      "m.acquire({ timeout: '5' })",
      () => m.acquire({ timeout: "5" } as never),
      T,
      'got "5" (string)',
    ),
    row(
      "m.acquire({ timout })",
      () => m.acquire({ timout: 5 } as never),
      T,
      `\`options.timout\` to be one of the known options ${ACQUIRE_KEYS}`,
    ),
    row(
      "m.acquire([])",
      () => m.acquire([] as never),
      T,
      "`options` to be an object, got an array",
    ),
    row(
      "m.tryAcquire({ timeout: NaN })",
      () => m.tryAcquire({ timeout: Number.NaN }),
      R,
      "`timeout`",
    ),
    row(
      "m.tryAcquire({ subclass: 8 })",
      () => m.tryAcquire({ subclass: 8 }),
      R,
      "`subclass` to be an integer from 0 to 7, got 8 (number)",
    ),
    row(
      "m.tryAcquire({ subclass: '1' })",
      () => m.tryAcquire({ subclass: "1" } as never),
      T,
      "`subclass`",
    ),
    row("m.lock(null)", () => m.lock(null as never), T, "got null"),
    row(
      "m.runExclusive(fn, { signal: 1 })",
      () => m.runExclusive(() => {}, { signal: 1 } as never),
      T,
      "`signal` to be an AbortSignal",
    ),
    row(
      "m.runExclusive(5)",
      () => m.runExclusive(5 as never),
      T,
      "`fn` to be a function",
    ),
    row(
      "rw.acquireRead({ timeout: NaN })",
      () => rw.acquireRead({ timeout: Number.NaN }),
      R,
      "`timeout`",
    ),
    row(
      "rw.tryAcquireWrite({ timeout: -1 })",
      () => rw.tryAcquireWrite({ timeout: -1 }),
      R,
      "`timeout`",
    ),
    row("rw.lockRead([])", () => rw.lockRead([] as never), T, "`options`"),
    row("rw.runWrite(null)", () => rw.runWrite(null as never), T, "`fn`"),
    row(
      "s.acquire({ weight: 3 })",
      () => s.acquire({ weight: 3 }),
      R,
      "`weight` to be an integer from 1 to 2 (the permits), got 3 (number)",
    ),
    row(
      "s.acquire({ weight: '1' })",
      () => s.acquire({ weight: "1" } as never),
      T,
      "`weight`",
    ),
    row(
      "s.acquire({ wieght })",
      () => s.acquire({ wieght: 1 } as never),
      T,
      "(subclass, nestLock, timeout, signal, weight)",
    ),
    row(
      "s.tryAcquire({ timeout: NaN })",
      () => s.tryAcquire({ timeout: Number.NaN }),
      R,
      "`timeout`",
    ),
    row(
      "s.runExclusive(fn, [])",
      () => s.runExclusive(() => {}, [] as never),
      T,
      "`options`",
    ),
    row(
      "c.wait({ timeout: NaN })",
      () => c.wait({ timeout: Number.NaN }),
      R,
      "`timeout`",
    ),
    row(
      "c.wait({ subclass })",
      () => c.wait({ subclass: 1 } as never),
      T,
      "`options.subclass` to be one of the known options (timeout, signal)",
    ),
    row(
      "cond.wait({})",
      () => cond.wait({} as never),
      T,
      "`mutex` to be a waitgraph Mutex",
    ),
    row(
      "cond.wait(m, { timeout: -1 })",
      () => cond.wait(m, { timeout: -1 }),
      R,
      "`timeout`",
    ),
    // The tracker.
    row(
      "tracker.configure()",
      () => tracker.configure(undefined as never),
      T,
      "`options` to be an object, got undefined",
    ),
    row(
      "tracker.configure([])",
      () => tracker.configure([] as never),
      T,
      "got an array",
    ),
    row(
      "tracker.configure('log')",
      () => tracker.configure("log" as never),
      T,
      'got "log" (string)',
    ),
    row(
      "tracker.configure({ polcy })",
      () => tracker.configure({ polcy: "log" } as never),
      T,
      "`options.polcy` to be one of the known options (enabled, policy, limits, context, reportTimeouts, sites, frames, deadlockTimeout)",
    ),
    row(
      "tracker.configure({ sites: 'all' })",
      () => tracker.configure({ sites: "all" } as never),
      T,
      "`sites` to be 'first-seen' or 'every'",
    ),
    row(
      "tracker.configure({ frames: true })",
      () => tracker.configure({ frames: true } as never),
      T,
      "`frames` to be 'user' or 'all'",
    ),
    row(
      "tracker.configure({ policy: 5 })",
      () => tracker.configure({ policy: 5 } as never),
      T,
      "`policy`",
    ),
    row(
      "tracker.configure({ limits: [] })",
      () => tracker.configure({ limits: [] } as never),
      T,
      "`limits` to be an object, got an array",
    ),
    row(
      "tracker.configure({ limits: { classes: 65536 } })",
      () => tracker.configure({ limits: { classes: 65536 } }),
      R,
      "`limits.classes` to be an integer from 1 to 65535, got 65536",
    ),
    row(
      "tracker.configure({ limits: { depth: 2 ** 60 } })",
      () => tracker.configure({ limits: { depth: 2 ** 60 } }),
      R,
      "`limits.depth`",
    ),
    row(
      "tracker.configure({ limits: { depth: NaN } })",
      () => tracker.configure({ limits: { depth: Number.NaN } }),
      R,
      "got NaN",
    ),
    row(
      "tracker.configure({ limits: { depth: '4' } })",
      () => tracker.configure({ limits: { depth: "4" } } as never),
      T,
      '"4" (string)',
    ),
    row("task('t', 5)", () => task("t", 5 as never), T, "`fn`"),
    row(
      "assertHeld(m, 'rw')",
      () => assertHeld(m, "rw" as never),
      T,
      "`mode` to be 'read' or 'write'",
    ),
    // Error constructors: a DeadlockError must carry a report.
    row(
      "new DeadlockError(undefined)",
      () => new DeadlockError(undefined as never),
      T,
      "`report` to be a waitgraph report (an object with `kind`, `text` and `classes`), got undefined",
    ),
    row(
      "new DeadlockError({})",
      () => new DeadlockError({} as never),
      T,
      "`report`",
    ),
    row(
      "new ReportError(null)",
      () => new ReportError(null as never),
      T,
      "`report`",
    ),
    // Adapters: a lock class of an adapter takes `name` and `key` only.
    row(
      "asyncMutex.track(m, { order })",
      () => trackAsyncMutex(new AsyncMutexLib(), { order: () => 0 } as never),
      T,
      "`options.order` to be one of the known options (name, key)",
    ),
    row(
      "new adapters Mutex(undefined, [])",
      () => new AdaptedAsyncMutex(undefined, [] as never),
      T,
      "`options`",
    ),
    row(
      "pLimit(2, { nmae })",
      () => pLimit(2, { nmae: "x" } as never),
      T,
      "`options.nmae`",
    ),
    row(
      "new PQueue({}, 'q')",
      () => new PQueue({}, "q" as never),
      T,
      '"q" (string)',
    ),
    row(
      "asyncLock.track(l, { classOf: 1 })",
      () => trackAsyncLock(new AsyncLockLib(), { classOf: 1 } as never),
      T,
      "`classOf` to be a function",
    ),
    row(
      "asyncLock.track(l, { keyOf })",
      () => trackAsyncLock(new AsyncLockLib(), { keyOf: 1 } as never),
      T,
      "(name, key, classOf)",
    ),
    row(
      "genericPool.trackPool(p, { max })",
      () => trackGenericPool(makeGenericPool(), { max: 2 } as never),
      T,
      "`options.max` to be one of the known options (name, key, concurrency)",
    ),
    row(
      "genericPool.trackPool(p, { name: 5 })",
      () => trackGenericPool(makeGenericPool(), { name: 5 } as never),
      T,
      "`name` to be a string",
    ),
  ];
}

function makeGenericPool() {
  return genericPool.createPool(
    { create: async () => ({}), destroy: async () => {} },
    { max: 1 },
  );
}

describe("the table: every public entry point with options", () => {
  for (const [i, named] of rows().entries()) {
    test(`${named.call}: ${named.cls.name}, ERR_WAITGRAPH_INVALID_ARGUMENT, "${named.fragment}"`, async () => {
      // Fresh locks per row (made after this test's reset).
      const r = rows()[i]!;
      let error: unknown;
      try {
        const result = r.run();
        if (result instanceof Promise) await result;
      } catch (e) {
        error = e;
      }
      assert.ok(error !== undefined, `${r.call} did not fail`);
      assert.ok(
        error instanceof r.cls,
        `${r.call}: not a ${r.cls.name}: ${String(error)}`,
      );
      assert.equal(
        error instanceof TypeError && error instanceof RangeError,
        false,
      );
      assert.ok(error instanceof InvalidArgumentError);
      assert.ok(error instanceof WaitgraphError);
      assert.equal(
        (error as { code?: unknown }).code,
        "ERR_WAITGRAPH_INVALID_ARGUMENT",
      );
      assert.match(error.message, /^Expected .+, got .+$/s);
      assert.ok(
        error.message.includes(r.fragment),
        `${r.call}: ${JSON.stringify(error.message)} lacks ${JSON.stringify(r.fragment)}`,
      );
      assert.deepEqual(reportKinds(), []);
    });
  }
});
