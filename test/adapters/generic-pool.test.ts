// generic-pool against a real PostgreSQL, pooling pg clients: a Pool is a semaphore class, a
// borrowed client a held permit (generic-pool #85: an acquire on a full pool never calls back).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import genericPool, { type Pool } from "generic-pool";
import pg from "pg";
import { DeadlockError, heldLocks, tracker } from "../../src/index.js";
import {
  instrumentGenericPool,
  trackPool,
} from "../../src/adapters/generic-pool.js";
import { startPostgres, type Postgres } from "../helpers/postgres.js";
import { assertGraph, deferred, fresh } from "../helpers/edges.js";
import { afterWarmUp, lineHere, poolSuite } from "./pool-suite.js";
import { complianceSuite } from "./compliance.js";

let db: Postgres;
const pools: Pool<pg.Client>[] = [];

before(async () => {
  db = await startPostgres();
  process.stdout.write(
    `# PostgreSQL started in ${Math.round(db.startupMs)} ms\n`,
  );
});
after(async () => {
  await endAll(pools);
  await db?.stop();
});

/** Connected pg clients, closed when the pool destroys them. */
function clients(): genericPool.Factory<pg.Client> {
  return {
    async create() {
      const client = new pg.Client(db.connection);
      await client.connect();
      return client;
    },
    destroy: (client) => client.end(),
  };
}

function makePool(max: number, key?: string): Pool<pg.Client> {
  const pool = genericPool.createPool(clients(), { max });
  pools.push(pool);
  return key === undefined ? pool : trackPool(pool, { key });
}

async function endAll(list: Pool<pg.Client>[]): Promise<void> {
  await Promise.all(
    list.splice(0).map(async (pool) => {
      await pool.drain();
      await pool.clear();
    }),
  );
}

describe("generic-pool of pg clients, the pool compliance suite", () => {
  const made: Pool<pg.Client>[] = [];
  poolSuite<pg.Client>({
    make(name, max) {
      const pool = makePool(max, name);
      made.push(pool);
      return {
        checkout: () => pool.acquire(),
        use: (client) => client.query("select 1"),
        release: (client) => pool.release(client),
        brief: () => pool.use((client) => client.query("select 1")),
      };
    },
    endAll: () => endAll(made),
  });
});

describe("generic-pool of pg clients, the lock and limiter compliance suite", () => {
  complianceSuite({
    permits: 2,
    make(cls) {
      const pool = makePool(2, cls);
      const run = afterWarmUp(
        async () => {
          const both = await Promise.all([pool.acquire(), pool.acquire()]);
          await Promise.all(both.map((client) => pool.release(client)));
        },
        (fn) => pool.use(async () => fn()),
      );
      return {
        name: cls,
        run: run as <T>(fn: () => Promise<T> | T) => Promise<T>,
      };
    },
  });
});

describe("generic-pool", () => {
  beforeEach(() => fresh());

  it("lets the function given to use() hold the client while it runs", async () => {
    const pool = makePool(2, "clients");
    const held = await pool.use(async (client) => {
      await client.query("select 1");
      return heldLocks();
    });
    assert.deepEqual(held, [{ name: "clients", read: 0 }]);
    assert.deepEqual(heldLocks(), []);
    assertGraph([]);
  });

  it("reports an acquire inside use() on the same pool, at the line of the acquire", async () => {
    fresh("throw");
    const pool = makePool(2, "clients");
    let line = 0;
    const error = await pool
      .use(async () => {
        line = lineHere() + 1;
        await pool.acquire();
      })
      .catch((e: unknown) => e);
    assert.ok(error instanceof DeadlockError, String(error));
    assert.equal(error.report.stack[0]?.line, line);
    assert.ok(
      error.report.stack[0]?.file.endsWith(
        "/test/adapters/generic-pool.test.ts",
      ),
    );
  });

  it("gives a destroyed client back: destroy ends the hold", async () => {
    const pool = makePool(2, "clients");
    const client = await pool.acquire();
    await pool.destroy(client);
    assert.deepEqual(heldLocks(), []);
    await pool.use((c) => c.query("select 1"));
    assertGraph([]);
  });

  it("reports a release of a client already given back, which the pool refuses", async () => {
    const pool = makePool(2, "clients");
    const client = await pool.acquire();
    await pool.release(client);
    await assert.rejects(
      pool.release(client),
      /not currently part of this pool/,
    );
    assertGraph([], ["bad-unlock-balance"]);
  });

  it("holds nothing after an acquire that timed out", async () => {
    // The timeout is the pool's, for every acquire: the first one must not have to open a
    // connection (tens of ms on a cold process), so the pool opens its one client first.
    const pool = genericPool.createPool(clients(), {
      min: 1,
      max: 1,
      acquireTimeoutMillis: 20,
    });
    pools.push(pool);
    trackPool(pool, { key: "clients" });
    await pool.ready();
    const client = await pool.acquire();
    const refused = deferred<[unknown, unknown]>();
    // Another task asks while this one holds the only client: it times out.
    setImmediate(() => {
      pool.acquire().then(
        () => refused.resolve([new Error("granted"), heldLocks()]),
        (e: unknown) => refused.resolve([e, heldLocks()]),
      );
    });
    const [error, held] = await refused.promise;
    assert.match(String(error), /TimeoutError|timeout/i);
    assert.deepEqual(held, []);
    await pool.release(client);
    assertGraph([]);
  });

  it("tracks every pool made after instrumentGenericPool, its class the createPool site", async () => {
    const module = instrumentGenericPool({
      createPool: genericPool.createPool,
    });
    const pool = module.createPool(clients(), { max: 2 });
    pools.push(pool);
    const client = await pool.acquire();
    assert.match(
      heldLocks()[0]?.name ?? "",
      /^generic-pool@test\/adapters\/generic-pool\.test\.ts:\d+:\d+$/,
    );
    await pool.release(client);
    assert.equal(tracker.reports().length, 0);
  });
});
