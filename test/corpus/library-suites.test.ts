// The precision corpus, second half: the everyday shapes the libraries' own test suites exercise
// (async-mutex, async-lock, p-limit, p-queue, generic-pool, tarn, pg), written here in our own
// words through waitgraph's adapters, each with the verdict a careful engineer gives it. Most are
// healthy — many flows contending for one lock or pool, the way a server does — and must give no
// report at all; beside each rule's healthy shape sits the one-line change that makes it a real
// deadlock, which must be reported, at the line that made it.
//
// The first half (real-world.test.ts) holds the deadlocks users filed as issues; this one is
// about crying wolf. A shape the model gets wrong is kept as a `todo` that says why.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import genericPool from "generic-pool";
import pg from "pg";
import { Pool as TarnPool } from "tarn";
import AsyncLock from "../../src/adapters/async-lock.js";
import {
  Mutex as AsyncMutex,
  Semaphore as AsyncSemaphore,
  withTimeout,
} from "../../src/adapters/async-mutex.js";
import { trackPool as trackGenericPool } from "../../src/adapters/generic-pool.js";
import pLimit from "../../src/adapters/p-limit.js";
import PQueue from "../../src/adapters/p-queue.js";
import { trackPool as trackPgPool } from "../../src/adapters/pg.js";
import { trackPool as trackTarnPool } from "../../src/adapters/tarn.js";
import { detach, tracker } from "../../src/index.js";
import { assertVerdicts, sourceOf } from "../core/dept/support.js";
import { fresh, macrotask } from "../helpers/edges.js";
import { endPool, startPostgres, type Postgres } from "../helpers/postgres.js";

const here = sourceOf(import.meta.url);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `n` flows started together, as a server's requests are. */
function flows(n: number, body: (i: number) => Promise<unknown>) {
  return Promise.all(Array.from({ length: n }, (_, i) => body(i)));
}

/** The single report's `next` (the lock being taken) is at the line marked `marker`. */
function reportedAt(marker: string): void {
  const [report] = tracker.reports();
  assert.ok(report !== undefined, "a report");
  assert.ok("next" in report, `${report.kind} names the lock being taken`);
  const frame = report.next.at[0];
  assert.ok(frame !== undefined, "the hold has a site");
  assert.ok(frame.file.endsWith(here.file), report.text);
  assert.equal(frame.line, here.lineOf(marker), report.text);
}

beforeEach(() => fresh());

