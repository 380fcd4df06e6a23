// PostgreSQL advisory locks through the pg adapter, against a real PostgreSQL: each advisory key
// is a lock class (`pg advisory 42`), held by the flow that awaited the query. Every rule is
// checked on the case it must catch and on the look-alike it must not.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import pg from "pg";
import {
  DeadlockError,
  detach,
  heldLocks,
  task,
  tracker,
} from "../../src/index.js";
import { trackClient, trackPool } from "../../src/adapters/pg.js";
import {
  decodeAdvisory,
  transactionVerb,
} from "../../src/adapters/pg-advisory.js";
import { endPool, startPostgres, type Postgres } from "../helpers/postgres.js";
import { assertGraph, fresh } from "../helpers/edges.js";
import { lineHere } from "./pool-suite.js";

const FILE = "/test/adapters/pg-advisory.test.ts";

let db: Postgres;
const pools: pg.Pool[] = [];

before(async () => {
  db = await startPostgres();
});
after(async () => {
  await Promise.all(pools.splice(0).map(endPool));
  await db?.stop();
});

/** A tracked pool of class `db`. */
function makePool(max: number, options: object = {}): pg.Pool {
  const pool = new pg.Pool({ ...db.connection, max });
  pools.push(pool);
  return trackPool(pool, { key: "db", ...options });
}

/** Advisory classes held by the running flow (the pool's own permit left out). */
function advisoryHeld(): string[] {
  return heldLocks()
    .map((h) => h.name)
    .filter((n) => n.startsWith("pg advisory"));
}

/** Runs `fn` on a client of `pool` and releases it. */
async function withClient<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

describe("decoding advisory calls (no guessing)", () => {
  it("decodes literals, $n parameters, casts, the two-int form and every variant", () => {
    assert.deepEqual(decodeAdvisory("select pg_advisory_lock(42)", undefined), {
      kind: "lock",
      xact: false,
      shared: false,
      trylock: false,
      key: "42",
    });
    assert.equal(decodeAdvisory("SELECT pg_advisory_lock($1)", [7n])?.key, "7");
    assert.equal(
      decodeAdvisory("select pg_advisory_lock($1::bigint)", ["-9"])?.key,
      "-9",
    );
    assert.equal(
      decodeAdvisory("select pg_advisory_lock($2, $1)", [2, 1])?.key,
      "1,2",
    );
    assert.equal(
      decodeAdvisory("select pg_catalog.pg_advisory_lock('5');", [])?.key,
      "5",
    );
    const t = decodeAdvisory(
      "select pg_try_advisory_xact_lock_shared(1, 2) as got",
      [],
    );
    assert.deepEqual(t, {
      kind: "lock",
      xact: true,
      shared: true,
      trylock: true,
      key: "1,2",
    });
    assert.equal(
      decodeAdvisory("select pg_advisory_unlock_shared(3)", [])?.kind,
      "unlock",
    );
    assert.equal(
      decodeAdvisory("select pg_advisory_unlock_all()", [])?.kind,
      "unlock-all",
    );
  });

  it("leaves alone what it cannot decode exactly", () => {
    for (const [text, values] of [
      ["select pg_advisory_lock(hashtext($1))", ["user:1"]],
      ["begin; select pg_advisory_xact_lock(1)", []],
      ["select pg_advisory_lock($1)", [1.5]],
      ["select pg_advisory_lock($1)", ["x"]],
      ["select pg_advisory_lock($2)", [1]],
      ["select pg_advisory_lock(9223372036854775808)", []],
      ["select pg_advisory_lock(1, 2147483648)", []],
      ["select pg_advisory_lock(1), pg_advisory_lock(2)", []],
      ["select pg_advisory_xact_unlock(1)", []],
      ["select pg_advisory_unlock_all(1)", []],
      ["select * from t where pg_advisory_lock(1)", []],
    ] as const)
      assert.equal(decodeAdvisory(text, values), undefined, text);
  });

  it("knows where a transaction ends, that a savepoint rollback is no end, and that AND CHAIN begins the next", () => {
    assert.equal(transactionVerb("BEGIN"), "begin");
    assert.equal(
      transactionVerb("start transaction isolation level serializable"),
      "begin",
    );
    for (const end of ["commit", "END", "rollback", "abort", "ROLLBACK WORK"])
      assert.equal(transactionVerb(end), "end", end);
    assert.equal(transactionVerb("rollback to savepoint a"), "rollback-to");
    assert.equal(transactionVerb("ROLLBACK WORK TO a"), "rollback-to");
    assert.equal(transactionVerb("commit and chain"), "chain");
    assert.equal(transactionVerb("ROLLBACK AND CHAIN"), "chain");
    assert.equal(transactionVerb("commit and no chain"), "end");
    assert.equal(transactionVerb("commit prepared 'x'"), undefined);
    assert.equal(transactionVerb("commit; begin"), undefined);
  });
});

