// The redlock adapter against a real redis-server, for both APIs users run: redlock 4 (npm's
// `latest`) and redlock 5 (the TypeScript rewrite on ioredis). Each resource is a lock class
// `redlock <resource>`; several resources taken in one acquisition are unordered among
// themselves; a failed acquisition holds nothing.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Redis } from "ioredis";
// @ts-expect-error redlock 4 ships no types (and @types/redlock would bring ioredis 4's)
import Redlock4Module from "redlock";
// @ts-expect-error redlock 5's types are not reachable through its package.json `exports`
import Redlock5Module from "redlock-5";
import {
  DeadlockError,
  detach,
  heldLocks,
  task,
  tracker,
} from "../../src/index.js";
import { instrumentRedlock, track } from "../../src/adapters/redlock.js";
import { instrumentModule } from "../../src/adapters/instrument.js";
import {
  redisMissing,
  startRedis,
  type Redis as Server,
} from "../helpers/redis.js";
import { assertGraph, fresh } from "../helpers/edges.js";
import { lineHere } from "./pool-suite.js";

const FILE = "/test/adapters/redlock.test.ts";

/** The part of redlock 4 these tests use. */
interface Lock4 {
  value: string;
  unlock(): Promise<void>;
  extend(ttl: number): Promise<Lock4>;
}
interface Redlock4 {
  lock(resource: string | string[], ttl: number): Promise<Lock4>;
  lock(
    resource: string | string[],
    ttl: number,
    cb: (error: Error | null, lock: Lock4) => void,
  ): unknown;
  acquire(resource: string | string[], ttl: number): Promise<Lock4>;
  release(lock: Lock4): Promise<void>;
  unlock(lock: Lock4): Promise<void>;
}
/** The part of redlock 5 these tests use. */
interface Lock5 {
  value: string;
  release(): Promise<unknown>;
}
interface Redlock5 {
  acquire(resources: string[], duration: number): Promise<Lock5>;
  release(lock: Lock5): Promise<unknown>;
  using<T>(
    resources: string[],
    duration: number,
    routine: (signal: AbortSignal) => Promise<T>,
  ): Promise<T>;
}
const Redlock5 = Redlock5Module as new (
  clients: Redis[],
  settings?: { retryCount?: number; retryDelay?: number },
) => Redlock5;
const Redlock4 = Redlock4Module as new (
  clients: Redis[],
  options?: { retryCount?: number; retryDelay?: number },
) => Redlock4;
const skip = redisMissing();

let server: Server | undefined;
const clients: Redis[] = [];

before(async () => {
  if (skip === undefined) server = await startRedis();
});
after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.quit()));
  await server?.stop();
});

let adminClient: Redis | undefined;
function admin(): Redis {
  return (adminClient ??= client());
}

function client(): Redis {
  const c = new Redis(server!.url, { lazyConnect: false });
  clients.push(c);
  return c;
}

/** The two APIs behind one small interface: acquire a set of resources, release the lock. */
interface Api {
  name: string;
  make(retryCount?: number): {
    acquire(resources: string[], ttl: number): Promise<unknown>;
    release(lock: unknown): Promise<unknown>;
  };
}

const apis: Api[] = [
  {
    name: "redlock 4",
    make(retryCount = 3) {
      const r = track(new Redlock4([client()], { retryCount, retryDelay: 20 }));
      return {
        acquire: (resources, ttl) => r.lock(resources, ttl),
        release: (lock) => (lock as Lock4).unlock(),
      };
    },
  },
  {
    name: "redlock 5",
    make(retryCount = 3) {
      const r = track(new Redlock5([client()], { retryCount, retryDelay: 20 }));
      return {
        acquire: (resources, ttl) => r.acquire(resources, ttl),
        release: (lock) => r.release(lock as never),
      };
    },
  },
];

const held = (): string[] => heldLocks().map((h) => h.name);

