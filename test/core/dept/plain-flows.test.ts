// Plain async flows — no task() anywhere — written the way applications write them: request/
// response maps of deferreds, worker loops, Promise.all pipelines, event-loop callbacks,
// condition-variable queues, lazy singletons and caches. Each run finishes; a real deadlock
// shape is shown by two instances of one class or by two rounds, and every test asserts the
// exact verdicts (a false positive and a missed deadlock both fail).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  Completion,
  Condition,
  Mutex,
  RwLock,
  Semaphore,
  deferred,
  type Deferred,
} from "../../../src/index.js";
import { fresh, macrotask } from "../../helpers/edges.js";
import { prng } from "../../primitives/support.js";
import { assertVerdicts } from "./support.js";

beforeEach(() => fresh());

const range = (n: number, from = 0): number[] =>
  Array.from({ length: n }, (_, i) => from + i);

/**
 * A server's `listening` promise, resolved by an event-loop callback. A flow that awaits it
 * waits while something is awaited, so the flow gets an anonymous task of its own from then on.
 */
function listening(): Promise<void> {
  const started = deferred<void>({ key: "listening" });
  setImmediate(() => started.resolve());
  return started.promise;
}

describe("request/response: call(id) awaits a deferred kept in a Map until the reply comes", () => {
  it("does not report concurrent and sequential calls answered from setImmediate callbacks", async () => {
    const pending = new Map<number, Deferred<number>>();
    const call = async (id: number): Promise<number> => {
      const reply = deferred<number>({ key: "reply" });
      pending.set(id, reply);
      setImmediate(() => {
        pending.get(id)!.resolve(id * 2);
        pending.delete(id);
      });
      return await reply.promise;
    };
    const answers = await Promise.all(range(20).map(call));
    assert.deepEqual(
      answers,
      range(20).map((i) => i * 2),
    );
    for (const id of range(5, 100)) assert.equal(await call(id), id * 2);
    assert.equal(pending.size, 0);
    assertVerdicts([]);
  });

  /** A server: a plain async loop that takes requests from an inbox and answers each. */
  function server(beforeAnswer?: () => Promise<void>) {
    const pending = new Map<number, Deferred<number>>();
    const inbox: number[] = [];
    const arrived = new Completion({ name: "requests" });
    let closed = false;
    const loop = (async () => {
      for (;;) {
        while (inbox.length === 0 && !closed) await arrived.wait();
        const id = inbox.shift();
        if (id === undefined) return;
        await macrotask(); // the work
        await beforeAnswer?.();
        pending.get(id)!.resolve(id * 2);
        pending.delete(id);
      }
    })();
    const call = async (id: number): Promise<number> => {
      const reply = deferred<number>({ key: "reply" });
      pending.set(id, reply);
      inbox.push(id);
      arrived.complete();
      return await reply.promise;
    };
    const close = async (): Promise<void> => {
      closed = true;
      arrived.completeAll();
      await loop;
    };
    return { call, close };
  }

  it("does not report calls answered by a plain async responder loop fed through a Completion", async () => {
    const s = server();
    const client = async (base: number) => {
      for (const id of range(4, base)) assert.equal(await s.call(id), id * 2);
    };
    await Promise.all([
      Promise.all(range(10).map(s.call)),
      client(100),
      client(200),
    ]);
    await s.close();
    assertVerdicts([]);
  });

  it("does not report the same calls made by a client that first awaited its server's start-up", async () => {
    await listening();
    const s = server();
    await Promise.all(range(10).map(s.call));
    for (const id of range(4, 100)) assert.equal(await s.call(id), id * 2);
    await s.close();
    assertVerdicts([]);
  });

  // A caller holds its session lock while it awaits the reply; the server, before answering,
  // takes a session lock (another session: this run does not hang). With one session both
  // would wait forever.
  const session = () => new Mutex({ key: "session" });

  it("reports a caller that holds a session lock across the call when the responder takes a session lock to answer", async () => {
    const serverSession = session();
    const s = server(async () => {
      const release = await serverSession.acquire();
      release();
    });
    const mine = session();
    const release = await mine.acquire();
    assert.equal(await s.call(1), 2);
    release();
    await s.close();
    assertVerdicts([
      { kind: "circular-dependency", classes: ["session", "reply"] },
    ]);
  });

  it("does not report the look-alike whose caller releases its session lock before the call", async () => {
    const serverSession = session();
    const s = server(async () => {
      const release = await serverSession.acquire();
      release();
    });
    const mine = session();
    const release = await mine.acquire();
    release();
    assert.equal(await s.call(1), 2);
    await s.close();
    assertVerdicts([]);
  });
});

