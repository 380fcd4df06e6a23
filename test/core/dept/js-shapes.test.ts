// The JavaScript shapes of issue 3, each from a run that finishes: what DEPT reports in async
// code that lockdep cannot see, and the producer/consumer shapes that must never report.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  Completion,
  Condition,
  Mutex,
  Semaphore,
  deferred,
  detach,
  task,
  tracker,
} from "../../../src/index.js";
import { fresh, macrotask } from "../../helpers/edges.js";
import { prng } from "../../primitives/support.js";
import { assertVerdicts, edgesAmong, later } from "./support.js";

beforeEach(() => fresh());

describe("a task that holds a mutex and awaits a child task", () => {
  /** One lock per account, all of one class (one construction site). */
  const accountLock = () => new Mutex({ name: "account" });

  it("reports a child that takes a lock of the held lock's class (another instance: this run does not hang)", async () => {
    const alice = accountLock();
    const bob = accountLock();
    await task("transfer", async () => {
      const release = await alice.acquire();
      await task("audit", async () => {
        const r = await bob.acquire();
        r();
      });
      release();
    });
    assertVerdicts([
      { kind: "circular-dependency", classes: ["task audit", "account"] },
    ]);
    const r = tracker.reports()[0]!;
    assert.ok(r.kind === "circular-dependency");
    assert.deepEqual(
      r.waits?.map((w) => [w.start.fn, w.wait.fn, w.event.fn]),
      [
        ["lock", "await", "unlock"],
        ["task", "lock", "return"],
      ],
    );
  });

  it("reports it whichever comes first: the child's lock in an earlier run, the await under the lock later", async () => {
    const alice = accountLock();
    const bob = accountLock();
    const audit = () =>
      task("audit", async () => {
        const r = await bob.acquire();
        r();
      });
    await audit(); // task audit → account
    assertVerdicts([]);
    await task("transfer", async () => {
      const release = await alice.acquire();
      await audit(); // account → task audit closes the cycle
      release();
    });
    assertVerdicts([
      { kind: "circular-dependency", classes: ["task audit", "account"] },
    ]);
  });

  it("does not report a parent that releases before awaiting, nor a child that takes another class", async () => {
    const alice = accountLock();
    const ledger = new Mutex({ name: "ledger" });
    await task("transfer", async () => {
      const release = await alice.acquire();
      release();
      await task("audit", async () => {
        const r = await alice.acquire();
        r();
      });
    });
    await task("transfer", async () => {
      const release = await alice.acquire();
      await task("post", async () => {
        const r = await ledger.acquire();
        r();
      });
      release();
    });
    assert.deepEqual(
      edgesAmong("account", "ledger", "task audit", "task post"),
      ["account -> task post", "task audit -> account", "task post -> ledger"],
    );
    assertVerdicts([]);
  });

  it("does not report a task awaiting tasks of its own class (a tree of work)", async () => {
    const lock = new Mutex({ name: "node" });
    const visit = (depth: number): Promise<void> =>
      task("visit", async () => {
        const release = await lock.acquire();
        release();
        if (depth > 0) await Promise.all([visit(depth - 1), visit(depth - 1)]);
      });
    await visit(3);
    assertVerdicts([]);
  });
});

