// tarn, the pool under knex, pooling plain objects (knex.test.ts runs it with pg connections):
// a Pool is a semaphore class and an acquired resource a held permit.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import * as tarn from "tarn";
import { DeadlockError, heldLocks } from "../../src/index.js";
import { instrumentTarn, trackPool } from "../../src/adapters/tarn.js";
import { assertGraph, deferred, fresh } from "../helpers/edges.js";
import { lineHere, poolSuite } from "./pool-suite.js";
import { complianceSuite } from "./compliance.js";

interface Resource {
  id: number;
  uses: number;
}

type Options = ConstructorParameters<typeof tarn.Pool<Resource>>[0];

let nextId = 1;
const pools: tarn.Pool<Resource>[] = [];

function options(max: number, more: Partial<Options> = {}): Options {
  return {
    create: (callback) => callback(null, { id: nextId++, uses: 0 }),
    destroy: () => undefined,
    min: 0,
    max,
    ...more,
  };
}

function makePool(
  max: number,
  key?: string,
  more?: Partial<Options>,
): tarn.Pool<Resource> {
  const pool = new tarn.Pool<Resource>(options(max, more));
  pools.push(pool);
  return key === undefined ? pool : trackPool(pool, { key });
}

async function endAll(list: tarn.Pool<Resource>[]): Promise<void> {
  await Promise.all(list.splice(0).map((pool) => pool.destroy()));
}

afterEach(() => endAll(pools));

describe("tarn, the pool compliance suite", () => {
  poolSuite<Resource>({
    make(name, max) {
      const pool = makePool(max, name);
      return {
        checkout: () => pool.acquire().promise,
        use: async (r) => {
          r.uses++;
        },
        release: (r) => {
          pool.release(r);
        },
        brief: async () => {
          const r = await pool.acquire().promise;
          pool.release(r);
        },
      };
    },
    endAll: () => endAll(pools),
  });
});

describe("tarn, the lock and limiter compliance suite", () => {
  complianceSuite({
    permits: 2,
    make(cls) {
      const pool = makePool(2, cls);
      return {
        name: cls,
        run: (fn) =>
          pool.acquire().promise.then(async (r) => {
            try {
              return await fn();
            } finally {
              pool.release(r);
            }
          }),
      };
    },
  });
});

describe("tarn", () => {
  beforeEach(() => fresh());

  it("reports the nested acquire at its line under policy 'throw', and asks the pool for nothing", async () => {
    fresh("throw");
    const pool = makePool(2, "objects");
    const r = await pool.acquire().promise;
    const line = lineHere() + 1;
    const operation = pool.acquire();
    const error = await operation.promise.catch((e: unknown) => e);
    assert.ok(error instanceof DeadlockError, String(error));
    assert.equal(error.report.stack[0]?.line, line);
    assert.ok(
      error.report.stack[0]?.file.endsWith("/test/adapters/tarn.test.ts"),
    );
    operation.abort(); // a refused operation can be aborted like any other
    assert.equal(pool.numPendingAcquires(), 0);
    assert.equal(pool.numUsed(), 1);
    pool.release(r);
  });

  it("holds nothing after an aborted acquire", async () => {
    const pool = makePool(1, "objects");
    const r = await pool.acquire().promise;
    const outcome = deferred<[unknown, unknown]>();
    setImmediate(() => {
      const operation = pool.acquire();
      operation.promise.then(
        () => outcome.resolve(["granted", heldLocks()]),
        (e: unknown) => outcome.resolve([e, heldLocks()]),
      );
      operation.abort();
    });
    const [error, held] = await outcome.promise;
    assert.match(String(error), /aborted/);
    assert.deepEqual(held, []);
    pool.release(r);
    assertGraph([]);
  });

  it("holds nothing after an acquire that timed out", async () => {
    const pool = makePool(1, "objects", { acquireTimeoutMillis: 20 });
    const r = await pool.acquire().promise;
    const outcome = deferred<[unknown, unknown]>();
    setImmediate(() => {
      pool.acquire().promise.then(
        () => outcome.resolve(["granted", heldLocks()]),
        (e: unknown) => outcome.resolve([e, heldLocks()]),
      );
    });
    const [error, held] = await outcome.promise;
    assert.ok(error instanceof tarn.TimeoutError, String(error));
    assert.deepEqual(held, []);
    pool.release(r);
    assertGraph([]);
  });

  it("reports a release the pool refuses because the resource was already given back", async () => {
    const pool = makePool(2, "objects");
    const r = await pool.acquire().promise;
    assert.equal(pool.release(r), true);
    assert.equal(pool.release(r), false);
    assertGraph([], ["bad-unlock-balance"]);
  });

  it("ignores the release of a resource it never lent", () => {
    const pool = makePool(2, "objects");
    assert.equal(pool.release({ id: -1, uses: 0 }), false);
    assertGraph([]);
  });

  it("tracks every pool made after instrumentTarn, its class the construction site", async () => {
    const module = instrumentTarn({ Pool: tarn.Pool });
    const pool = new module.Pool<Resource>(options(2));
    pools.push(pool);
    const r = await pool.acquire().promise;
    assert.match(
      heldLocks()[0]?.name ?? "",
      /^tarn@test\/adapters\/tarn\.test\.ts:\d+:\d+$/,
    );
    pool.release(r);
    assertGraph([]);
  });
});
