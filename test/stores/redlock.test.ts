// Two services taking the same redlock resources in opposite orders, as separate processes on a
// real Redis, sharing one graph through it: the second reports the inversion, naming the first
// and its line. Neither process alone has a cycle.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ensureBuilt } from "../helpers/build.js";
import { underRegister, type Run } from "../helpers/run-node.js";
import { redisMissing, startRedis, type Redis } from "../helpers/redis.js";

const skip = redisMissing();
const FIXTURE = "test/fixtures/store/redlock-in-order.mjs";
/** The line of the fixture that takes the second lock (marked INNER). */
const INNER_LINE = 13;

describe(
  "redlock resources across processes, through a Redis store",
  { skip },
  () => {
    let redis: Redis;
    before(async () => {
      await ensureBuilt();
      redis = await startRedis();
    });
    after(() => redis?.stop());

    function service(order: string[], key: string): Promise<Run> {
      return underRegister([FIXTURE, ...order], {
        WAITGRAPH: "log",
        WAITGRAPH_STORE: `${redis.url}?key=${key}`,
        REDIS_URL: redis.url,
      });
    }

    it("service 1 takes a then b, service 2 later b then a: service 2 reports, naming service 1 and its line", async () => {
      const first = await service(["a", "b"], "redlock");
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stderr, "");
      const second = await service(["b", "a"], "redlock");
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
          `is trying to acquire lock:\\n\\(redlock orders:a\\)[^\\n]*, at: test/fixtures/store/redlock-in-order\\.mjs:${INNER_LINE}:`,
        ),
      );
      assert.match(
        text,
        new RegExp(
          `\\(redlock orders:b\\)[^\\n]* \\(added by redlock-in-order\\.mjs\\[${first.pid}\\]@[^)]*\\):\\n\\s+at test/fixtures/store/redlock-in-order\\.mjs:${INNER_LINE}:`,
        ),
      );
    });

    it("look-alike: both services keep one order — nothing", async () => {
      for (let i = 0; i < 2; i++) {
        const r = await service(["a", "b"], "redlock-same-order");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
      }
    });
  },
);