describe("a worker pool of plain async loops", () => {
  /**
   * A job queue on a Completion: `push` completes once per job, `take` waits only while the
   * queue is empty. Workers keep per-worker statistics under a lock of one class, and so does
   * the producer; `holdStatsAcrossTake` is the bug: a worker holds its lock while it waits.
   */
  async function completionPool(
    holdStatsAcrossTake: boolean,
    startedUp = false,
  ): Promise<number[]> {
    if (startedUp) await listening();
    const jobs: number[] = [];
    const available = new Completion({ name: "jobs" });
    const stats = () => new Mutex({ key: "stats" });
    let closed = false;
    const done: number[] = [];
    const worker = async () => {
      const mine = stats();
      for (;;) {
        const held = holdStatsAcrossTake ? await mine.acquire() : undefined;
        while (jobs.length === 0 && !closed) await available.wait();
        const job = jobs.shift();
        const release = held ?? (await mine.acquire());
        release();
        if (job === undefined) return;
        await macrotask();
        done.push(job);
      }
    };
    const producer = async () => {
      const mine = stats();
      for (const job of range(12)) {
        const release = await mine.acquire();
        release();
        jobs.push(job);
        available.complete();
        if (job % 3 === 2) await macrotask();
      }
      closed = true;
      available.completeAll();
    };
    await Promise.all([worker(), worker(), worker(), producer()]);
    return done.sort((a, b) => a - b);
  }

  it("does not report three workers and a producer on a Completion-based queue", async () => {
    assert.deepEqual(await completionPool(false), range(12));
    assertVerdicts([]);
  });

  it("reports workers that hold a lock the producer's class needs while they wait for a job", async () => {
    assert.deepEqual(await completionPool(true), range(12));
    assertVerdicts([
      { kind: "circular-dependency", classes: ["stats", "jobs"] },
    ]);
  });

  it("does not report the same pool started after the main flow awaited its start-up", async () => {
    assert.deepEqual(await completionPool(false, true), range(12));
    assertVerdicts([]);
  });

  it("does not report workers taking from a deferred-based queue and answering callers through result deferreds", async () => {
    // take() hands each waiting worker a deferred; push() resolves the oldest one.
    interface Job {
      n: number;
      result: Deferred<number>;
    }
    const items: (Job | null)[] = [];
    const takers: Deferred<Job | null>[] = [];
    const push = (job: Job | null) => {
      const taker = takers.shift();
      if (taker !== undefined) taker.resolve(job);
      else items.push(job);
    };
    const take = (): Promise<Job | null> => {
      if (items.length > 0) return Promise.resolve(items.shift()!);
      const taker = deferred<Job | null>({ key: "take" });
      takers.push(taker);
      return taker.promise;
    };
    const submit = async (n: number): Promise<number> => {
      const result = deferred<number>({ key: "result" });
      push({ n, result });
      return await result.promise;
    };
    const worker = async () => {
      for (let job = await take(); job !== null; job = await take()) {
        await macrotask();
        job.result.resolve(job.n * job.n);
      }
    };
    const workers = [worker(), worker()];
    const client = async (base: number) => {
      for (const n of range(4, base)) assert.equal(await submit(n), n * n);
    };
    await Promise.all([
      Promise.all(range(8).map(submit)),
      client(10),
      client(20),
    ]);
    push(null);
    push(null);
    await Promise.all(workers);
    assertVerdicts([]);
  });
});