describe("a deferred resolved after a lock that its awaiter holds", () => {
  // A cache: `get` holds the cache lock while it awaits the load; the loader stores the value
  // under the cache lock and then resolves. Each load gets a new deferred (one class).
  let cacheLock: Mutex;
  const newLoad = () => deferred<string>({ name: "loaded" });
  beforeEach(() => {
    cacheLock = new Mutex({ name: "cache" });
  });

  it("reports it when the awaiter's round comes first (the loader's resolve closes the cycle)", async () => {
    const first = newLoad();
    await task("get", async () => {
      const release = await cacheLock.acquire();
      void task("load", async () => {
        await null; // resolved later, by a loader that does not need the lock this time
        first.resolve("v1");
      });
      assert.equal(await first.promise, "v1");
      release();
    });
    const second = newLoad();
    const waiter = task("peek", async () => await second.promise);
    await task("load", async () => {
      const release = await cacheLock.acquire();
      release();
      second.resolve("v2");
    });
    assert.equal(await waiter, "v2");
    assertVerdicts([
      { kind: "circular-dependency", classes: ["cache", "loaded"] },
    ]);
  });

  it("reports it when the loader's round comes first (the await under the lock closes the cycle)", async () => {
    const first = newLoad();
    const waiter = task("peek", async () => await first.promise);
    await task("load", async () => {
      const release = await cacheLock.acquire();
      release();
      first.resolve("v1");
    });
    await waiter;
    assertVerdicts([]);
    const second = newLoad();
    await task("get", async () => {
      const release = await cacheLock.acquire();
      void task("load", async () => {
        await null;
        second.resolve("v2");
      });
      await second.promise;
      release();
    });
    assertVerdicts([
      { kind: "circular-dependency", classes: ["loaded", "cache"] },
    ]);
  });
});

describe("Promise.all of tasks that each hold one permit of a pool and wait for a second", () => {
  // With N tasks and a pool of N, every task holds one permit and waits forever for a second.
  // The run below has a pool of 4 and 2 tasks: it never hangs, and is reported.
  it("reports the pool (recursive locking of its class) from a run that does not hang", async () => {
    const pool = new Semaphore(4, { name: "pool" });
    const done = await Promise.all(
      [1, 2].map((id) =>
        task("query", async () => {
          const conn = await pool.acquire();
          const second = await pool.acquire(); // a nested query takes another connection
          second();
          conn();
          return id;
        }),
      ),
    );
    assert.deepEqual(done, [1, 2]);
    assertVerdicts([{ kind: "recursive-locking", classes: ["pool"] }]);
  });

  it("reports a task that holds a permit and awaits a child task that needs one (pool → child → pool)", async () => {
    const pool = new Semaphore(4, { name: "pool" });
    await Promise.all(
      [1, 2].map(() =>
        task("request", async () => {
          const conn = await pool.acquire();
          await task("subquery", async () => {
            const other = await pool.acquire();
            other();
          });
          conn();
        }),
      ),
    );
    assertVerdicts([
      { kind: "circular-dependency", classes: ["task subquery", "pool"] },
    ]);
  });

  it("does not report tasks that release their permit before taking the next", async () => {
    const pool = new Semaphore(2, { name: "pool" });
    await Promise.all(
      [1, 2, 3, 4].map(() =>
        task("query", async () => {
          for (let i = 0; i < 3; i++) {
            const conn = await pool.acquire();
            await macrotask();
            conn();
          }
        }),
      ),
    );
    assertVerdicts([]);
  });
});