describe("async-mutex", () => {
  it("twenty flows through runExclusive on one mutex, each awaiting inside: no report", async () => {
    const mutex = new AsyncMutex(undefined, { name: "mutex" });
    let inside = 0;
    await flows(20, () =>
      mutex.runExclusive(async () => {
        assert.equal(++inside, 1);
        await pause(0);
        inside--;
      }),
    );
    assertVerdicts([]);
  });

  it("acquire / release in try-finally across awaits, flows racing: no report", async () => {
    const mutex = new AsyncMutex(undefined, { name: "mutex" });
    await flows(10, async () => {
      const release = await mutex.acquire();
      try {
        await macrotask();
      } finally {
        release();
      }
    });
    assertVerdicts([]);
  });

  it("waitForUnlock() in a flow that does not hold the mutex: no report", async () => {
    const mutex = new AsyncMutex(undefined, { name: "mutex" });
    const holder = mutex.runExclusive(() => pause(50));
    await macrotask();
    assert.ok(mutex.isLocked(), "the other flow holds it while this one waits");
    await mutex.waitForUnlock();
    await holder;
    assertVerdicts([]);
  });

  /**
   * The mutex is held; three waiters are asked for by `ask`; cancel() rejects them and the hold
   * is released. Nothing ever blocks the holder: no report is the right verdict.
   */
  async function cancelledWaiters(
    ask: (mutex: AsyncMutex) => Promise<unknown>,
  ): Promise<void> {
    const mutex = new AsyncMutex(undefined, { name: "mutex" });
    const release = await mutex.acquire();
    const waiters = flows(3, () =>
      ask(mutex).then(
        () => "won",
        () => "cancelled",
      ),
    );
    await macrotask();
    mutex.cancel();
    release();
    assert.deepEqual(await waiters, ["cancelled", "cancelled", "cancelled"]);
    assertVerdicts([]);
  }

  it("cancel() rejects the waiters of other flows; each handles it: no report", () =>
    cancelledWaiters((mutex) => detach(() => mutex.acquire())));

  it(
    "the holder itself calls acquire() three times without awaiting, then cancel()s them (async-mutex's cancel tests): no report",
    {
      todo: "reported as recursive-locking: an acquisition is validated when it is asked for, and this flow asks for a mutex it holds; it never awaits the answer while holding it, so it never blocks. Deciding at the await (DEPT's wait) rather than at the call would tell the two apart",
    },
    () => cancelledWaiters((mutex) => mutex.acquire()),
  );

  it("a Semaphore of 3 shared by 12 flows, each taking one unit: no report", async () => {
    const sem = new AsyncSemaphore(3, undefined, { name: "sem" });
    let inside = 0;
    await flows(12, () =>
      sem.runExclusive(async () => {
        assert.ok(++inside <= 3);
        await pause(1);
        inside--;
      }),
    );
    assertVerdicts([]);
  });

  it("withTimeout: a flow gives up waiting for another flow's hold: no report", async () => {
    const mutex = withTimeout(new AsyncMutex(undefined, { name: "mutex" }), 5);
    const holder = mutex.runExclusive(() => pause(200));
    await macrotask();
    await assert.rejects(mutex.acquire());
    await holder;
    assertVerdicts([]);
  });

  it("two mutexes, always A then B, in many flows: no report", async () => {
    const a = new AsyncMutex(undefined, { name: "A" });
    const b = new AsyncMutex(undefined, { name: "B" });
    await flows(8, () => a.runExclusive(() => b.runExclusive(() => pause(0))));
    assertVerdicts([]);
  });

  it("two mutexes, one flow A then B and a later one B then A: reported at the second flow's inner take", async () => {
    const a = new AsyncMutex(undefined, { name: "A" });
    const b = new AsyncMutex(undefined, { name: "B" });
    await a.runExclusive(() => b.runExclusive(() => pause(0)));
    await b.runExclusive(
      () => a.runExclusive(() => pause(0)), // B then A
    );
    assertVerdicts([{ kind: "circular-dependency", classes: ["A", "B"] }]);
    reportedAt("B then A");
  });

  it(
    "a releaser handed to a timer, then acquire() again (async-mutex's own 'ownership is exclusive' shape): no report",
    {
      todo: "reported as recursive-locking: the first hold stays on this flow's held list until the timer calls release(); nothing marks a hold whose releaser was handed to a timer (README Limits)",
    },
    async () => {
      const mutex = new AsyncMutex(undefined, { name: "mutex" });
      const release = await mutex.acquire();
      setTimeout(release, 5);
      const again = await mutex.acquire();
      again();
      assertVerdicts([]);
    },
  );
});

describe("async-lock", () => {
  it("many flows on one key, and on two keys taken together: no report", async () => {
    const lock = new AsyncLock(undefined, { name: "locks" });
    await flows(6, (i) =>
      lock.acquire(i % 2 === 0 ? "x" : ["x", "y"], () => pause(0)),
    );
    assertVerdicts([]);
  });

  it("the callback (done) style, nested on two keys in one order: no report", async () => {
    const lock = new AsyncLock(undefined, { name: "locks" });
    await flows(
      4,
      () =>
        new Promise<void>((resolve) => {
          lock.acquire("x", (outer) => {
            lock.acquire("y", (inner) => {
              inner();
              outer();
              resolve();
            });
          });
        }),
    );
    assertVerdicts([]);
  });
});

describe("p-limit and p-queue", () => {
  it("p-limit(2) over 20 tasks, read while running: no report", async () => {
    const limit = pLimit(2, { name: "limit" });
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limit(async () => {
          assert.ok(limit.activeCount <= 2);
          await pause(0);
          return i;
        }),
      ),
    );
    assert.equal(seen.length, 20);
    assertVerdicts([]);
  });

  it("a task of one limiter submitting to another limiter: no report", async () => {
    const outer = pLimit(2, { name: "outer" });
    const inner = pLimit(2, { name: "inner" });
    await flows(6, () => outer(() => inner(() => pause(0))));
    assertVerdicts([]);
  });

  it("p-queue of concurrency 2: add(), onIdle(), onEmpty() from the submitting flow: no report", async () => {
    const queue = new PQueue({ concurrency: 2 }, { name: "queue" });
    for (let i = 0; i < 10; i++) void queue.add(() => pause(1));
    await queue.onEmpty();
    await queue.onIdle();
    assertVerdicts([]);
  });

  it("a p-queue task that awaits a task it adds to its own queue of concurrency 1 (run at 2, so that it ends): reported at the inner add", async () => {
    const queue = new PQueue({ concurrency: 1 }, { name: "queue" });
    // Under 'silent' the inner add would hang this flow for good: give it a concurrency of 2
    // so that the run ends; the class rule sees the same nesting (a unit held, one more asked).
    queue.concurrency = 2;
    await queue.add(
      () => queue.add(() => pause(0)), // nested add
    );
    assertVerdicts([{ kind: "recursive-locking", classes: ["queue"] }]);
    reportedAt("nested add");
  });
});