describe("pipeline stages started with Promise.all, passing items through completions", () => {
  /**
   * stage1 → q1 → stage2 → q2 → stage3. Every stage keeps a lock of one class ("stage");
   * `holdAcrossReceive` is the bug: stage2 holds its lock while it waits for input, and stage1
   * takes its own before each hand-over.
   */
  async function pipeline(
    holdAcrossReceive: boolean,
    startedUp = false,
  ): Promise<number[]> {
    if (startedUp) await listening();
    const channel = (name: string) => ({
      items: [] as number[],
      ready: new Completion({ key: name }),
    });
    const q1 = channel("q1");
    const q2 = channel("q2");
    const send = (q: typeof q1, x: number) => {
      q.items.push(x);
      q.ready.complete();
    };
    const stage = () => new Mutex({ key: "stage" });
    const out: number[] = [];
    const stage1 = async () => {
      const lock = stage();
      for (const x of range(8)) {
        const release = await lock.acquire();
        release();
        send(q1, x);
        if (x % 2 === 1) await macrotask();
      }
      send(q1, -1);
    };
    const stage2 = async () => {
      const lock = stage();
      for (;;) {
        const held = holdAcrossReceive ? await lock.acquire() : undefined;
        while (q1.items.length === 0) await q1.ready.wait();
        const x = q1.items.shift()!;
        const release = held ?? (await lock.acquire());
        release();
        send(q2, x < 0 ? x : x * 10);
        if (x < 0) return;
      }
    };
    const stage3 = async () => {
      for (;;) {
        while (q2.items.length === 0) await q2.ready.wait();
        const x = q2.items.shift()!;
        if (x < 0) return;
        out.push(x);
      }
    };
    await Promise.all([stage1(), stage2(), stage3()]);
    return out;
  }

  it("does not report three stages", async () => {
    assert.deepEqual(
      await pipeline(false),
      range(8).map((x) => x * 10),
    );
    assertVerdicts([]);
  });

  it("reports a stage that holds a lock of the class its upstream takes while it waits for input", async () => {
    assert.deepEqual(
      await pipeline(true),
      range(8).map((x) => x * 10),
    );
    assertVerdicts([{ kind: "circular-dependency", classes: ["stage", "q1"] }]);
  });

  it("does not report three stages started after the main flow awaited its start-up", async () => {
    assert.deepEqual(
      await pipeline(false, true),
      range(8).map((x) => x * 10),
    );
    assertVerdicts([]);
  });
});

describe("a lock held across awaiting a deferred that another plain flow resolves", () => {
  // `get` holds the cache lock while it awaits the load; the loader is a plain async function.
  // Round 1 has the awaiter under the lock and a loader that does not need it; round 2 a
  // loader that takes the lock first (free by then: nothing hangs). Together: cache → loaded →
  // cache, a loader that would wait forever for the lock its awaiter holds.
  const newLoad = () => deferred<string>({ name: "loaded" });

  async function rounds(
    store: "none" | "acquire" | "runExclusive",
    secondRound = true,
  ): Promise<void> {
    const lock = new Mutex({ name: "cache" });
    const cached = new Map<string, string>();
    const first = newLoad();
    const loader = async (d: Deferred<string>, value: string) => {
      await macrotask();
      d.resolve(value);
    };
    const get = async () => {
      const release = await lock.acquire();
      void loader(first, "v1"); // does not need the lock
      const v = await first.promise;
      release();
      return v;
    };
    assert.equal(await get(), "v1");
    if (!secondRound) return;
    const second = newLoad();
    const waiter = (async () => await second.promise)();
    await macrotask();
    await (async () => {
      if (store === "acquire") {
        const release = await lock.acquire();
        cached.set("k", "v2");
        release();
      } else if (store === "runExclusive")
        await lock.runExclusive(() => void cached.set("k", "v2"));
      second.resolve("v2");
    })();
    assert.equal(await waiter, "v2");
  }

  it("does not report a resolver that does not take the lock", async () => {
    await rounds("none");
    assertVerdicts([]);
  });

  it("does not report an awaiter under the lock alone, across three loads", async () => {
    for (let i = 0; i < 3; i++) await rounds("none", false);
    assertVerdicts([]);
  });

  it("reports a resolver that takes the lock (acquire and release) before it resolves", async () => {
    await rounds("acquire");
    assertVerdicts([
      { kind: "circular-dependency", classes: ["cache", "loaded"] },
    ]);
  });

  it("reports a resolver that takes the lock through runExclusive before it resolves", async () => {
    await rounds("runExclusive");
    assertVerdicts([
      { kind: "circular-dependency", classes: ["cache", "loaded"] },
    ]);
  });
});