describe("producer/consumer with a Condition never reports", () => {
  it("one condition, three producers and three consumers, five rounds each, seeded interleavings", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      fresh();
      const random = prng(seed);
      const lock = new Mutex({ name: "queue.lock" });
      const ready = new Condition({ name: "queue.ready" });
      const items: number[] = [];
      let consumed = 0;
      const yieldSome = async () => {
        for (let n = Math.floor(random() * 3); n > 0; n--) await macrotask();
      };
      const producer = (p: number) =>
        task("producer", async () => {
          for (let i = 0; i < 5; i++) {
            await yieldSome();
            const release = await lock.acquire();
            items.push(p * 10 + i);
            if (random() < 0.5) ready.notify();
            else ready.notifyAll();
            release();
          }
        });
      const consumer = () =>
        task("consumer", async () => {
          for (let i = 0; i < 5; i++) {
            await yieldSome();
            const release = await lock.acquire();
            while (items.length === 0) await ready.wait(lock);
            items.shift();
            consumed++;
            release();
          }
        });
      await Promise.all([
        consumer(),
        consumer(),
        consumer(),
        producer(1),
        producer(2),
        producer(3),
      ]);
      assert.equal(consumed, 15, `seed ${seed}`);
      assert.equal(lock.isLocked(), false);
      assertVerdicts([], `seed ${seed}`);
      assert.deepEqual(edgesAmong("queue.lock", "queue.ready"), [
        "queue.ready -> queue.lock",
      ]);
    }
  });

  /** A bounded buffer of capacity 1 with two conditions, as in every textbook. */
  function boundedBuffer() {
    const lock = new Mutex({ name: "buffer.lock" });
    const notEmpty = new Condition({ name: "notEmpty" });
    const notFull = new Condition({ name: "notFull" });
    const items: number[] = [];
    const log: string[] = [];
    const consume = (name: string) =>
      task("consumer", async () => {
        const release = await lock.acquire();
        while (items.length === 0) {
          log.push(`${name} waits notEmpty`);
          await notEmpty.wait(lock);
        }
        items.shift();
        log.push(`${name} took`);
        notFull.notify();
        release();
      });
    const produce = (name: string) =>
      task("producer", async () => {
        const release = await lock.acquire();
        while (items.length === 1) {
          log.push(`${name} waits notFull`);
          await notFull.wait(lock);
        }
        items.push(1);
        log.push(`${name} put`);
        notEmpty.notify();
        release();
      });
    return { lock, items, log, consume, produce };
  }

  it("two conditions, two producers, two consumers: the interleaving that makes notFull → notEmpty and notEmpty → notFull", async () => {
    // DEPT would see a cycle here: a consumer waited on notEmpty and then notified notFull, a
    // producer waited on notFull and then notified notEmpty. Both cannot block at once (the
    // buffer is never both full and empty), so it is not reported (see eventRaise in seam.ts).
    const b = boundedBuffer();
    b.items.push(0); // full: both producers wait on notFull
    const p1 = b.produce("P1");
    await macrotask();
    const p2 = b.produce("P2");
    await macrotask();
    let release = await b.lock.acquire(); // C2 queues on the lock before C1 notifies
    const c1 = b.consume("C1");
    const c2 = b.consume("C2");
    release();
    await Promise.all([p1, p2, c1, c2]);
    // empty: both consumers wait on notEmpty, and P2 queues on the lock before P1 notifies
    b.items.length = 0;
    const c3 = b.consume("C1");
    await macrotask();
    const c4 = b.consume("C2");
    await macrotask();
    release = await b.lock.acquire();
    const p3 = b.produce("P1");
    const p4 = b.produce("P2");
    release();
    await Promise.all([p3, p4, c3, c4]);
    assert.deepEqual(b.log, [
      "P1 waits notFull",
      "P2 waits notFull",
      "C1 took",
      "C2 waits notEmpty",
      "P1 put",
      "C2 took",
      "P2 put",
      "C1 waits notEmpty",
      "C2 waits notEmpty",
      "P1 put",
      "P2 waits notFull",
      "C1 took",
      "P2 put",
      "C2 took",
    ]);
    assertVerdicts([]);
    assert.deepEqual(edgesAmong("buffer.lock", "notEmpty", "notFull"), [
      "notEmpty -> buffer.lock",
      "notFull -> buffer.lock",
    ]);
  });

  it("two conditions, two producers and two consumers of six rounds each, seeded interleavings", async () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      fresh();
      const random = prng(seed);
      const lock = new Mutex({ name: "buffer.lock" });
      const notEmpty = new Condition({ name: "notEmpty" });
      const notFull = new Condition({ name: "notFull" });
      const items: number[] = [];
      const yieldSome = async () => {
        for (let n = Math.floor(random() * 3); n > 0; n--) await macrotask();
      };
      const consumer = () =>
        task("consumer", async () => {
          for (let i = 0; i < 6; i++) {
            await yieldSome();
            const release = await lock.acquire();
            while (items.length === 0) await notEmpty.wait(lock);
            items.shift();
            notFull.notify();
            release();
          }
        });
      const producer = () =>
        task("producer", async () => {
          for (let i = 0; i < 6; i++) {
            await yieldSome();
            const release = await lock.acquire();
            while (items.length === 1) await notFull.wait(lock);
            items.push(i);
            notEmpty.notify();
            release();
          }
        });
      await Promise.all([consumer(), consumer(), producer(), producer()]);
      assert.equal(items.length, 0, `seed ${seed}`);
      assertVerdicts([], `seed ${seed}`);
    }
  });

  it("a consumer blocked on a Condition is not the task that started it: its waits are no dependency of what that task raises", async () => {
    // main starts consumer() without awaiting it; the consumer blocks on cv (with the mutex
    // given back, to be taken again). main then completes `ready` while the consumer is still
    // blocked: main never waited for cv or m, so `ready` depends on neither.
    const m = new Mutex({ key: "m" });
    const cv = new Condition({ key: "cv" });
    const ready = new Completion({ key: "ready" });
    let go = false;
    const early = task("early", () => ready.wait());
    await macrotask();
    let notifier: Promise<void> | undefined;
    await task("main", async () => {
      const consumer = (async () => {
        const release = await m.acquire();
        while (!go) await cv.wait(m);
        release();
      })();
      await macrotask();
      notifier = task("notifier", async () => {
        await ready.wait();
        const release = await m.acquire();
        go = true;
        cv.notify();
        release();
      });
      await macrotask();
      ready.completeAll();
      await consumer;
    });
    await Promise.all([early, notifier]);
    assertVerdicts([]);
  });

  it("still reports a condition waited for under another lock that the notifier takes", async () => {
    // The positive control: `outer` held across the wait (only the condition's mutex is given up).
    const outer = new Mutex({ name: "outer" });
    const lock = new Mutex({ name: "queue.lock" });
    const ready = new Condition({ name: "queue.ready" });
    let flag = false;
    await task("consumer", async () => {
      const o = await outer.acquire();
      const release = await lock.acquire();
      void task("producer", async () => {
        const r = await lock.acquire(); // this round's producer does not need outer
        flag = true;
        ready.notify();
        r();
      });
      while (!flag) await ready.wait(lock);
      release();
      o();
    });
    flag = false;
    const waiting = task("consumer", async () => {
      const release = await lock.acquire();
      while (!flag) await ready.wait(lock);
      release();
    });
    await macrotask();
    await task("producer", async () => {
      const o = await outer.acquire();
      const r = await lock.acquire();
      flag = true;
      ready.notify(); // queue.ready → outer: closes outer → queue.ready → outer
      r();
      o();
    });
    await waiting;
    assertVerdicts([
      { kind: "circular-dependency", classes: ["outer", "queue.ready"] },
    ]);
  });

  it("still reports a condition and a completion that wait for each other (done → cv → done)", async () => {
    // A waits on the condition until `go`, then completes `done`; B waits for `done`, then sets
    // `go` and notifies. Run in two finishing rounds.
    const lock = new Mutex({ name: "state.lock" });
    const cv = new Condition({ name: "cv" });
    const done = new Completion({ name: "done" });
    let go = false;
    // Round 1: a waiter for `done` is there while A waits on cv: done → cv.
    const doneWaiter = task("B", () => done.wait());
    await task("A", async () => {
      const release = await lock.acquire();
      void task("setter", async () => {
        const r = await lock.acquire();
        go = true;
        cv.notify();
        r();
      });
      while (!go) await cv.wait(lock);
      release();
      done.complete();
    });
    await doneWaiter;
    assertVerdicts([]);
    // Round 2: a waiter on cv is there while B waits for `done`, then B notifies: cv → done.
    go = false;
    const cvWaiter = task("A", async () => {
      const release = await lock.acquire();
      while (!go) await cv.wait(lock);
      release();
    });
    await macrotask();
    await task("B", async () => {
      const blocked = done.wait();
      later("completer", () => done.complete());
      await blocked;
      const r = await lock.acquire();
      go = true;
      cv.notify();
      r();
    });
    await cvWaiter;
    assertVerdicts([{ kind: "circular-dependency", classes: ["done", "cv"] }]);
  });
});

