// Two services taking the same PostgreSQL advisory locks in opposite orders, as separate
// processes on a real PostgreSQL, sharing one graph through a real Redis: the second reports the
// inversion, naming the first and its line. Neither process alone has a cycle, and PostgreSQL
// itself never sees one (the two never overlap).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ensureBuilt } from "../helpers/build.js";
import { underRegister, type Run } from "../helpers/run-node.js";
import { startPostgres, type Postgres } from "../helpers/postgres.js";
import { redisMissing, startRedis, type Redis } from "../helpers/redis.js";

const skip = redisMissing();
const FIXTURE = "test/fixtures/store/advisory-in-order.mjs";
/** The line of the fixture that takes the second lock (marked INNER). */
const INNER_LINE = 12;

describe(
  "PostgreSQL advisory locks across processes, through a Redis store",
  { skip },
  () => {
    let db: Postgres;
    let redis: Redis;
    before(async () => {
      await ensureBuilt();
      [db, redis] = await Promise.all([startPostgres(), startRedis()]);
    });
    after(async () => {
      await Promise.all([db?.stop(), redis?.stop()]);
    });

    function service(order: string[], key: string | undefined): Promise<Run> {
      return underRegister([FIXTURE, ...order], {
        WAITGRAPH: "log",
        WAITGRAPH_STORE: key === undefined ? "off" : `${redis.url}?key=${key}`,
        PGHOST: db.connection.host,
        PGPORT: String(db.connection.port),
        PGUSER: db.connection.user,
        PGPASSWORD: db.connection.password,
        PGDATABASE: db.connection.database,
      });
    }

    it("service 1 takes 1 then 2, service 2 later 2 then 1: service 2 reports, naming service 1 and its line", async () => {
      const first = await service(["1", "2"], "advisory");
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, "done\n");
      assert.equal(first.stderr, "");
      const second = await service(["2", "1"], "advisory");
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, "done\n");
      const text = second.stderr;
      assert.equal(
        text.match(/WARNING: possible circular locking dependency detected/g)
          ?.length,
        1,
        text,
      );
      assert.match(
        text,
        new RegExp(
          `is trying to acquire lock:\\n\\(pg advisory 1\\)[^\\n]*, at: test/fixtures/store/advisory-in-order\\.mjs:${INNER_LINE}:`,
        ),
      );
      assert.match(
        text,
        new RegExp(
          `-> #1 \\(pg advisory 2\\)[^\\n]* \\(added by advisory-in-order\\.mjs\\[${first.pid}\\]@[^)]*\\):\\n\\s+at test/fixtures/store/advisory-in-order\\.mjs:${INNER_LINE}:`,
        ),
      );
    });

    it("look-alike: both services keep one order — nothing", async () => {
      for (let i = 0; i < 2; i++) {
        const r = await service(["3", "4"], "same-order");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
      }
    });

    it("look-alike: without a store each service alone has no cycle — nothing", async () => {
      const first = await service(["5", "6"], undefined);
      const second = await service(["6", "5"], undefined);
      assert.equal(first.stderr + second.stderr, "");
    });
  },
);