describe(
  "advisory lock order against a real PostgreSQL",
  { timeout: 60_000 },
  () => {
    beforeEach(() => fresh());

    it("reports 1-then-2 in one flow and 2-then-1 later in another, at the test's lines", async () => {
      const pool = makePool(2);
      let firstLine = 0;
      await task("one", () =>
        withClient(pool, async (c) => {
          await c.query("select pg_advisory_lock(1)");
          firstLine = lineHere() + 1;
          await c.query("select pg_advisory_lock($1)", [2]);
          await c.query("select pg_advisory_unlock(2)");
          await c.query("select pg_advisory_unlock(1)");
        }),
      );
      let line = 0;
      await task("two", () =>
        withClient(pool, async (c) => {
          await c.query("select pg_advisory_lock(2)");
          line = lineHere() + 1;
          await c.query("select pg_advisory_lock(1)"); // granted: the run never blocked
          await c.query("select pg_advisory_unlock_all()");
        }),
      );
      const report = tracker
        .reports()
        .find((r) => r.kind === "circular-dependency");
      assert.ok(
        report?.kind === "circular-dependency",
        JSON.stringify(tracker.reports().map((r) => r.kind)),
      );
      assert.equal(report.next.name, "pg advisory 1");
      assert.equal(report.prev.name, "pg advisory 2");
      assert.ok(report.stack[0]?.file.endsWith(FILE), report.stack[0]?.file);
      assert.equal(report.stack[0]?.line, line);
      // The other side of the cycle: where 2 was taken under 1.
      const other = report.chain.find((l) => l.class.name === "pg advisory 2");
      assert.ok(
        other?.stack.some((f) => f.file.endsWith(FILE) && f.line === firstLine),
        JSON.stringify(other),
      );
    });

    it("gives no report for one order kept by many concurrent flows that really contend", async () => {
      const pool = makePool(6);
      let contended = 0;
      await Promise.all(
        Array.from({ length: 6 }, () =>
          withClient(pool, async (c) => {
            await c.query("select pg_advisory_lock(1)");
            await c.query("select pg_advisory_lock(2)");
            assert.deepEqual(advisoryHeld(), [
              "pg advisory 1",
              "pg advisory 2",
            ]);
            const { rows } = await c.query<{ n: string }>(
              "select count(*) as n from pg_locks where locktype = 'advisory' and not granted",
            );
            contended = Math.max(contended, Number(rows[0]?.n));
            await c.query("select pg_advisory_unlock(2)");
            await c.query("select pg_advisory_unlock(1)");
            assert.deepEqual(advisoryHeld(), []);
          }),
        ),
      );
      assert.ok(contended > 0, "the flows waited for each other in PostgreSQL");
      // lockdep's edges: from the nearest held lock (1 → 2), not from everything below it.
      assertGraph(["db -> pg advisory 1", "pg advisory 1 -> pg advisory 2"]);
    });

    it("shows a waiting pg_advisory_lock in the live wait-for graph until PostgreSQL grants it", async () => {
      const pool = makePool(2);
      // The holder is another flow (what an async helper returns is its caller's).
      const holder = await detach(async () => {
        const o = await pool.connect();
        await o.query("select pg_advisory_lock(1)");
        return o;
      });
      const waiter = await pool.connect();
      try {
        const granted = waiter.query("select pg_advisory_lock(1)");
        // PostgreSQL has it queued: wait for pg_locks to say so (no sleep, a poll of the server).
        for (;;) {
          const { rows } = await holder.query<{ n: string }>(
            "select count(*) as n from pg_locks where locktype = 'advisory' and not granted",
          );
          if (Number(rows[0]?.n) > 0) break;
        }
        const blocked = tracker.dump().flows.map((f) => f.waitsFor.name);
        assert.deepEqual(blocked, ["pg advisory 1"]);
        await holder.query("select pg_advisory_unlock(1)");
        await granted;
        assert.deepEqual(tracker.dump().flows, []);
        await waiter.query("select pg_advisory_unlock(1)");
      } finally {
        waiter.release();
        holder.release();
      }
    });

    it("holds nothing for a try-lock that fails; a try-lock that succeeds is held", async () => {
      const pool = makePool(2);
      // Another flow's session holds 1: a detached one (what an async helper returns, and the
      // locks its session holds, are its caller's).
      const other = await detach(async () => {
        const o = await pool.connect();
        await o.query("select pg_advisory_lock(1)");
        return o;
      });
      try {
        await withClient(pool, async (c) => {
          const { rows } = await c.query(
            "select pg_try_advisory_lock(1) as got",
          );
          assert.deepEqual(rows, [{ got: false }]);
          assert.deepEqual(advisoryHeld(), []);
          await c.query("select pg_advisory_lock(2)"); // no 1 → 2: 1 was never held here
          await c.query("select pg_advisory_unlock(2)");
        });
      } finally {
        await other.query("select pg_advisory_unlock(1)");
        other.release();
      }
      await withClient(pool, async (c) => {
        const { rows } = await c.query({
          text: "select pg_try_advisory_lock($1)",
          values: [3],
          rowMode: "array",
        });
        assert.deepEqual(rows, [[true]]);
        assert.deepEqual(advisoryHeld(), ["pg advisory 3"]);
        await c.query("select pg_advisory_lock(2)");
        await c.query("select pg_advisory_unlock_all()");
      });
      assertGraph([
        "db -> pg advisory 1",
        "db -> pg advisory 2",
        // No edge into the trylock (it cannot wait); from it, 3 → 2 (lockdep).
        "pg advisory 3 -> pg advisory 2",
      ]);
    });

    it("ends transaction-level locks at COMMIT: opposite orders in two transactions are no cycle", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        await c.query("begin");
        await c.query("select pg_advisory_xact_lock(1)");
        await c.query("select pg_advisory_xact_lock(2)"); // 1 → 2, held together
        await c.query("commit");
        assert.deepEqual(advisoryHeld(), []);
        await c.query("begin");
        await c.query("select pg_advisory_xact_lock(2)");
        await c.query("commit"); // 2 ends here …
        await c.query("begin");
        await c.query("select pg_advisory_xact_lock(1)"); // … so 1 is not taken under 2
        await c.query("rollback");
        assert.deepEqual(advisoryHeld(), []);
      });
      assertGraph([
        "db -> pg advisory 1",
        "db -> pg advisory 2",
        "pg advisory 1 -> pg advisory 2",
      ]);
    });

    it("ROLLBACK TO a savepoint ends the transaction-level locks taken since it: no false dependency after it", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        await c.query("begin");
        await c.query("savepoint s");
        await c.query("select pg_advisory_xact_lock(7)");
        await c.query("rollback to savepoint s"); // PostgreSQL releases 7 here
        assert.deepEqual(advisoryHeld(), []);
        await c.query("select pg_advisory_xact_lock(8)"); // not under 7
        await c.query("commit");
      });
      assertGraph(["db -> pg advisory 7", "db -> pg advisory 8"]);
    });

    it("COMMIT AND CHAIN ends the transaction's locks and begins the next: its locks last until it ends", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        await c.query("begin");
        await c.query("select pg_advisory_xact_lock(9)");
        await c.query("commit and chain"); // 9 ends; a new transaction begins
        assert.deepEqual(advisoryHeld(), []);
        await c.query("select pg_advisory_xact_lock(10)");
        await c.query("select pg_advisory_xact_lock(11)"); // 10 → 11, both held in the chained transaction
        await c.query("commit");
      });
      assertGraph([
        "db -> pg advisory 10",
        "db -> pg advisory 9",
        "pg advisory 10 -> pg advisory 11",
      ]);
    });

    it("reports the look-alike: both orders inside transactions, without the COMMIT in between", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        await c.query("begin");
        await c.query("select pg_advisory_xact_lock(1)");
        await c.query("select pg_advisory_xact_lock(2)");
        await c.query("commit");
        await c.query("begin");
        await c.query("select pg_advisory_xact_lock(2)");
        await c.query("select pg_advisory_xact_lock(1)");
        await c.query("commit");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["circular-dependency"],
      );
    });

    it("ends a transaction-level lock with its statement outside a transaction block", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        await c.query("select pg_advisory_xact_lock(1)");
        assert.deepEqual(advisoryHeld(), []);
        await c.query("select pg_advisory_lock(2)");
        await c.query("select pg_advisory_unlock(2)");
      });
      assertGraph(["db -> pg advisory 1", "db -> pg advisory 2"]);
    });

    it("treats shared/shared in opposite orders as no deadlock, and reports exclusive against shared", async () => {
      const pool = makePool(2);
      await withClient(pool, async (c) => {
        await c.query("select pg_advisory_lock_shared(1)");
        await c.query("select pg_advisory_lock_shared(2)");
        await c.query("select pg_advisory_unlock_all()");
        await c.query("select pg_advisory_lock_shared(2)");
        await c.query("select pg_advisory_lock_shared(1)");
        await c.query("select pg_advisory_unlock_all()");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        [],
        "shared/shared",
      );
      // Exclusive 3 → shared 4, and shared 4 → exclusive 3: the shared request is granted beside
      // the shared holder, so neither waits on the other — lockdep's recursive-read rule agrees.
      await withClient(pool, async (c) => {
        await c.query("select pg_advisory_lock(3)");
        await c.query("select pg_advisory_lock_shared(4)");
        await c.query("select pg_advisory_unlock_all()");
        await c.query("select pg_advisory_lock_shared(4)");
        await c.query("select pg_advisory_lock(3)");
        await c.query("select pg_advisory_unlock_all()");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        [],
        "ex→sh, sh→ex",
      );
      // Exclusive 5 → exclusive 6, and shared 6 → shared 5: each waits on the other's hold.
      await withClient(pool, async (c) => {
        await c.query("select pg_advisory_lock(5)");
        await c.query("select pg_advisory_lock(6)");
        await c.query("select pg_advisory_unlock_all()");
        await c.query("select pg_advisory_lock_shared(6)");
        await c.query("select pg_advisory_lock_shared(5)");
        await c.query("select pg_advisory_unlock_all()");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["circular-dependency"],
      );
      assert.deepEqual([...(tracker.reports()[0]?.classes ?? [])].sort(), [
        "pg advisory 5",
        "pg advisory 6",
      ]);
    });

    it("counts re-locks as PostgreSQL does, and holds nothing for an unlock of a key not held", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        const { rows } = await c.query(
          "select pg_advisory_unlock(5) as released",
        );
        assert.deepEqual(rows, [{ released: false }]); // PostgreSQL: not held
        await c.query("select pg_advisory_lock(1)");
        await c.query("select pg_advisory_lock(1)"); // counted: no recursive-locking
        await c.query("select pg_advisory_unlock(1)");
        assert.deepEqual(advisoryHeld(), ["pg advisory 1"]); // one count left
        await c.query("select pg_advisory_lock(2)"); // 1 → 2
        await c.query("select pg_advisory_unlock(2)");
        await c.query("select pg_advisory_unlock(1)");
        assert.deepEqual(advisoryHeld(), []);
        await c.query("select pg_advisory_lock(3)"); // nothing → 3
        await c.query("select pg_advisory_unlock(3)");
      });
      assertGraph([
        "db -> pg advisory 1",
        "db -> pg advisory 3",
        "pg advisory 1 -> pg advisory 2",
      ]);
    });

    it("reports the same key asked from a second session of the flow, without sending it", async () => {
      fresh("throw");
      const pool = makePool(2, { concurrency: 1 });
      const a = await pool.connect();
      await a.query("select pg_advisory_lock(1)");
      const b = await pool.connect();
      // The second checkout is the pool's own nesting; with concurrency 1 it is not reported.
      try {
        const line = lineHere() + 1;
        const asked = b.query("select pg_advisory_lock(1)");
        const error = await asked.catch((e: unknown) => e);
        assert.ok(error instanceof DeadlockError, String(error));
        assert.equal(error.report.kind, "recursive-locking");
        assert.equal(error.report.stack[0]?.line, line);
        assert.ok(error.report.stack[0]?.file.endsWith(FILE));
        // Not sent: session b never waited for session a, and still runs.
        await b.query("select 1");
      } finally {
        b.release();
        await a.query("select pg_advisory_unlock(1)");
        a.release();
      }
    });

    it("groups keys with advisoryClass: two keys of one class nested is recursive-locking", async () => {
      const grouped = makePool(1, {
        advisoryClass: (key: string) => key.split(",")[0],
      });
      await withClient(grouped, async (c) => {
        await c.query("select pg_advisory_lock(7, 1)");
        await c.query("select pg_advisory_lock(7, 2)");
        await c.query("select pg_advisory_unlock_all()");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["recursive-locking"],
      );
      assert.deepEqual(
        tracker.reports()[0]?.classes,
        ["pg advisory 7", "pg advisory 7"].slice(
          0,
          tracker.reports()[0]?.classes.length,
        ),
      );
      fresh();
      const plain = makePool(1);
      await withClient(plain, async (c) => {
        await c.query("select pg_advisory_lock(7, 1)");
        await c.query("select pg_advisory_lock(7, 2)");
        await c.query("select pg_advisory_unlock_all()");
      });
      assertGraph([
        "db -> pg advisory 7,1",
        "pg advisory 7,1 -> pg advisory 7,2",
      ]);
    });

    it("leaves a key untracked when advisoryClass throws, and the query runs", async () => {
      const pool = makePool(1, {
        advisoryClass: () => {
          throw new Error("no class");
        },
      });
      await withClient(pool, async (c) => {
        const { rows } = await c.query("select pg_try_advisory_lock(1) as got");
        assert.deepEqual(rows, [{ got: true }]);
        assert.deepEqual(advisoryHeld(), []);
        await c.query("select pg_advisory_unlock(1)");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["internal-error"],
      );
    });

    it("with tracking off, runs advisory queries as pg alone does and holds nothing", async () => {
      const pool = makePool(1);
      tracker.configure({ enabled: false });
      try {
        await withClient(pool, async (c) => {
          await c.query("select pg_advisory_lock(1)");
          await c.query("select pg_advisory_lock(2)");
          assert.deepEqual(heldLocks(), []);
          await c.query("select pg_advisory_unlock_all()");
        });
      } finally {
        tracker.configure({ enabled: true });
      }
      assertGraph([]);
    });

    it("leaves an undecodable advisory query untracked", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        await c.query("select pg_advisory_lock(hashtext($1))", ["user:1"]);
        assert.deepEqual(advisoryHeld(), []);
        await c.query("select pg_advisory_unlock_all()");
      });
      assertGraph([]);
    });

    it("holds a session lock taken through pool.query in the awaiting flow until unlocked", async () => {
      const pool = makePool(1);
      await pool.query("select pg_advisory_lock(1)");
      assert.deepEqual(advisoryHeld(), ["pg advisory 1"]);
      await pool.query("select pg_advisory_lock(2)"); // the same connection (a pool of one)
      // pg-pool released the client after each query (with a null error): the locks stay.
      assert.deepEqual(advisoryHeld(), ["pg advisory 1", "pg advisory 2"]);
      await pool.query("select pg_advisory_unlock(2)");
      await pool.query("select pg_advisory_unlock(1)");
      assert.deepEqual(advisoryHeld(), []);
      await pool.query("select pg_advisory_xact_lock(3)"); // autocommit: ends with the statement
      assert.deepEqual(advisoryHeld(), []);
      // pool.query asks for the key before pg-pool has its connection: no `db → key` edge from
      // it; a pool.query made while holding a key waits for a connection: `key → db`.
      assertGraph([
        "pg advisory 1 -> db",
        "pg advisory 1 -> pg advisory 2",
        "pg advisory 2 -> db",
      ]);
    });

    it("tracks a standalone pg.Client with trackClient; end() ends its locks", async () => {
      const client = trackClient(new pg.Client(db.connection));
      await client.connect();
      await client.query("select pg_advisory_lock(1)");
      await new Promise<void>((resolve, reject) =>
        client.query("select pg_advisory_lock(2)", (error: Error | null) => {
          // The callback is the holder.
          assert.deepEqual(advisoryHeld(), ["pg advisory 1", "pg advisory 2"]);
          if (error) reject(error);
          else resolve();
        }),
      );
      await client.end();
      assert.deepEqual(advisoryHeld(), []);
      assertGraph(["pg advisory 1 -> pg advisory 2"]);
    });

    // Last: past the cap every new key of this process shares the overflow class.
    it("past 256 key classes, says so once and leaves the overflow unchecked: per-entity keys nested in ascending order are no report", async () => {
      const pool = makePool(1);
      await withClient(pool, async (c) => {
        for (let id = 10_000; id < 10_300; id++) {
          await c.query("select pg_advisory_lock($1)", [id]);
          await c.query("select pg_advisory_unlock($1)", [id]);
        }
        await c.query("select pg_advisory_lock(20000)");
        await c.query("select pg_advisory_lock(20001)"); // healthy: sorted ids
        await c.query("select pg_advisory_unlock_all()");
      });
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["limit-exceeded"],
      );
    });
  },
);

describe("advisory options", () => {
  it("refuses an advisoryClass that is no function, and unknown keys, with typed errors", () => {
    const pool = new pg.Pool({ max: 1 });
    pools.push(pool);
    assert.throws(
      () => trackPool(pool, { advisoryClass: 5 as never }),
      (e: unknown) =>
        e instanceof TypeError &&
        (e as { code?: string }).code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
        /Expected `advisoryClass` to be a function, got 5 \(number\)/.test(
          e.message,
        ),
    );
    assert.throws(
      () => trackPool(pool, { advisoryKlass: () => "x" } as never),
      (e: unknown) =>
        e instanceof TypeError &&
        /options\.advisoryKlass/.test((e as Error).message),
    );
    assert.throws(
      () => trackClient(pool as never),
      (e: unknown) =>
        e instanceof TypeError &&
        /Expected `client` to be a pg\.Client/.test((e as Error).message),
    );
    assert.throws(
      () => trackClient(new pg.Client(), { advisoryClass: "x" as never }),
      (e: unknown) =>
        e instanceof TypeError &&
        (e as { code?: string }).code === "ERR_WAITGRAPH_INVALID_ARGUMENT",
    );
  });
});