describe("event-loop callbacks that complete what plain flows await", () => {
  /** sleep() on a Completion completed by a setTimeout callback. */
  const sleep = (ms: number, takeFirst?: Mutex): Promise<void> => {
    const woke = new Completion({ key: "timer" });
    setTimeout(() => {
      if (takeFirst === undefined) woke.complete();
      else
        void (async () => {
          const release = await takeFirst.acquire();
          release();
          woke.complete();
        })();
    }, ms);
    return woke.wait();
  };
  const state = () => new Mutex({ key: "state" });

  it("does not report flows waiting on timers and ticks, one of them under a lock the callbacks never take", async () => {
    const tick = new Completion({ name: "tick" });
    let ticking = true;
    const ticker = () => {
      if (!ticking) return;
      tick.completeAll();
      tick.reinit();
      setImmediate(ticker);
    };
    setImmediate(ticker);
    const log = new Mutex({ name: "log" });
    const lines: string[] = [];
    const flow = async (name: string) => {
      for (let i = 0; i < 3; i++) {
        await tick.wait();
        await sleep(1);
        const release = await log.acquire();
        lines.push(`${name} ${i}`);
        release();
      }
    };
    const guarded = async () => {
      const release = await state().acquire();
      await sleep(2);
      await tick.wait();
      release();
    };
    await Promise.all([flow("a"), flow("b"), flow("c"), guarded()]);
    ticking = false;
    assert.equal(lines.length, 9);
    assertVerdicts([]);
  });

  it("reports a flow that holds a lock across a timer wait whose callback takes a lock of that class", async () => {
    const other = state();
    const release = await state().acquire();
    await sleep(1, other);
    release();
    assertVerdicts([
      { kind: "circular-dependency", classes: ["state", "timer"] },
    ]);
  });

  it("does not report the same callback when the flow released its lock before the timer wait", async () => {
    const other = state();
    const release = await state().acquire();
    release();
    await sleep(1, other);
    assertVerdicts([]);
  });
});

describe("a bounded queue on a Condition with plain async producers and consumers", () => {
  it("does not report two producers and two consumers, capacity 2, seeded interleavings", async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      fresh();
      const random = prng(seed);
      const lock = new Mutex({ name: "queue.lock" });
      const notEmpty = new Condition({ name: "notEmpty" });
      const notFull = new Condition({ name: "notFull" });
      const items: number[] = [];
      let taken = 0;
      const yieldSome = async () => {
        for (let n = Math.floor(random() * 3); n > 0; n--) await macrotask();
      };
      const producer = async (base: number) => {
        for (let i = 0; i < 6; i++) {
          await yieldSome();
          const release = await lock.acquire();
          while (items.length === 2) await notFull.wait(lock);
          items.push(base + i);
          notEmpty.notify();
          release();
        }
      };
      const consumer = async () => {
        for (let i = 0; i < 6; i++) {
          await yieldSome();
          const release = await lock.acquire();
          while (items.length === 0) await notEmpty.wait(lock);
          items.shift();
          taken++;
          notFull.notify();
          release();
        }
      };
      await Promise.all([consumer(), producer(0), consumer(), producer(10)]);
      assert.equal(taken, 12, `seed ${seed}`);
      assertVerdicts([], `seed ${seed}`);
    }
  });

  /**
   * Round 1: a consumer waits (optionally holding `outer`) and a producer that does not need
   * `outer` wakes it. Round 2: a consumer waits and a producer takes `outer` before it notifies.
   */
  async function outerRounds(consumerHoldsOuter: boolean): Promise<void> {
    const outer = new Mutex({ name: "outer" });
    const lock = new Mutex({ name: "queue.lock" });
    const ready = new Condition({ name: "queue.ready" });
    let flag = false;
    const consumer = async (holdOuter: boolean) => {
      const o = holdOuter ? await outer.acquire() : undefined;
      const release = await lock.acquire();
      while (!flag) await ready.wait(lock);
      flag = false;
      release();
      o?.();
    };
    const producer = async (takeOuter: boolean) => {
      await macrotask();
      const o = takeOuter ? await outer.acquire() : undefined;
      const release = await lock.acquire();
      flag = true;
      ready.notify();
      release();
      o?.();
    };
    await Promise.all([consumer(consumerHoldsOuter), producer(false)]);
    await Promise.all([consumer(false), producer(true)]);
  }

  it("reports a consumer that holds another lock across the wait when a producer takes it before notifying", async () => {
    await outerRounds(true);
    assertVerdicts([
      { kind: "circular-dependency", classes: ["outer", "queue.ready"] },
    ]);
  });

  it("does not report the look-alike whose consumer holds only the condition's mutex", async () => {
    await outerRounds(false);
    assertVerdicts([]);
  });
});