describe("a request/reply handshake that subscribes to the reply before sending the request", () => {
  // Requesters: `const answered = reply.wait(); request.complete(); await answered`.
  // Responders: `await request.wait(); reply.complete()`. A requester never blocks before it
  // has sent its request, so this cannot deadlock. The interleaving below (two requesters, two
  // responders) makes a responder wait for `request` inside `reply`'s event context; had the
  // requester's `reply.wait()` counted as a wait when it was called — before its
  // `request.complete()` — it would have closed request → reply → request.
  async function handshake(
    subscribe: (reply: Completion) => Promise<unknown>,
  ): Promise<void> {
    const request = new Completion({ name: "request" });
    const reply = new Completion({ name: "reply" });
    const responder = () =>
      task("responder", async () => {
        await request.wait();
        reply.complete();
      });
    const requester = (send: Promise<void>) =>
      task("requester", async () => {
        const answered = subscribe(reply);
        await send;
        request.complete();
        await answered;
      });
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { opened, open };
    };
    const [g1, g2] = [gate(), gate()];
    const a = responder();
    await macrotask();
    const r1 = requester(g1.opened);
    const r2 = requester(g2.opened);
    await macrotask();
    g1.open(); // r1 sends: responder a answers r1
    await macrotask();
    const b = responder(); // b waits for a request inside reply's event context
    await macrotask();
    g2.open(); // r2 sends: b answers r2
    await Promise.all([a, b, r1, r2]);
  }

  it("is not reported: the reply wait counts from the requester's await, after it sent", async () => {
    await handshake((reply) => reply.wait());
    assertVerdicts([]);
    // The responder's side is real: reply depends on request. The requester added nothing.
    assert.deepEqual(edgesAmong("request", "reply"), ["reply -> request"]);
  });

  it("is not reported when the reply is subscribed through Promise.all before sending", async () => {
    await handshake((reply) => Promise.all([reply.wait()]));
    assertVerdicts([]);
  });
});

