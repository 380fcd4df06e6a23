// Pool exhaustion (pool starvation): a request handler that holds one connection from a pool
// and, before giving it back, asks the same pool for another. With a pool of 2 and one request
// it works; with 2 requests at once, each holds one connection and waits for a second that
// never comes free. The most common real deadlock in Node services (knex, Sequelize, Prisma,
// TypeORM and pg issue trackers are full of it), and it only shows under load.
//
// The "pool" here is a Semaphore(2): a permit is a connection. waitgraph treats a semaphore
// class as one lock class, so waiting for a permit while holding a permit of the same class
// is reported as `recursive-locking` — from this run with a single request, which never hangs.
// Its backtrace runs from `handleOrder` through `loadPrice` to the `withConnection` that asks
// for the second connection while the first is still checked out.
//
// The fix: pass the connection you hold down to `loadPrice` instead of taking a new one.
//
//   npx waitgraph run examples/pool-exhaustion.ts
import { Semaphore } from "waitgraph";

const pool = new Semaphore(2, { name: "db-pool" });
let nextConnection = 1;

/** Runs `fn` with a connection checked out of the pool, then returns it. */
function withConnection<T>(fn: (connection: number) => Promise<T>): Promise<T> {
  return pool.runExclusive(() => fn(nextConnection++));
}

async function query(connection: number, sql: string): Promise<number> {
  await Promise.resolve(); // stands in for the round trip to the database
  return sql.length + connection;
}

function loadPrice(sku: string): Promise<number> {
  // A helper that "just runs a query": it checks out a connection of its own.
  return withConnection((connection) =>
    query(connection, `SELECT price FROM products WHERE sku = '${sku}'`),
  );
}

function handleOrder(orderId: number, sku: string): Promise<string> {
  return withConnection(async (connection) => {
    await query(connection, "BEGIN");
    // Still holding `connection`, and asking the pool for another: with 2 of these requests
    // in flight at once, both wait here forever.
    const price = await loadPrice(sku);
    await query(connection, `INSERT INTO orders VALUES (${orderId}, ${price})`);
    await query(connection, "COMMIT");
    return `order ${orderId}: ${sku} at ${price}`;
  });
}

async function main() {
  console.log(await handleOrder(1, "widget"));
}

void main();
