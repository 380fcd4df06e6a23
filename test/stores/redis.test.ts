// The Redis store on a real redis-server (Debian's package, test/helpers/redis.ts): the
// compliance suite every store runs, then processes sharing one graph through it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "redis";
import { RedisStore } from "../../src/stores/redis.js";
import { ensureBuilt } from "../helpers/build.js";
import { underRegister, type Run } from "../helpers/run-node.js";
import { redisMissing, startRedis, type Redis } from "../helpers/redis.js";
import { compliance } from "./compliance.js";

const skip = redisMissing();
const program = "test/fixtures/store/take-in-order.mjs";
/** The line of take-in-order.mjs that takes the inner lock (marked NESTED). */
const NESTED_LINE = 10;

compliance(
  "redis",
  async () => {
    const redis = await startRedis();
    let raw = 0;
    return {
      store: () =>
        new RedisStore(createClient as never, {
          url: `${redis.url}?key=compliance`,
          connectTimeout: 500,
          retryInterval: 50,
          blockTime: 200,
        }),
      writeRaw: async (text) => {
        const c = createClient({ url: redis.url });
        await c.connect();
        await c.hSet("compliance:edges", `raw ${++raw}`, text);
        c.destroy();
      },
      pause: () => redis.pause(),
      resume: () => redis.resume(),
      end: () => redis.stop(),
    };
  },
  skip,
);

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return node([program, ...args], env);
}

function node(args: string[], env: Record<string, string>): Promise<Run> {
  return underRegister(args, { WAITGRAPH: "log", ...env });
}

describe("processes sharing one graph through Redis", { skip }, () => {
  let redis: Redis;
  before(async () => {
    await ensureBuilt();
    redis = await startRedis();
  });
  after(() => redis?.stop());

  it("the second process reports the inversion at its acquisition, naming the first process and its line", async () => {
    const store = { WAITGRAPH_STORE: `${redis.url}?key=abba` };
    const first = await run(["A", "B"], store);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "done\n");
    assert.equal(first.stderr, "", "A then B alone is no finding");
    const second = await run(["B", "A"], store);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, "done\n");
    const text = second.stderr;
    assert.match(
      text,
      /WARNING: possible circular locking dependency detected/,
    );
    assert.match(
      text,
      new RegExp(
        `found in the graph shared with other processes or threads: the chain runs through take-in-order\\.mjs\\[${first.pid}\\]@`,
      ),
    );
    // The link the first process added (B taken while A was held), at its NESTED line.
    assert.match(
      text,
      new RegExp(
        `-> #1 \\(store-test B\\)\\{\\+\\.\\+\\.\\} \\(added by take-in-order\\.mjs\\[${first.pid}\\]@[^)]*\\):\\n\\s+at ${program.replace(/\./g, "\\.")}:${NESTED_LINE}:`,
      ),
    );
    // And this process's own acquisition of A while holding B, at the same line of its run.
    assert.match(
      text,
      new RegExp(
        `is trying to acquire lock:\\n\\(store-test A\\)\\{\\+\\.\\+\\.\\}, at: ${program.replace(/\./g, "\\.")}:${NESTED_LINE}:`,
      ),
    );
  });

  it("worker threads under the register hook share the graph through the store as processes do", async () => {
    const r = await node(["test/fixtures/store/threads.mjs", "workers ABBA"], {
      WAITGRAPH_STORE: `${redis.url}?key=workers`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "done\ndone\nend\n");
    assert.equal(
      r.stderr.match(/WARNING: possible circular locking dependency/g)?.length,
      1,
    );
    assert.match(
      r.stderr,
      /-> #1 \(store-test B\)\{\+\.\+\.\} \(added by take-in-order\.mjs\[\d+\]@\S+ thread \d+\):/,
    );
  });

  it("processes that keep one order report nothing", async () => {
    const store = { WAITGRAPH_STORE: `${redis.url}?key=same-order` };
    for (let i = 0; i < 3; i++) {
      const r = await run(["A", "B"], store);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
    }
  });

  it("processes on different keys of one server do not see each other", async () => {
    const first = await run(["A", "B"], {
      WAITGRAPH_STORE: `${redis.url}?key=team-1`,
    });
    const second = await run(["B", "A"], {
      WAITGRAPH_STORE: `${redis.url}?key=team-2`,
    });
    assert.equal(first.stderr + second.stderr, "");
  });

  it("with the store unreachable both run normally, and each says what was not checked", async () => {
    const store = { WAITGRAPH_STORE: "redis://127.0.0.1:1" };
    for (const order of [
      ["A", "B"],
      ["B", "A"],
    ]) {
      const started = Date.now();
      const r = await run(order, store);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "done\n");
      assert.ok(Date.now() - started < 10_000);
      assert.match(
        r.stderr,
        /^waitgraph: the store redis:\/\/127\.0\.0\.1:1 was never reached \([^)]*\): 1 of this process's dependencies were not shared/m,
      );
      assert.doesNotMatch(r.stderr, /WARNING/);
    }
  });

  it("a server that stops answering mid-run does not keep the process up: it ends within the flush bound and says what was not shared", async () => {
    const started = Date.now();
    try {
      const r = await node(["test/fixtures/store/store-stops-answering.mjs"], {
        WAITGRAPH_STORE: `${redis.url}?key=stops`,
        REDIS_PID: String(redis.pid),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "done\n");
      assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
      assert.match(
        r.stderr,
        /waitgraph: the store \S+ was unreachable at the end \(no answer within 1000 ms\): 1 of this process's dependencies were not shared/,
      );
    } finally {
      process.kill(redis.pid, "SIGCONT");
    }
  });

  it("a store that is down loses nothing local: the process's own inversion is still reported", async () => {
    const r = await node(
      [
        "--input-type=module",
        "-e",
        `import { Mutex } from "waitgraph";
const a = new Mutex({ key: "local A" }), b = new Mutex({ key: "local B" });
let r1 = await a.acquire(); let r2 = await b.acquire(); r2(); r1();
r1 = await b.acquire(); r2 = await a.acquire(); r2(); r1();
console.log("done");`,
      ],
      { WAITGRAPH_STORE: "redis://127.0.0.1:1" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /WARNING: possible circular locking dependency detected/,
    );
    assert.match(r.stderr, /waitgraph: the store .* was never reached/);
  });

  it("a bad WAITGRAPH_STORE is a warning, and the program runs with a local graph", async () => {
    const r = await run(["A", "B"], { WAITGRAPH_STORE: "http://example" });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "done\n");
    assert.match(
      r.stderr,
      /WAITGRAPH_STORE="http:\/\/example": Expected the store to be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/example" \(string\); the graph stays local/,
    );
  });
});