describe("a connection pool (Semaphore) shared by plain request handlers", () => {
  /** A pool of 2 connections; the database answers from a setImmediate callback. */
  function pool() {
    const connections = new Semaphore(2, { name: "pool" });
    const query = async (sql: string): Promise<string> => {
      const release = await connections.acquire();
      try {
        const answer = deferred<string>({ key: "answer" });
        setImmediate(() => answer.resolve(`rows of ${sql}`));
        return await answer.promise;
      } finally {
        release();
      }
    };
    return { connections, query };
  }

  it("does not report six handlers running two queries each", async () => {
    const { query } = pool();
    const handler = async (id: number) => {
      await query(`select ${id}`);
      return await query(`update ${id}`);
    };
    const got = await Promise.all(range(6).map(handler));
    assert.deepEqual(
      got,
      range(6).map((id) => `rows of update ${id}`),
    );
    assertVerdicts([]);
  });

  it("reports a handler that holds a connection while its helper queries through the pool", async () => {
    const { connections, query } = pool();
    const release = await connections.acquire();
    assert.equal(await query("nested"), "rows of nested");
    release();
    assertVerdicts([{ kind: "recursive-locking", classes: ["pool"] }]);
  });

  /** A handler waits for a notification that another handler sends once it has a connection. */
  async function notifyRounds(holdWhileWaiting: boolean): Promise<void> {
    const { connections } = pool();
    const notified = deferred<void>({ name: "notified" });
    const listener = async () => {
      const release = await connections.acquire();
      if (!holdWhileWaiting) release();
      await notified.promise;
      if (holdWhileWaiting) release();
    };
    const notifier = async () => {
      await macrotask();
      const release = await connections.acquire();
      release();
      notified.resolve();
    };
    await Promise.all([listener(), notifier()]);
  }

  it("reports a handler that holds a connection while it waits for a notifier that needs one", async () => {
    // With as many listeners as connections the notifier would wait forever.
    await notifyRounds(true);
    assertVerdicts([
      { kind: "circular-dependency", classes: ["pool", "notified"] },
    ]);
  });

  it("does not report the look-alike whose handler gives its connection back before waiting", async () => {
    await notifyRounds(false);
    assertVerdicts([]);
  });
});

describe("a settings store on an RwLock, refreshed by a plain flow", () => {
  /**
   * Two stores of one class (this construction site). A reader awaits the first store's
   * refresh; the refresher writes the second store first, then resolves. `readerHolds`: the
   * reader keeps its read lock while it waits — with one store the writer would wait forever.
   */
  async function refresh(readerHolds: boolean): Promise<void> {
    const store = () => new RwLock({ name: "settings" });
    const local = store();
    const remote = store();
    const refreshed = deferred<void>({ name: "refreshed" });
    const reader = async () => {
      const release = await local.acquireRead();
      if (!readerHolds) release();
      await refreshed.promise;
      if (readerHolds) release();
    };
    const readers = [reader(), reader()];
    await macrotask();
    await (async () => {
      const release = await remote.acquireWrite();
      release();
      refreshed.resolve();
    })();
    await Promise.all(readers);
  }

  it("reports readers that hold the read lock across the refresh whose writer takes that class", async () => {
    await refresh(true);
    assertVerdicts([
      { kind: "circular-dependency", classes: ["settings", "refreshed"] },
    ]);
  });

  it("does not report readers that release before they wait for the refresh", async () => {
    await refresh(false);
    assertVerdicts([]);
  });
});

