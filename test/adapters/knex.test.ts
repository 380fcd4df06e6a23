// knex against a real PostgreSQL: a transaction holds a connection of the pool for its whole
// life, so a query on the base knex or a nested `knex.transaction` inside it waits for a second
// connection (knex #1040, #1909, #1380) — reported from a run of one request that does not hang.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import Knex, { type Knex as KnexInstance } from "knex";
import { DeadlockError, heldLocks, tracker } from "../../src/index.js";
import { instrumentKnex, trackKnex } from "../../src/adapters/knex.js";
import { startPostgres, type Postgres } from "../helpers/postgres.js";
import { assertGraph, fresh } from "../helpers/edges.js";
import { afterWarmUp, lineHere, poolSuite } from "./pool-suite.js";
import { complianceSuite } from "./compliance.js";

let db: Postgres;
const instances: KnexInstance[] = [];

before(async () => {
  db = await startPostgres();
  process.stdout.write(
    `# PostgreSQL started in ${Math.round(db.startupMs)} ms\n`,
  );
  const setup = Knex({ client: "pg", connection: db.connection });
  await setup.schema.createTable("items", (t) => {
    t.increments("id");
    t.string("name");
  });
  await setup.destroy();
});
after(async () => {
  await endAll(instances);
  await db?.stop();
});

/** A knex on the test server whose pool has `max` connections, tracked as class `key`. */
function makeKnex(max: number, key: string): KnexInstance {
  const knex = Knex({
    client: "pg",
    connection: db.connection,
    pool: { min: 0, max },
  });
  instances.push(knex);
  return trackKnex(knex, { key });
}

async function endAll(list: KnexInstance[]): Promise<void> {
  await Promise.all(list.splice(0).map((knex) => knex.destroy()));
}

describe("knex transactions, the pool compliance suite", () => {
  poolSuite<KnexInstance.Transaction>({
    make(name, max) {
      const knex = makeKnex(max, name);
      return {
        checkout: () => knex.transaction(),
        use: (trx) => trx.raw("select 1"),
        release: (trx) => trx.commit(),
        brief: () => knex.raw("select 1").then((result) => result),
      };
    },
    endAll: () => endAll(instances),
  });
});

