// The behaviour every exclusive waitgraph lock owes its users, as one suite parameterised by a
// factory (the async-mutex `test/mutex.ts` pattern). exclusive.test.ts runs it against Mutex,
// Semaphore(1) and the write side of RwLock, each with tracking on and off: tracking must never
// change what a lock does.
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { beforeEach, it } from "node:test";
import {
  TimeoutError,
  tracker,
  type AcquireOptions,
  type Guard,
  type Release,
} from "../../src/index.js";
import {
  fakeClock,
  flush,
  hasCode,
  prng,
  tick,
  valueOf,
  watch,
} from "./support.js";

/** The exclusive-lock surface the suite drives. */
export interface ExclusiveLock {
  acquire(o?: AcquireOptions): Promise<Release>;
  tryAcquire(o?: AcquireOptions): Release | undefined;
  lock(o?: AcquireOptions): Promise<Guard>;
  runExclusive<T>(fn: () => Promise<T> | T, o?: AcquireOptions): Promise<T>;
  isLocked(): boolean;
}

const INVALID = "ERR_WAITGRAPH_INVALID_ARGUMENT";
const TIMEOUT = "ERR_WAITGRAPH_TIMEOUT";
/** The largest delay a Node timer honours; anything longer fires after 1 ms. */
const MAX_TIMER = 2 ** 31 - 1;