describe("generic-pool and tarn", () => {
  it("a generic-pool of 2 borrowed by 8 flows, each one resource: no report", async () => {
    let made = 0;
    const pool = trackGenericPool(
      genericPool.createPool(
        { create: async () => ({ id: ++made }), destroy: async () => {} },
        { max: 2 },
      ),
      { name: "objects" },
    );
    await flows(8, async () => {
      const resource = await pool.acquire();
      await pause(1);
      await pool.release(resource);
    });
    await pool.drain();
    await pool.clear();
    assertVerdicts([]);
  });

  it("pool.use(fn) from many flows: no report", async () => {
    const pool = trackGenericPool(
      genericPool.createPool(
        { create: async () => ({}), destroy: async () => {} },
        { max: 3 },
      ),
      { name: "objects" },
    );
    await flows(9, () => pool.use(() => pause(1)));
    await pool.drain();
    await pool.clear();
    assertVerdicts([]);
  });

  it("a tarn pool of 2 under 6 flows, acquire().promise then release: no report", async () => {
    const pool = trackTarnPool(
      new TarnPool({
        create: () => Promise.resolve({}),
        destroy: () => {},
        min: 0,
        max: 2,
      }),
      { name: "tarn" },
    );
    await flows(6, async () => {
      const resource = await pool.acquire().promise;
      await pause(1);
      pool.release(resource);
    });
    await pool.destroy();
    assertVerdicts([]);
  });
});

describe("pg against PostgreSQL", () => {
  let db: Postgres;
  const pools: pg.Pool[] = [];
  before(async () => {
    db = await startPostgres();
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map(endPool));
  });
  after(() => db?.stop());

  function pool(max: number): pg.Pool {
    const p = trackPgPool(new pg.Pool({ ...db.connection, max }), {
      name: "pg",
    });
    pools.push(p);
    return p;
  }

  it("ten concurrent pool.query on a pool of 2: no report", async () => {
    const p = pool(2);
    const rows = await flows(10, (i) => p.query("select $1::int as n", [i]));
    assert.equal(rows.length, 10);
    assertVerdicts([]);
  });

  it("connect(), a transaction on the client, release() in finally, from 4 flows: no report", async () => {
    const p = pool(2);
    await flows(4, async () => {
      const client = await p.connect();
      try {
        await client.query("begin");
        await client.query("select 1");
        await client.query("commit");
      } finally {
        client.release();
      }
    });
    assertVerdicts([]);
  });

  /** The helper real code writes around connect(): the client it returns is its caller's. */
  async function getClient(p: pg.Pool): Promise<pg.PoolClient> {
    const client = await p.connect();
    await client.query("set application_name = 'corpus'");
    return client;
  }

  it("a getClient() helper, its client used and released by the caller, from 4 flows: no report", async () => {
    const p = pool(2);
    await flows(4, async () => {
      const client = await getClient(p);
      try {
        await client.query("select 1");
      } finally {
        client.release();
      }
    });
    assertVerdicts([]);
  });

  it("pool.query while holding the client a getClient() helper returned: reported at the nested query", async () => {
    const p = pool(2);
    const client = await getClient(p);
    try {
      await p.query("select 1"); // query beside the helper's client
    } finally {
      client.release();
    }
    assertVerdicts([{ kind: "recursive-locking", classes: ["pg"] }]);
    reportedAt("query beside the helper's client");
  });

  it("pool.query inside a connected client's work, on a pool of 2: reported at the nested query", async () => {
    const p = pool(2);
    const client = await p.connect();
    try {
      await p.query("select 1"); // nested query
    } finally {
      client.release();
    }
    assertVerdicts([{ kind: "recursive-locking", classes: ["pg"] }]);
    reportedAt("nested query");
  });
});
