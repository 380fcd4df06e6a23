// node-postgres against a real PostgreSQL: a pg.Pool is a semaphore class, a checked-out client
// a held permit, and `pool.query` while holding a client of the same pool is the starvation of
// node-postgres #2927 — reported from a run of one request that does not hang.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import pg from "pg";
import {
  assertHeld,
  DeadlockError,
  heldLocks,
  tracker,
} from "../../src/index.js";
import { instrumentPg, trackPool } from "../../src/adapters/pg.js";
import { endPool, startPostgres, type Postgres } from "../helpers/postgres.js";
import { assertGraph, deferred, fresh } from "../helpers/edges.js";
import { afterWarmUp, lineHere, poolSuite } from "./pool-suite.js";
import { complianceSuite } from "./compliance.js";

let db: Postgres;
const pools: pg.Pool[] = [];

before(async () => {
  db = await startPostgres();
  process.stdout.write(
    `# PostgreSQL started in ${Math.round(db.startupMs)} ms\n`,
  );
});
after(async () => {
  await Promise.all(pools.splice(0).map(endPool));
  await db?.stop();
});

/** A tracked pool of `max` clients against the test server. */
function makePool(max: number, key?: string): pg.Pool {
  const pool = new pg.Pool({ ...db.connection, max });
  pools.push(pool);
  return key === undefined ? pool : trackPool(pool, { key });
}

describe("pg.Pool, the pool compliance suite", () => {
  const made: pg.Pool[] = [];
  poolSuite<pg.PoolClient>({
    make(name, max) {
      const pool = makePool(max, name);
      made.push(pool);
      return {
        checkout: () => pool.connect(),
        use: (client) => client.query("select 1"),
        release: (client) => client.release(),
        brief: () => pool.query("select 1"),
      };
    },
    async endAll() {
      await Promise.all(made.splice(0).map(endPool));
    },
  });
});

describe("pg.Pool, the lock and limiter compliance suite", () => {
  complianceSuite({
    permits: 2,
    make(cls) {
      const pool = makePool(2, cls);
      const run = afterWarmUp(
        async () => {
          const both = await Promise.all([pool.connect(), pool.connect()]);
          for (const client of both) client.release();
        },
        (fn) =>
          pool.connect().then(async (client) => {
            try {
              return await fn();
            } finally {
              client.release();
            }
          }),
      );
      return {
        name: cls,
        run: run as <T>(fn: () => Promise<T> | T) => Promise<T>,
      };
    },
  });
});