export function exclusiveSuite(factory: () => ExclusiveLock): void {
  let lock: ExclusiveLock;
  fakeClock();
  beforeEach(() => {
    lock = factory();
  });

  // Acquire and release ----------------------------------------------------------------------

  it("is unlocked when new", () => {
    assert.equal(lock.isLocked(), false);
  });

  it("resolves acquire to a releaser and stays locked until it is called", async () => {
    const release = await lock.acquire();
    assert.equal(typeof release, "function");
    assert.equal(lock.isLocked(), true);
    release();
    assert.equal(lock.isLocked(), false);
  });

  it("makes a second acquire wait until the first holder releases", async () => {
    const release = await lock.acquire();
    const second = watch(lock.acquire());
    await tick(1_000);
    assert.equal(second.state, "pending");
    release();
    await flush();
    valueOf(second)();
    assert.equal(lock.isLocked(), false);
  });

  it("grants waiters in FIFO order", async () => {
    const first = await lock.acquire();
    const order: number[] = [];
    const done = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      lock.acquire().then((release) => {
        order.push(i);
        release();
      }),
    );
    await flush();
    assert.deepEqual(order, []);
    first();
    await Promise.all(done);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(lock.isLocked(), false);
  });

  it("keeps one FIFO queue across acquire, lock and runExclusive", async () => {
    const first = await lock.acquire();
    const order: string[] = [];
    const done = [
      lock.runExclusive(() => void order.push("run 1")),
      lock.acquire().then((release) => {
        order.push("acquire");
        release();
      }),
      lock.lock().then((g) => {
        order.push("lock");
        g.release();
      }),
      lock.runExclusive(async () => void order.push("run 2")),
    ];
    first();
    await Promise.all(done);
    assert.deepEqual(order, ["run 1", "acquire", "lock", "run 2"]);
  });

  it("hands the lock straight to the next waiter on release", async () => {
    const first = await lock.acquire();
    const next = watch(lock.acquire());
    first();
    assert.equal(lock.isLocked(), true, "no moment where the lock is free");
    await flush();
    valueOf(next)();
    assert.equal(lock.isLocked(), false);
  });

  it("tracks isLocked through a queue of holders", async () => {
    const one = lock.acquire();
    const two = lock.acquire();
    assert.equal(lock.isLocked(), true);
    (await one)();
    assert.equal(lock.isLocked(), true);
    (await two)();
    assert.equal(lock.isLocked(), false);
  });

  it("counts a releaser's second call as nothing, even after the lock moved on", async () => {
    const first = await lock.acquire();
    const second = watch(lock.acquire());
    const third = watch(lock.acquire());
    first();
    await flush();
    assert.equal(second.state, "fulfilled");
    first();
    await flush();
    assert.equal(third.state, "pending", "a stray release let a waiter in");
    assert.equal(lock.isLocked(), true);
    valueOf(second)();
    await flush();
    valueOf(third)();
    first();
    assert.equal(lock.isLocked(), false);
    // A stray release on a free lock must not leave credit behind either.
    const again = lock.tryAcquire();
    assert.ok(again !== undefined);
    assert.equal(lock.tryAcquire(), undefined);
    again();
    if (tracker.enabled)
      assert.ok(
        tracker.reports().some((r) => r.kind === "bad-unlock-balance"),
        "a second release is reported as bad-unlock-balance",
      );
  });

  // tryAcquire ----------------------------------------------------------------------------

  it("tryAcquire takes a free lock and returns undefined while it is held", () => {
    const release = lock.tryAcquire();
    assert.ok(release !== undefined);
    assert.equal(lock.isLocked(), true);
    assert.equal(lock.tryAcquire(), undefined);
    release();
    assert.equal(lock.isLocked(), false);
    release();
    assert.equal(lock.isLocked(), false);
  });

  it("tryAcquire blocks acquire until its releaser runs", async () => {
    const release = lock.tryAcquire()!;
    const waiter = watch(lock.acquire());
    await flush();
    assert.equal(waiter.state, "pending");
    release();
    await flush();
    valueOf(waiter)();
  });

  it("tryAcquire does not jump the FIFO queue", async () => {
    const first = await lock.acquire();
    const waiter = watch(lock.acquire());
    first();
    assert.equal(lock.tryAcquire(), undefined, "the waiter owns the lock");
    await flush();
    const release = valueOf(waiter);
    assert.equal(lock.tryAcquire(), undefined);
    release();
    const now = lock.tryAcquire();
    assert.ok(now !== undefined);
    now();
  });

  // runExclusive ---------------------------------------------------------------------------

  it("runExclusive resolves to fn's result", async () => {
    assert.equal(await lock.runExclusive(() => 10), 10);
    assert.equal(await lock.runExclusive(() => Promise.resolve(11)), 11);
    assert.equal(lock.isLocked(), false);
  });

  it("runExclusive holds the lock while fn runs, and only then", async () => {
    let during: boolean | undefined;
    await lock.runExclusive(async () => {
      await flush();
      during = lock.isLocked();
    });
    assert.equal(during, true);
    assert.equal(lock.isLocked(), false);
  });

  it("runExclusive passes a rejection through and releases", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      lock.runExclusive(() => Promise.reject(boom)),
      (e) => e === boom,
    );
    assert.equal(lock.isLocked(), false);
  });

  it("runExclusive passes a synchronous throw through and releases", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      lock.runExclusive(() => {
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(lock.isLocked(), false);
  });

  it("runExclusive that throws lets the next waiter in", async () => {
    const failing = watch(
      lock.runExclusive(() => {
        throw new Error("boom");
      }),
    );
    assert.equal(await lock.runExclusive(() => "next"), "next");
    assert.equal(failing.state, "rejected");
    assert.equal(lock.isLocked(), false);
  });

  it("runExclusive is exclusive", async () => {
    let inside = 0;
    let most = 0;
    const run = () =>
      lock.runExclusive(async () => {
        most = Math.max(most, ++inside);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inside--;
      });
    const all = watch(Promise.all([run(), run(), run()]));
    await flush();
    for (let i = 0; i < 3; i++) await tick(10);
    assert.equal(all.state, "fulfilled");
    assert.equal(most, 1);
  });

  it("runExclusive rejects a non-function and takes nothing", async () => {
    await assert.rejects(
      lock.runExclusive(42 as unknown as () => void),
      hasCode(INVALID),
    );
    assert.equal(lock.isLocked(), false);
  });

  // lock() guards --------------------------------------------------------------------------

  it("releases a guard at the end of an `await using` scope", async () => {
    {
      await using guard = await lock.lock();
      assert.equal(lock.isLocked(), true);
      void guard;
    }
    assert.equal(lock.isLocked(), false);
  });

  it("releases a guard when an `await using` scope throws", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      (async () => {
        await using guard = await lock.lock();
        void guard;
        throw boom;
      })(),
      (e) => e === boom,
    );
    assert.equal(lock.isLocked(), false);
  });

  it("releases a guard at the end of a `using` scope (Symbol.dispose)", async () => {
    const guard = await lock.lock();
    {
      using held = guard;
      void held;
      assert.equal(lock.isLocked(), true);
    }
    assert.equal(lock.isLocked(), false);
  });

  it("releases a guard once, however many ways it is released", async () => {
    const guard = await lock.lock();
    const next = watch(lock.acquire());
    guard.release();
    await flush();
    const release = valueOf(next);
    guard[Symbol.dispose]();
    await guard[Symbol.asyncDispose]();
    assert.equal(lock.isLocked(), true, "the next holder keeps the lock");
    release();
    assert.equal(lock.isLocked(), false);
  });

  it("queues lock() behind holders like acquire()", async () => {
    const first = await lock.acquire();
    const guarded = watch(lock.lock());
    await flush();
    assert.equal(guarded.state, "pending");
    first();
    await flush();
    valueOf(guarded).release();
    assert.equal(lock.isLocked(), false);
  });

  // Timeouts -------------------------------------------------------------------------------

  it("rejects a waiter that times out with TimeoutError; later waiters still get the lock", async () => {
    const first = await lock.acquire();
    const timed = watch(lock.acquire({ timeout: 10 }));
    const later = watch(lock.acquire());
    await tick(9);
    assert.equal(timed.state, "pending");
    await tick(1);
    assert.equal(timed.state, "rejected");
    assert.ok(timed.reason instanceof TimeoutError);
    hasCode(TIMEOUT)(timed.reason);
    assert.equal(lock.isLocked(), true, "the holder still holds it");
    first();
    await flush();
    const release = valueOf(later);
    assert.equal(lock.isLocked(), true);
    release();
    assert.equal(lock.isLocked(), false);
  });

  it("takes a timed-out waiter out of the queue for good", async () => {
    const first = await lock.acquire();
    const timed = watch(lock.acquire({ timeout: 5 }));
    await tick(5);
    assert.equal(timed.state, "rejected");
    first();
    assert.equal(lock.isLocked(), false, "nobody is granted on its behalf");
  });

  it("ignores a timeout once the waiter was granted", async () => {
    const first = await lock.acquire();
    const waiter = watch(lock.acquire({ timeout: 10 }));
    first();
    await tick(100);
    assert.equal(waiter.state, "fulfilled");
    assert.equal(lock.isLocked(), true);
    valueOf(waiter)();
    assert.equal(lock.isLocked(), false);
  });

  it("grants a free lock at once whatever the timeout, 0 included", async () => {
    (await lock.acquire({ timeout: 0 }))();
    (await lock.acquire({ timeout: Infinity }))();
    assert.equal(lock.isLocked(), false);
  });

  it("waits forever with timeout: Infinity", async () => {
    const first = await lock.acquire();
    const waiter = watch(lock.acquire({ timeout: Infinity }));
    await tick(MAX_TIMER);
    assert.equal(waiter.state, "pending");
    first();
    await flush();
    valueOf(waiter)();
  });

  it("does not fire a timeout beyond the timer range early", async () => {
    const first = await lock.acquire();
    const long = MAX_TIMER + 1_000;
    const waiter = watch(lock.acquire({ timeout: long }));
    await tick(MAX_TIMER);
    assert.equal(waiter.state, "pending", "fired before its timeout");
    await tick(999);
    assert.equal(waiter.state, "pending");
    await tick(1);
    assert.equal(waiter.state, "rejected");
    hasCode(TIMEOUT)(waiter.reason);
    first();
    assert.equal(lock.isLocked(), false);
  });

  it("rejects a bad timeout with ERR_WAITGRAPH_INVALID_ARGUMENT and takes nothing", async () => {
    for (const timeout of [-1, Number.NaN, "10", null]) {
      await assert.rejects(
        lock.acquire({ timeout } as unknown as AcquireOptions),
        hasCode(INVALID),
      );
      assert.equal(lock.isLocked(), false);
    }
  });

  it("never runs a runExclusive fn whose wait timed out", async () => {
    const first = await lock.acquire();
    let ran = false;
    const run = watch(lock.runExclusive(() => (ran = true), { timeout: 3 }));
    await tick(3);
    first();
    await flush();
    assert.equal(run.state, "rejected");
    hasCode(TIMEOUT)(run.reason);
    assert.equal(ran, false);
    assert.equal(lock.isLocked(), false);
  });

  // AbortSignal ----------------------------------------------------------------------------

  it("rejects an already-aborted signal with its reason and takes nothing, even when free", async () => {
    const reason = new Error("stop");
    const signal = AbortSignal.abort(reason);
    await assert.rejects(lock.acquire({ signal }), (e) => e === reason);
    await assert.rejects(lock.lock({ signal }), (e) => e === reason);
    let ran = false;
    await assert.rejects(
      lock.runExclusive(() => (ran = true), { signal }),
      (e) => e === reason,
    );
    assert.equal(ran, false);
    assert.equal(lock.isLocked(), false);
  });

  it("rejects with the default AbortError when aborted without a reason", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      lock.acquire({ signal: ac.signal }),
      (e) => e === ac.signal.reason && (e as Error).name === "AbortError",
    );
  });

  it("rejects a waiter aborted while waiting; later waiters still get the lock", async () => {
    const first = await lock.acquire();
    const ac = new AbortController();
    const aborted = watch(lock.acquire({ signal: ac.signal }));
    const later = watch(lock.acquire());
    const reason = { why: "not needed" };
    ac.abort(reason);
    await flush();
    assert.equal(aborted.state, "rejected");
    assert.equal(aborted.reason, reason);
    assert.equal(lock.isLocked(), true);
    first();
    await flush();
    valueOf(later)();
    assert.equal(lock.isLocked(), false);
  });

  it("changes nothing when the signal aborts after the grant", async () => {
    const ac = new AbortController();
    const release = await lock.acquire({ signal: ac.signal });
    ac.abort();
    assert.equal(lock.isLocked(), true);
    release();
    assert.equal(lock.isLocked(), false);

    const first = await lock.acquire();
    const ac2 = new AbortController();
    const waiter = watch(lock.acquire({ signal: ac2.signal }));
    first();
    ac2.abort();
    await flush();
    assert.equal(waiter.state, "fulfilled");
    assert.equal(lock.isLocked(), true);
    valueOf(waiter)();
    assert.equal(lock.isLocked(), false);
  });

  it("stops listening to the signal once the waiter leaves the queue", async () => {
    const ac = new AbortController();
    const first = await lock.acquire();
    const granted = watch(lock.acquire({ signal: ac.signal }));
    first();
    await flush();
    valueOf(granted)();
    const second = await lock.acquire();
    const timed = watch(lock.acquire({ signal: ac.signal, timeout: 1 }));
    await tick(1);
    hasCode(TIMEOUT)(timed.reason);
    second();
    // No listener may be left behind: a later abort must not reach either waiter.
    let listeners = 0;
    ac.signal.addEventListener("abort", () => listeners++);
    ac.abort();
    assert.equal(listeners, 1);
    assert.equal(lock.isLocked(), false);
  });

  it("rejects a waiter whose signal aborts while its acquire is being reported", async () => {
    if (!tracker.enabled) return; // only a report handler runs inside acquire()
    const first = await lock.acquire();
    const ac = new AbortController();
    const policy = tracker.policy;
    tracker.configure({ policy: () => ac.abort("from the handler") });
    try {
      // The same task waits for the lock it holds: recursive locking, reported inside acquire().
      const waiter = watch(lock.acquire({ signal: ac.signal }));
      await flush();
      assert.equal(ac.signal.aborted, true, "the handler ran");
      assert.equal(waiter.reason, "from the handler");
    } finally {
      tracker.configure({ policy });
    }
    first();
    assert.equal(lock.isLocked(), false);
  });

  it("never runs a runExclusive fn aborted while waiting", async () => {
    const first = await lock.acquire();
    const ac = new AbortController();
    let ran = false;
    const run = watch(
      lock.runExclusive(() => (ran = true), { signal: ac.signal }),
    );
    ac.abort("cancelled");
    first();
    await flush();
    assert.equal(run.reason, "cancelled");
    assert.equal(ran, false);
    assert.equal(lock.isLocked(), false);
  });

  it("rejects a signal that is not an AbortSignal and takes nothing", async () => {
    await assert.rejects(
      lock.acquire({ signal: { aborted: false } } as unknown as AcquireOptions),
      hasCode(INVALID),
    );
    await assert.rejects(
      lock.acquire(7 as unknown as AcquireOptions),
      hasCode(INVALID),
    );
    assert.equal(lock.isLocked(), false);
  });

  // No lost wake-ups -----------------------------------------------------------------------

  for (const seed of [1, 7, 42, 1234]) {
    it(`loses no wake-up among 300 waiters with random timeouts and aborts (seed ${seed})`, async () => {
      const random = prng(seed);
      const count = 300;
      let inside = 0;
      let most = 0;
      let granted = 0;
      let gaveUp = 0;
      let mustBeGranted = 0;
      let grantedPlain = 0;
      const unexpected: unknown[] = [];
      const holdFor = (release: () => void) => {
        most = Math.max(most, ++inside);
        granted++;
        setTimeout(
          () => {
            inside--;
            release();
          },
          Math.floor(random() * 4),
        );
      };
      for (let i = 0; i < count; i++) {
        const arrive = Math.floor(random() * 200);
        const kind = random();
        const o: AcquireOptions = {};
        const reason = new Error(`abort ${i}`);
        if (kind < 0.3) o.timeout = Math.floor(random() * 30);
        else if (kind < 0.6) {
          const ac = new AbortController();
          o.signal = ac.signal;
          setTimeout(
            () => ac.abort(reason),
            arrive + Math.floor(random() * 30),
          );
        } else mustBeGranted++;
        const plain = kind >= 0.6;
        const style = random();
        setTimeout(() => {
          if (o.signal?.aborted === true) {
            gaveUp++;
            return;
          }
          const onGrant = (release: () => void) => {
            holdFor(release);
            if (plain) grantedPlain++;
          };
          const onGiveUp = (e: unknown) => {
            gaveUp++;
            if (e !== reason && (e as { code?: string }).code !== TIMEOUT)
              unexpected.push(e);
          };
          if (style < 0.5) lock.acquire(o).then(onGrant, onGiveUp);
          else if (style < 0.8)
            lock.lock(o).then((g) => onGrant(() => g.release()), onGiveUp);
          else
            lock
              .runExclusive(
                () => new Promise<void>((resolve) => onGrant(() => resolve())),
                o,
              )
              .catch(onGiveUp);
        }, arrive);
      }
      for (let t = 0; granted + gaveUp < count || inside > 0; t++) {
        assert.ok(t < 100_000, "waiters never settled: a lost wake-up");
        await tick(1);
        assert.ok(
          lock.isLocked() || inside === 0,
          "someone holds a lock that is not locked",
        );
        if (!lock.isLocked() && t > 200)
          assert.equal(
            granted + gaveUp,
            count,
            "the lock is free while a waiter still waits: a lost wake-up",
          );
      }
      assert.deepEqual(unexpected, []);
      assert.equal(most, 1, "two holders at once");
      assert.equal(grantedPlain, mustBeGranted);
      assert.equal(lock.isLocked(), false);
    });
  }

  // Async context --------------------------------------------------------------------------

  it("runs a queued runExclusive fn in its caller's AsyncLocalStorage context", async () => {
    const store = new AsyncLocalStorage<string>();
    const first = await lock.acquire();
    const seen: (string | undefined)[] = [];
    const done = ["a", "b", "c"].map((name) =>
      store.run(name, () =>
        lock.runExclusive(async () => {
          seen.push(store.getStore());
          await flush();
          seen.push(store.getStore());
        }),
      ),
    );
    store.run("releaser", first);
    await Promise.all(done);
    assert.deepEqual(seen, ["a", "a", "b", "b", "c", "c"]);
  });
}