for (const api of apis)
  describe(`${api.name} over a real Redis`, { skip, timeout: 30_000 }, () => {
    beforeEach(async () => {
      fresh();
      await admin().flushall(); // a failed test's locks must not outlive it
    });

    it("reports ABBA across two flows at the lines that took the locks", async () => {
      const redlock = api.make();
      let firstLine = 0;
      await task("one", async () => {
        const a = await redlock.acquire(["a"], 5_000);
        firstLine = lineHere() + 1;
        const b = await redlock.acquire(["b"], 5_000);
        assert.deepEqual(held(), ["redlock a", "redlock b"]);
        await redlock.release(b);
        await redlock.release(a);
        assert.deepEqual(held(), []);
      });
      let line = 0;
      await task("two", async () => {
        const b = await redlock.acquire(["b"], 5_000);
        line = lineHere() + 1;
        const a = await redlock.acquire(["a"], 5_000); // granted: this run never blocked
        await redlock.release(a);
        await redlock.release(b);
      });
      const report = tracker
        .reports()
        .find((r) => r.kind === "circular-dependency");
      assert.ok(
        report?.kind === "circular-dependency",
        JSON.stringify(tracker.reports().map((r) => r.kind)),
      );
      assert.equal(report.next.name, "redlock a");
      assert.equal(report.prev.name, "redlock b");
      // The helper of this file that calls redlock first, then the line of the test.
      assert.ok(report.stack[0]?.file.endsWith(FILE), report.stack[0]?.file);
      assert.ok(
        report.stack.some((f) => f.file.endsWith(FILE) && f.line === line),
        JSON.stringify(report.stack),
      );
      const other = report.chain.find((l) => l.class.name === "redlock b");
      assert.ok(
        other?.stack.some((f) => f.file.endsWith(FILE) && f.line === firstLine),
        JSON.stringify(other),
      );
    });

    it("a lease left to expire ends with it: the same flow taking the resource again after its TTL is no re-take", async () => {
      const redlock = api.make();
      for (let i = 0; i < 3; i++) {
        await redlock.acquire(["leader"], 30); // never released: it runs out in Redis
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      const lock = await redlock.acquire(["leader"], 5_000);
      assert.deepEqual(
        held(),
        ["redlock leader"],
        "only the live lease is held",
      );
      await redlock.release(lock);
      assert.deepEqual(tracker.reports(), []);
    });

    it("look-alike: a lease that has not expired, taken again by its flow, is recursive locking", async () => {
      const redlock = api.make(1);
      await redlock.acquire(["leader"], 5_000);
      await redlock.acquire(["leader"], 5_000).catch(() => undefined);
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["recursive-locking"],
      );
    });

    it("gives no report for one order kept by concurrent flows that really contend", async () => {
      const redlock = api.make(-1);
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const a = await redlock.acquire(["a"], 5_000);
          const b = await redlock.acquire(["b"], 5_000);
          most = Math.max(most, ++inside);
          await new Promise((resolve) => setImmediate(resolve));
          inside--;
          await redlock.release(b);
          await redlock.release(a);
        }),
      );
      assert.equal(most, 1, "redlock excluded the flows from each other");
      assertGraph(["redlock a -> redlock b"]);
    });

    it("holds nothing after a failed acquisition (retries exhausted)", async () => {
      const owner = api.make();
      const redlock = api.make(1);
      // Another flow holds a: a detached one. (What an async helper returns is its caller's,
      // and so is an acquisition's own promise awaited.)
      const theirs = await detach(
        async () => await owner.acquire(["a"], 5_000),
      );
      const error = await redlock
        .acquire(["a"], 5_000)
        .catch((e: unknown) => e);
      assert.ok(
        error instanceof Error && !(error instanceof DeadlockError),
        String(error),
      );
      assert.deepEqual(held(), []);
      const b = await redlock.acquire(["b"], 5_000); // no a → b: a was never held here
      await redlock.release(b);
      await owner.release(theirs);
      assertGraph([]);
    });

    it("orders none of the resources of one acquisition after another, each after what is held", async () => {
      const redlock = api.make();
      const outer = await redlock.acquire(["outer"], 5_000);
      const both = await redlock.acquire(["a", "b"], 5_000);
      // The last resource is held as the ordinary lock, the others as trylocks above it.
      assert.deepEqual(held(), ["redlock outer", "redlock b", "redlock a"]);
      const inner = await redlock.acquire(["inner"], 5_000);
      await redlock.release(inner);
      await redlock.release(both);
      await redlock.release(outer);
      const again = await redlock.acquire(["b", "a"], 5_000); // the other order: atomic too
      await redlock.release(again);
      assert.deepEqual(held(), []);
      assertGraph([
        "redlock a -> redlock inner",
        "redlock b -> redlock inner",
        "redlock outer -> redlock a",
        "redlock outer -> redlock b",
      ]);
    });

    it("orders what is taken under a multi-resource lock after each resource: the other order is reported", async () => {
      const redlock = api.make();
      const both = await redlock.acquire(["a", "b"], 5_000);
      const inner = await redlock.acquire(["inner"], 5_000); // a → inner and b → inner
      await redlock.release(inner);
      await redlock.release(both);
      // The look-alike first: b then a, taken one by one, is no cycle with the atomic [a, b].
      const b = await redlock.acquire(["b"], 5_000);
      const a = await redlock.acquire(["a"], 5_000);
      await redlock.release(a);
      await redlock.release(b);
      assert.deepEqual(tracker.reports(), []);
      // inner then a: a → inner exists although a was not the nearest hold.
      const i = await redlock.acquire(["inner"], 5_000);
      const a2 = await redlock.acquire(["a"], 5_000);
      await redlock.release(a2);
      await redlock.release(i);
      assert.deepEqual(
        tracker.reports().map((r) => [r.kind, ...r.classes]),
        [["circular-dependency", "redlock a", "redlock inner"]],
      );
    });

    it("reports a resource taken again by the flow that holds it, without asking Redis", async () => {
      fresh("throw");
      const redlock = api.make();
      const a = await redlock.acquire(["a"], 5_000);
      const line = lineHere() + 1;
      const asked = redlock.acquire(["a"], 5_000);
      const error = await asked.catch((e: unknown) => e);
      assert.ok(error instanceof DeadlockError, String(error));
      assert.equal(error.report.kind, "recursive-locking");
      assert.ok(
        error.report.stack.some(
          (f) => f.file.endsWith(FILE) && f.line === line,
        ),
        JSON.stringify(error.report.stack),
      );
      await redlock.release(a);
    });

    it("with tracking off, acquires and releases as redlock alone does and holds nothing", async () => {
      const redlock = api.make();
      tracker.configure({ enabled: false });
      try {
        const a = await redlock.acquire(["a"], 5_000);
        const b = await redlock.acquire(["b"], 5_000);
        assert.deepEqual(held(), []);
        await redlock.release(b);
        await redlock.release(a);
      } finally {
        tracker.configure({ enabled: true });
      }
      assertGraph([]);
    });

    it("groups resources with resourceClass; ungrouped, two accounts are two classes", async () => {
      const grouped = track(
        api.name === "redlock 4"
          ? new Redlock4([client()])
          : new Redlock5([client()]),
        {
          resourceClass: (r) => r.replace(/:\d+$/, ":*"),
        },
      ) as unknown as {
        acquire(
          r: string[],
          t: number,
        ): Promise<{
          release?: () => Promise<unknown>;
          unlock?: () => Promise<unknown>;
        }>;
      };
      const one = await grouped.acquire(["account:1"], 5_000);
      const two = await grouped.acquire(["account:2"], 5_000);
      await (two.release ?? two.unlock)!.call(two);
      await (one.release ?? one.unlock)!.call(one);
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        ["recursive-locking"],
      );
      assert.deepEqual(
        tracker.reports()[0]?.classes,
        ["redlock account:*", "redlock account:*"].slice(
          0,
          tracker.reports()[0]?.classes.length,
        ),
      );
    });
  });