describe("AA through events: a task waits for an event of a class only it raises", () => {
  it("reports a deferred class whose raiser first awaits one of its own (two instances: this run ends)", async () => {
    // Every service gets its `ready` from one factory: one class. `boot` awaits the config's
    // ready, then resolves the server's; with one instance it would wait for itself forever.
    const ready = () => deferred<void>({ name: "ready" });
    const config = ready();
    const server = ready();
    const listener = task("listener", async () => await server.promise);
    await task("boot", async () => {
      void task("config", async () => {
        await null;
        config.resolve();
      });
      await config.promise;
      server.resolve();
    });
    await listener;
    assertVerdicts([{ kind: "circular-dependency", classes: ["ready"] }]);
    const text = tracker.reports()[0]!.text;
    assert.match(text, /^\*\*\* AA DEADLOCK \*\*\*$/m);
    assert.match(
      text,
      /^context A\n {3}\[S\] await\(ready\)\n {3}\[W\] await\(ready\)\n {3}\[E\] resolve\(ready\)$/m,
    );
    assert.doesNotMatch(text, /^context B$/m);
  });

  it("does not report a flow that subscribes with .then and then resolves the same deferred", async () => {
    // The subscribe-then-send handshake: the flow never blocks on the deferred it settles.
    for (let i = 0; i < 3; i++) {
      const reply = deferred<number>({ name: "reply" });
      const handled = reply.promise.then((n) => n + 1);
      reply.resolve(i);
      await handled;
    }
    assertVerdicts([]);
  });

  it("reports a completion class whose completer first waits for one of its own", async () => {
    const step = () => new Completion({ name: "step" });
    const first = step();
    const second = step();
    const next = task("next", () => second.wait());
    await task("runner", async () => {
      const blocked = first.wait();
      later("starter", () => first.complete());
      await blocked;
      second.complete();
    });
    await next;
    assertVerdicts([{ kind: "circular-dependency", classes: ["step"] }]);
  });

  it("does not report a flow that subscribes to a deferred whose detached `.then` callback settles it", async () => {
    // reload(): `fetch().then(store, (e) => loaded.reject(e))`, and the caller subscribes with
    // `reload().catch(…)`. The callback runs as the task that created it, so the settle looks
    // like that task's own event; a deferred settles once, so the task's earlier "wait" on it
    // can only have been a subscription, and it is no dependency (events.ts contextWaits).
    const fetchFailed = Promise.reject(new Error("unavailable"));
    const reload = () => {
      const loaded = deferred<void>({ name: "config-loaded" });
      fetchFailed.then(
        () => loaded.resolve(),
        (error: unknown) => loaded.reject(error),
      );
      return loaded.promise;
    };
    await task("main", async () => {
      await reload().catch(() => undefined);
    });
    assertVerdicts([]);
  });
});