describe("other everyday shapes", () => {
  /**
   * A lazily created singleton: the first caller creates it under the singleton's lock, later
   * callers wait on the lock and get the value. Every singleton comes from this helper, so
   * their locks are one class.
   */
  const lazy = <T>(factory: () => Promise<T>) => {
    const lock = new Mutex({ name: "lazy.init" });
    let value: T | undefined;
    return async (): Promise<T> => {
      const release = await lock.acquire();
      try {
        value ??= await factory();
        return value;
      } finally {
        release();
      }
    };
  };

  /** A database singleton whose factory waits for the connection's open event. */
  function database(onOpen: () => Promise<void>) {
    return lazy(async () => {
      const connected = deferred<string>({ name: "connected" });
      setImmediate(async () => {
        await onOpen();
        connected.resolve("db");
      });
      return await connected.promise;
    });
  }

  it("does not report many concurrent users of two lazy singletons", async () => {
    const config = lazy(async () => {
      await macrotask();
      return { url: "postgres://" };
    });
    const db = database(async () => undefined);
    const users = range(8).map(async (i) =>
      i % 2 === 0 ? await db() : (await config()).url,
    );
    const got = await Promise.all(users);
    assert.deepEqual(
      got,
      range(8).map((i) => (i % 2 === 0 ? "db" : "postgres://")),
    );
    assertVerdicts([]);
  });

  it("reports a singleton whose creation waits for an event that needs another singleton (one lock class)", async () => {
    const config = lazy(async () => {
      await macrotask();
      return { url: "postgres://" };
    });
    const db = database(async () => void (await config()));
    assert.equal(await db(), "db");
    assertVerdicts([
      { kind: "circular-dependency", classes: ["lazy.init", "connected"] },
    ]);
  });

  /**
   * A cache with one deferred per key in flight: concurrent gets of one key share its load.
   * The loader also fills a second-level cache (another instance of the class). With
   * `holdWhileLoading`, get holds the cache lock across the load: the loader's store into a
   * cache of that class closes the cycle.
   */
  class Cache {
    private readonly lock = new Mutex({ name: "cache.lock" });
    private readonly values = new Map<string, string>();
    private readonly inflight = new Map<string, Deferred<string>>();
    constructor(
      private readonly next: Cache | undefined,
      private readonly holdWhileLoading: boolean,
    ) {}

    async get(key: string): Promise<string> {
      const release = await this.lock.acquire();
      let held: (() => void) | undefined = release;
      try {
        const hit = this.values.get(key);
        if (hit !== undefined) return hit;
        let load = this.inflight.get(key);
        if (load === undefined) {
          load = deferred<string>({ key: "load" });
          this.inflight.set(key, load);
          // Started from a microtask: a call made here would inherit the held lock.
          queueMicrotask(() => void this.load(key, load!));
        }
        if (!this.holdWhileLoading) {
          held = undefined;
          release();
        }
        return await load.promise;
      } finally {
        held?.();
      }
    }

    private async load(key: string, d: Deferred<string>): Promise<void> {
      await macrotask();
      const value = `value of ${key}`;
      if (this.next !== undefined) {
        // Write-through to the next level, under that level's lock.
        const release = await this.next.lock.acquire();
        this.next.values.set(key, value);
        release();
      }
      this.values.set(key, value);
      this.inflight.delete(key);
      d.resolve(value);
    }
  }

  it("does not report concurrent gets of shared and distinct keys", async () => {
    const cache = new Cache(new Cache(undefined, false), false);
    const keys = ["a", "b", "a", "c", "b", "a"];
    const got = await Promise.all(keys.map((k) => cache.get(k)));
    assert.deepEqual(
      got,
      keys.map((k) => `value of ${k}`),
    );
    assert.equal(await cache.get("a"), "value of a");
    assertVerdicts([]);
  });

  it("reports a get that holds its cache lock across a load that stores into a cache of that class", async () => {
    // `get` holds the first level's lock while it waits (cache.lock → load); the loader takes
    // the second level's lock, of the same class, before it resolves (load → cache.lock).
    const cache = new Cache(new Cache(undefined, false), true);
    assert.equal(await cache.get("a"), "value of a");
    assertVerdicts([
      { kind: "circular-dependency", classes: ["cache.lock", "load"] },
    ]);
  });

  // AA through events: every service's `ready` comes from one factory (one class); boot
  // awaits the config's, then resolves the server's. With one instance it would wait for itself.
  async function boot(
    serverKey: string,
    awaitConfig: (config: Deferred<void>) => Promise<unknown>,
  ): Promise<void> {
    const config = deferred<void>({ key: "ready" });
    const server = deferred<void>({ key: serverKey });
    const listener = (async () => await server.promise)();
    const booting = (async () => {
      await awaitConfig(config);
      server.resolve();
    })();
    await macrotask();
    config.resolve();
    await Promise.all([booting, listener]);
  }

  it("reports a plain flow that awaits one `ready` and then resolves another of the class", async () => {
    await boot("ready", (config) => config.promise);
    assertVerdicts([{ kind: "circular-dependency", classes: ["ready"] }]);
  });

  it("does not report the look-alike whose server has its own class", async () => {
    await boot("server.ready", (config) => config.promise);
    await boot("server.ready", async (config) => await config.promise);
    await boot("server.ready", (config) => Promise.all([config.promise]));
    assertVerdicts([]);
  });

  it("reports it when the `ready` is awaited inside a helper async function", async () => {
    await boot("ready", async (config) => await config.promise);
    assertVerdicts([{ kind: "circular-dependency", classes: ["ready"] }]);
  });

  it("reports it when the `ready` is awaited through Promise.all", async () => {
    await boot("ready", (config) => Promise.all([config.promise]));
    assertVerdicts([{ kind: "circular-dependency", classes: ["ready"] }]);
  });

  it("does not report a consumer started as a plain async function by a caller that already awaited something", async () => {
    await listening();
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
});