// The compliance suite's work holds a connection and awaits one macrotask; a transaction's
// BEGIN round trip would race it, so here a holder is knex's own checkout of a connection.
describe("knex connections, the lock and limiter compliance suite", () => {
  complianceSuite({
    permits: 2,
    make(cls) {
      const knex = makeKnex(2, cls);
      const client = knex.client as {
        acquireConnection(): Promise<unknown>;
        releaseConnection(connection: unknown): Promise<void>;
      };
      const run = afterWarmUp(
        async () => {
          const both = await Promise.all([
            client.acquireConnection(),
            client.acquireConnection(),
          ]);
          await Promise.all(both.map((c) => client.releaseConnection(c)));
        },
        (fn) =>
          client.acquireConnection().then(async (connection) => {
            try {
              return await fn();
            } finally {
              await client.releaseConnection(connection);
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

describe("knex nested transactions", () => {
  beforeEach(() => fresh());
  afterEach(() => endAll(instances));

  it("reports a nested knex.transaction that does not use trx, in a run that does not hang", async () => {
    const knex = makeKnex(2, "db");
    const outerLine = lineHere() + 1;
    await knex.transaction(async (trx) => {
      await trx("items").insert({ name: "outer" });
      const innerLine = lineHere() + 1;
      await knex.transaction(async (inner) => {
        await inner("items").insert({ name: "inner" });
      });
      assertGraph([], ["recursive-locking"]);
      const [report] = tracker.reports();
      assert.ok(report?.kind === "recursive-locking");
      assert.equal(report.next.at[0]?.line, innerLine);
      assert.equal(report.prev.at[0]?.line, outerLine);
      assert.equal(report.stack[0]?.line, innerLine);
      // The pool's size is known once, from its tarn pool: the report says what load hangs it.
      assert.deepEqual(report.pool, { size: 2, held: 1, flowsToHang: 2 });
    });
    const rows = await knex("items").select("name").orderBy("id");
    assert.deepEqual(rows.map((r: { name: string }) => r.name).slice(-2), [
      "outer",
      "inner",
    ]);
    assertGraph([], ["recursive-locking"]);
  });

  it("under policy 'throw' rejects the nested transaction with a DeadlockError at its line", async () => {
    fresh("throw");
    const knex = makeKnex(2, "db");
    let line = 0;
    const error = await knex.transaction(async (trx) => {
      await trx("items").insert({ name: "kept" });
      line = lineHere() + 1;
      return knex.transaction(async () => {}).catch((e: unknown) => e);
    });
    assert.ok(error instanceof DeadlockError, String(error));
    assert.equal(error.report.kind, "recursive-locking");
    assert.equal(error.report.stack[0]?.line, line);
    assert.ok(
      error.report.stack[0]?.file.endsWith("/test/adapters/knex.test.ts"),
    );
    // The refused transaction asked the pool for nothing; the outer one committed.
    const pool = knex.client.pool as {
      numUsed(): number;
      numPendingAcquires(): number;
    };
    assert.equal(pool.numUsed(), 0);
    assert.equal(pool.numPendingAcquires(), 0);
    const kept = await knex("items").where({ name: "kept" }).count();
    assert.equal(Number(kept[0]?.["count"]), 1);
  });

  it("reports a query on the base knex inside a transaction, at the line that built it", async () => {
    fresh("throw");
    const knex = makeKnex(2, "db");
    let line = 0;
    const error = await knex.transaction(async () => {
      line = lineHere() + 1;
      return knex("items")
        .select()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    });
    assert.ok(error instanceof DeadlockError, String(error));
    assert.equal(error.report.stack[0]?.line, line);
    assert.ok(
      error.report.stack[0]?.file.endsWith("/test/adapters/knex.test.ts"),
    );
  });

  it("reports nothing for queries and savepoints on the transaction itself", async () => {
    const knex = makeKnex(2, "db");
    await knex.transaction(async (trx) => {
      await trx("items").insert({ name: "a" });
      await trx.transaction(async (savepoint) => {
        await savepoint("items").insert({ name: "b" });
      });
      await trx.raw("select 1");
      assert.deepEqual(heldLocks(), [{ name: "db", read: 0 }]);
    });
    assert.deepEqual(heldLocks(), []);
    await knex.raw("select 1");
    assertGraph([]);
  });

  it("holds the connection of `await knex.transaction()` until commit or rollback, not after", async () => {
    const knex = makeKnex(2, "db");
    const trx = await knex.transaction();
    assert.deepEqual(heldLocks(), [{ name: "db", read: 0 }]);
    await trx.commit();
    assert.deepEqual(heldLocks(), []);
    await knex.raw("select 1"); // right after commit: not a second connection while holding
    const other = await knex.transaction();
    await other.rollback();
    await knex("items").select();
    assertGraph([]);
    const third = await knex.transaction();
    await knex.raw("select 1");
    await third.commit();
    assertGraph([], ["recursive-locking"]);
  });

  it("keeps tracking, in the same class, a pool knex makes again after destroy()", async () => {
    const knex = makeKnex(2, "db");
    await knex.destroy();
    knex.initialize();
    await knex.transaction(async () => {
      assert.deepEqual(heldLocks(), [{ name: "db", read: 0 }]);
      await knex.raw("select 1");
    });
    assertGraph([], ["recursive-locking"]);
  });

  it("tracks every knex made after instrumentKnex, its class the site of knex(), and lets trackKnex name it", async () => {
    const module = instrumentKnex(Knex);
    assert.equal(module.knex, module);
    assert.equal(module.default, module);
    assert.equal(module.KnexTimeoutError, Knex.KnexTimeoutError);
    const bySite = module({ client: "pg", connection: db.connection });
    instances.push(bySite);
    await bySite.transaction(async () => {
      assert.match(
        heldLocks()[0]?.name ?? "",
        /^knex@test\/adapters\/knex\.test\.ts:\d+:\d+$/,
      );
      await bySite.raw("select 1");
    });
    assertGraph([], ["recursive-locking"]);
    const named = trackKnex(
      module({ client: "pg", connection: db.connection }),
      {
        name: "named-later",
      },
    );
    instances.push(named);
    await named.transaction(async () => {
      assert.deepEqual(heldLocks(), [{ name: "named-later", read: 0 }]);
    });
  });

  it("names the class after the trackKnex site, or after `name`", async () => {
    const bySite = Knex({ client: "pg", connection: db.connection });
    instances.push(bySite);
    trackKnex(bySite);
    await bySite.transaction(async () => {
      assert.match(
        heldLocks()[0]?.name ?? "",
        /^knex@test\/adapters\/knex\.test\.ts:\d+:\d+$/,
      );
    });
    const named = Knex({ client: "pg", connection: db.connection });
    instances.push(named);
    trackKnex(named, { name: "orders" });
    await named.transaction(async () => {
      assert.deepEqual(heldLocks(), [{ name: "orders", read: 0 }]);
    });
  });
});