describe("flows that are no task(): plain async functions and the code that calls them", () => {
  // An async function runs synchronously until its first await, in its caller's stretch of
  // code, and the caller's flow includes what it starts (as for held locks). A consumer it
  // started is still blocked when the caller raises the event: a blocked wait is not the
  // raiser's, so it is no dependency (else every such pair would be an AA report).
  it("does not report a consumer started as a plain async function and completed by its caller", async () => {
    const c = new Completion({ name: "c" });
    const consumer = (async () => {
      for (let i = 0; i < 3; i++) await c.wait();
    })();
    for (let i = 0; i < 3; i++) {
      c.complete();
      await null;
    }
    await consumer;
    assertVerdicts([]);
  });

  it("does not report a plain async function awaiting a deferred that its caller resolves", async () => {
    for (let i = 0; i < 3; i++) {
      const reply = deferred<number>({ name: "reply" });
      const handled = (async () => (await reply.promise) + 1)();
      reply.resolve(i);
      assert.equal(await handled, i + 1);
    }
    assertVerdicts([]);
  });

  /** M → X from a task, then a caller that completes X after starting `worker`, which takes M. */
  async function chargeRound(
    start: (worker: () => Promise<void>) => Promise<void>,
    awaitWorker = false,
  ): Promise<void> {
    const m = new Mutex({ name: "M" });
    await task("holder", async () => {
      const release = await m.acquire();
      const x1 = new Completion({ key: "X" });
      later("completer", () => x1.complete());
      await x1.wait();
      release();
    });
    const x = new Completion({ key: "X" });
    const waiter = task("waiter", () => x.wait());
    await macrotask();
    const worker = start(async () => {
      const release = await m.acquire();
      release();
    });
    if (awaitWorker) await worker;
    x.complete();
    await Promise.all([waiter, worker]);
  }

  it("does not charge a plain async function's lock acquisition to the caller that started it", async () => {
    // The acquisition runs in the caller's stretch of code (before the function's first
    // await), but the lock is granted to the function's continuation, not to the caller.
    await chargeRound((worker) => worker());
    assertVerdicts([]);
  });

  it("but charges a caller that awaited the function before completing X: M → X → M", async () => {
    await chargeRound((worker) => worker(), true);
    assertVerdicts([{ kind: "circular-dependency", classes: ["M", "X"] }]);
  });

  it("does not charge it when the function is started with detach()", async () => {
    await chargeRound((worker) => detach(worker));
    assertVerdicts([]);
  });

  it("still reports two plain async flows whose completions wait for each other's class", async () => {
    // Round 1: `second` waits for B; then `first` waits for A inside B's context and, woken,
    // completes B: B → A. Round 2, mirrored: A → B. Every flow is a plain async function.
    const round = async (x: string, y: string) => {
      const awaited = new Completion({ key: y });
      const inner = new Completion({ key: x });
      const second = (async () => await awaited.wait())();
      await macrotask();
      const first = (async () => {
        await inner.wait();
        awaited.complete();
      })();
      await macrotask();
      inner.complete();
      await Promise.all([first, second]);
    };
    await round("A", "B");
    assertVerdicts([]);
    await round("B", "A");
    assertVerdicts([{ kind: "circular-dependency", classes: ["B", "A"] }]);
  });
});