describe(
  "redlock 5's using() and redlock 4's callbacks",
  { skip, timeout: 30_000 },
  () => {
    beforeEach(async () => {
      fresh();
      await admin().flushall();
    });

    it("holds the resources inside using(fn) and releases them after", async () => {
      const redlock = track(
        new Redlock5([client()], { retryCount: 3, retryDelay: 20 }),
      );
      const line = lineHere() + 1;
      await redlock.using(["a"], 5_000, async () => {
        assert.deepEqual(held(), ["redlock a"]);
        const b = await redlock.acquire(["b"], 5_000);
        await redlock.release(b);
      });
      assert.deepEqual(held(), []);
      assertGraph(["redlock a -> redlock b"]);
      // The site of `a` is the using() call in this file, not redlock's own line.
      fresh("throw");
      const outer = await redlock.acquire(["b"], 5_000);
      const error = await redlock
        .using(["b"], 5_000, async () => {})
        .catch((e: unknown) => e);
      assert.ok(error instanceof DeadlockError);
      assert.ok(
        error.report.stack[0]?.file.endsWith(FILE),
        JSON.stringify(error.report.stack[0]),
      );
      assert.ok(line > 0);
      await redlock.release(outer);
    });

    it("runs redlock 4's callback holding the lock, and lock.unlock() releases it", async () => {
      const redlock = track(
        new Redlock4([client()], { retryCount: 3, retryDelay: 20 }),
      );
      const lock = await new Promise<Lock4>((resolve, reject) =>
        redlock.lock("a", 5_000, (error, l) => {
          assert.deepEqual(held(), ["redlock a"]);
          if (error) reject(error);
          else resolve(l);
        }),
      );
      await lock.extend(5_000); // the same lock, still held
      await lock.unlock();
      assert.deepEqual(held(), []);
    });

    it("lets what redlock 4's callback throws reach the program as an uncaught exception, as bluebird's nodeify does", async () => {
      const redlock = track(
        new Redlock4([client()], { retryCount: 3, retryDelay: 20 }),
      );
      const listeners = process.listeners("uncaughtException");
      process.removeAllListeners("uncaughtException");
      try {
        const caught = new Promise<unknown>((resolve) =>
          process.once("uncaughtException", resolve),
        );
        redlock.lock("thrower", 5_000, () => {
          throw new Error("bug in the user's callback");
        });
        const error = await caught;
        assert.match(String(error), /bug in the user's callback/);
      } finally {
        for (const l of listeners) process.on("uncaughtException", l);
      }
    });
  },
);

describe("redlock options and register", () => {
  it("refuses bad options with typed errors", () => {
    assert.throws(
      () => track({} as never),
      (e: unknown) =>
        e instanceof TypeError &&
        (e as { code?: string }).code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
        /Expected `redlock` to be a Redlock \(redlock 4 or 5\), got an object \(Object\)/.test(
          e.message,
        ),
    );
    const r = new Redlock5([new Redis({ lazyConnect: true })]);
    assert.throws(
      () => track(r, { resourceClass: "x" as never }),
      (e: unknown) =>
        e instanceof TypeError &&
        /Expected `resourceClass` to be a function, got "x" \(string\)/.test(
          (e as Error).message,
        ),
    );
    assert.throws(
      () => track(r, { resourceKlass: () => "x" } as never),
      (e: unknown) =>
        e instanceof TypeError &&
        /options\.resourceKlass/.test((e as Error).message),
    );
  });

  it("instruments both module shapes, and leaves an unknown one alone", async () => {
    const v4 = instrumentRedlock(Redlock4) as typeof Redlock4;
    assert.ok(new v4([new Redis({ lazyConnect: true })]) instanceof Redlock4);
    const namespace: unknown = await import("redlock-5" as string);
    const v5 = instrumentRedlock(namespace) as {
      default: typeof Redlock5;
    };
    assert.ok(
      new v5.default([new Redis({ lazyConnect: true })]) instanceof Redlock5,
    );
    assert.throws(
      () => instrumentRedlock({ default: class {} }),
      /redlock 4's Redlock constructor/,
    );
    // Through register's entry point an unknown shape is left as it is (one warning).
    const odd = { nothing: 1 };
    assert.equal(instrumentModule("redlock", odd), odd);
  });
});

// Last: past the cap every new resource of this process shares the overflow class.
describe("redlock past 256 resource classes", { skip }, () => {
  beforeEach(async () => {
    fresh();
    await admin().flushall();
  });

  it("says so once and leaves the overflow unchecked: per-entity resources nested in order are no report", async () => {
    const redlock = apis[1]!.make();
    for (let id = 0; id < 300; id++)
      await redlock.release(await redlock.acquire([`user:${id}`], 5_000));
    const outer = await redlock.acquire(["user:1000"], 5_000);
    const inner = await redlock.acquire(["user:1001"], 5_000); // healthy: sorted ids
    await redlock.release(inner);
    await redlock.release(outer);
    assert.deepEqual(
      tracker.reports().map((r) => r.kind),
      ["limit-exceeded"],
    );
  });
});