describe("pg.Pool starvation (node-postgres #2927)", () => {
  beforeEach(() => fresh());

  it("reports pool.query while holding a client of the same pool, in a run that does not hang", async () => {
    const pool = makePool(2, "db");
    const client = await pool.connect();
    const { rows } = await pool.query("select 2 as two"); // the second client: no hang
    assert.deepEqual(rows, [{ two: 2 }]);
    client.release();
    assertGraph([], ["recursive-locking"]);
    const [report] = tracker.reports();
    assert.ok(report?.kind === "recursive-locking");
    assert.equal(report.next.name, "db");
    assert.equal(report.prev.name, "db");
    assert.equal(report.sameInstance, true);
    assert.match(report.text, /possible recursive locking detected/);
    assert.equal(pool.totalCount, 2);
    assert.equal(pool.waitingCount, 0);
  });

  it("under policy 'throw' rejects the nested pool.query with a DeadlockError at its line", async () => {
    fresh("throw");
    const pool = makePool(2, "db");
    const client = await pool.connect();
    const line = lineHere() + 1;
    const error = await pool.query("select 1").catch((e: unknown) => e);
    assert.ok(error instanceof DeadlockError, String(error));
    assert.equal(error.report.kind, "recursive-locking");
    const top = error.report.stack[0];
    assert.ok(top !== undefined);
    assert.ok(top.file.endsWith("/test/adapters/pg.test.ts"), top.file);
    assert.equal(top.line, line);
    assert.match(error.message, /recursive locking/);
    // The refused query asked the pool for nothing.
    assert.equal(pool.totalCount, 1);
    assert.equal(pool.waitingCount, 0);
    const { rows } = await client.query("select 3 as three");
    assert.deepEqual(rows, [{ three: 3 }]);
    client.release();
  });

  it("reports nothing when the query goes through the held client", async () => {
    const pool = makePool(2, "db");
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query("select 1");
      await client.query("commit");
    } finally {
      client.release();
    }
    await pool.query("select 1");
    assertGraph([]);
  });

  it("lets the callback of pool.connect(cb) hold the client", async () => {
    const pool = makePool(2, "db");
    const done = deferred<string[]>();
    pool.connect((error, client, release) => {
      assert.ifError(error);
      const held = heldLocks().map((h) => h.name);
      pool.query("select 1", () => {
        release();
        done.resolve(held);
      });
      void client;
    });
    assert.deepEqual(await done.promise, ["db"]);
    assertGraph([], ["recursive-locking"]);
  });

  it("calls back a refused pool.query(text, cb) with the DeadlockError", async () => {
    fresh("throw");
    const pool = makePool(2, "db");
    const client = await pool.connect();
    const refused = deferred<unknown>();
    pool.query("select 1", (error: unknown) => refused.resolve(error));
    assert.ok((await refused.promise) instanceof DeadlockError);
    client.release();
  });

  it("gives a client back from any task: the holder's later pool.query is not reported", async () => {
    const pool = makePool(2, "db");
    const client = await pool.connect();
    const released = deferred();
    setImmediate(() => {
      client.release();
      released.resolve();
    });
    await released.promise;
    await pool.query("select 1");
    assertGraph([]);
  });

  it("reports a second client.release() and keeps pg's own error", async () => {
    const pool = makePool(2, "db");
    const client = await pool.connect();
    client.release();
    assert.throws(() => client.release(), /already been released/);
    assertGraph([], ["bad-unlock-balance"]);
  });

  it("knows the pool as a lock: assertHeld(pool) holds between connect and release", async () => {
    const pool = makePool(2, "db");
    const client = await pool.connect();
    assertHeld(pool);
    client.release();
    assertGraph([]);
    assertHeld(pool);
    assertGraph([], ["assertion-failed"]);
  });

  it("names the class after the call site, or after `name`", async () => {
    const bySite = trackPool(new pg.Pool({ ...db.connection, max: 1 }));
    const named = trackPool(new pg.Pool({ ...db.connection, max: 1 }), {
      name: "orders-db",
    });
    pools.push(bySite, named);
    const a = await bySite.connect();
    assert.match(
      heldLocks()[0]?.name ?? "",
      /^pg\.Pool@test\/adapters\/pg\.test\.ts:\d+:\d+$/,
    );
    a.release();
    const b = await named.connect();
    assert.deepEqual(heldLocks(), [{ name: "orders-db", read: 0 }]);
    b.release();
  });

  it("tracks every pool made after instrumentPg, its class the construction site", async () => {
    const module = instrumentPg({ Pool: pg.Pool });
    assert.equal(instrumentPg(module), module);
    const pool = new module.Pool({ ...db.connection, max: 2 });
    pools.push(pool);
    assert.ok(pool instanceof pg.Pool);
    const client = await pool.connect();
    assert.match(
      heldLocks()[0]?.name ?? "",
      /^pg\.Pool@test\/adapters\/pg\.test\.ts:\d+:\d+$/,
    );
    await pool.query("select 1");
    client.release();
    assertGraph([], ["recursive-locking"]);
  });

  it("gives a pool that instrumentPg tracked the name a later trackPool gives it", async () => {
    const module = instrumentPg({ Pool: pg.Pool });
    const pool = trackPool(new module.Pool({ ...db.connection, max: 2 }), {
      name: "named-later",
    });
    pools.push(pool);
    const client = await pool.connect();
    assert.deepEqual(heldLocks(), [{ name: "named-later", read: 0 }]);
    client.release();
  });

  it("leaves a pool untouched when tracking is off", () => {
    tracker.configure({ enabled: false });
    try {
      const pool = makePool(1);
      assert.equal(trackPool(pool), pool);
      assert.equal(Object.hasOwn(pool, "connect"), false);
      assert.equal(Object.hasOwn(pool, "query"), false);
    } finally {
      tracker.configure({ enabled: true });
    }
  });

  it("rejects what is not a pg.Pool, and unknown options", () => {
    assert.throws(
      () => trackPool({} as pg.Pool),
      (e: unknown) =>
        (e as { code?: string }).code === "ERR_WAITGRAPH_INVALID_ARGUMENT",
    );
    assert.throws(
      () => trackPool(makePool(1), { max: 2 } as never),
      (e: unknown) =>
        (e as { code?: string }).code === "ERR_WAITGRAPH_INVALID_ARGUMENT",
    );
  });
});
