// A flow that holds k of a pool's N units and asks for one more deadlocks only under load: when
// ⌈N / k⌉ flows do the same at once. The report says so with the pool's size and that number,
// and a user who knows fewer flows ever run together says so with `concurrency`: then the
// nested acquisition is intended and not reported. A mutex re-taken stays certain.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import pg from "pg";
import { Mutex, Semaphore, tracker, type Report } from "../../src/index.js";
import { trackPool } from "../../src/adapters/pg.js";
import {
  readDocument,
  renderDocument,
  toDocument,
} from "../../src/report/json.js";
import { endPool, startPostgres, type Postgres } from "../helpers/postgres.js";

beforeEach(() => {
  tracker.configure({ enabled: true, policy: "silent" });
  tracker.reset();
});

type Recursive = Extract<Report, { kind: "recursive-locking" }>;
function onlyRecursive(): Recursive {
  const reports = tracker.reports();
  assert.equal(reports.length, 1, JSON.stringify(reports.map((r) => r.id)));
  const [r] = reports;
  assert.equal(r!.kind, "recursive-locking");
  return r as Recursive;
}

/** Holds `k` permits, then asks for one more (granted: the semaphore has room for this one flow). */
async function nested(s: Semaphore, k: number): Promise<void> {
  const held = [];
  for (let i = 0; i < k; i++) held.push(await s.acquire());
  (await s.acquire())();
  for (const r of held) r();
}

test("holding 1 of 4 permits and asking for another: 4 / 1 = 4 flows hang it", async () => {
  await nested(new Semaphore(4, { name: "slots" }), 1);
  const r = onlyRecursive();
  assert.deepEqual(r.pool, { size: 4, held: 1, flowsToHang: 4 });
  assert.equal(r.certain, false);
  assert.match(
    r.text,
    /It has 4 units and this task holds 1 of them: it deadlocks only under load, once 4 \/ 1 = 4 tasks do the same at once/,
  );
});

test("holding 2 of 5: ⌈5 / 2⌉ = 3 flows can hold every unit", async () => {
  // Without a promise the second permit is reported already (held 1: 5 flows), and a report is
  // made once; promising 4 flows leaves that one intended and shows the deeper nesting.
  await nested(new Semaphore(5, { name: "slots", concurrency: 4 }), 2);
  assert.deepEqual(onlyRecursive().pool, { size: 5, held: 2, flowsToHang: 3 });
});

test("concurrency below the flows it takes to hang: the nested acquisition is intended, no report", async () => {
  await nested(new Semaphore(4, { name: "slots", concurrency: 3 }), 1);
  assert.deepEqual(tracker.reports(), []);
});

test("concurrency at or above that number still reports", async () => {
  await nested(new Semaphore(4, { name: "a", concurrency: 4 }), 1);
  assert.deepEqual(onlyRecursive().pool, { size: 4, held: 1, flowsToHang: 4 });
  tracker.reset();
  // Two held of four: two flows hang it, and three are promised.
  await nested(new Semaphore(4, { name: "b", concurrency: 3 }), 2);
  assert.deepEqual(onlyRecursive().pool, { size: 4, held: 2, flowsToHang: 2 });
});

test("a mutex taken twice is certain and has no pool figures; concurrency does not excuse it", async () => {
  tracker.configure({ policy: "throw" });
  const m = new Mutex({ name: "m", concurrency: 1 });
  const r = await m.acquire();
  await assert.rejects(m.acquire(), (e: { report: Recursive }) => {
    assert.equal(e.report.certain, true);
    assert.equal(e.report.pool, undefined);
    return true;
  });
  r();
});

test("two different semaphores of one class are a nesting question, not a pool load", async () => {
  const a = new Semaphore(4, { key: "slot" });
  const b = new Semaphore(4, { key: "slot" });
  const ra = await a.acquire();
  (await b.acquire())();
  ra();
  const r = onlyRecursive();
  assert.equal(r.sameInstance, false);
  assert.equal(r.pool, undefined);
});

test("concurrency is checked", () => {
  for (const bad of [0, -1, 1.5, Number.NaN, "3"])
    assert.throws(
      () => new Semaphore(2, { concurrency: bad as never }),
      (e: Error & { code?: string }) =>
        e.code === "ERR_WAITGRAPH_INVALID_ARGUMENT" &&
        /concurrency/.test(e.message),
      String(bad),
    );
});

test("the pool figures are in the JSON document, schema-valid", async () => {
  await nested(new Semaphore(3, { name: "slots" }), 1);
  const doc = toDocument(tracker.reports(), tracker.snapshot(), {
    waitgraph: "test",
  });
  const back = readDocument(renderDocument(doc));
  assert.deepEqual((back.reports[0] as Recursive).pool, {
    size: 3,
    held: 1,
    flowsToHang: 3,
  });
});

describe("a real pg.Pool (node-postgres #2927: pool.query while holding a client)", () => {
  let db: Postgres;
  const pools: pg.Pool[] = [];
  before(async () => {
    db = await startPostgres();
  });
  after(async () => {
    await Promise.all(pools.splice(0).map(endPool));
    await db?.stop();
  });
  const make = (max: number, options: { concurrency?: number } = {}) => {
    const pool = new pg.Pool({ ...db.connection, max });
    pools.push(pool);
    return trackPool(pool, { name: "db", ...options });
  };
  const nestedQuery = async (pool: pg.Pool) => {
    const client = await pool.connect();
    try {
      await client.query("select 1");
      await pool.query("select 2"); // a second connection while holding the first
    } finally {
      client.release();
    }
  };

  test("max 3: the report says 3 / 1 = 3 requests doing this at once hang the pool", async () => {
    await nestedQuery(make(3));
    const r = onlyRecursive();
    assert.deepEqual(r.pool, { size: 3, held: 1, flowsToHang: 3 });
    assert.match(r.text, /It has 3 units and this task holds 1 of them/);
  });

  test("max 3 with concurrency 2 (never more than two such requests at once): not reported", async () => {
    await nestedQuery(make(3, { concurrency: 2 }));
    assert.deepEqual(tracker.reports(), []);
  });
});
