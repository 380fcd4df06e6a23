// The service that bench/service/run.ts loads: an ordinary Node HTTP service that knows nothing
// of waitgraph. Each variant of the benchmark runs this same file; only the command line
// differs (no waitgraph, `--import waitgraph/register` with WAITGRAPH=off, and with tracking
// on), so what the ratios measure is what a user pays for leaving waitgraph on in a service.
//
// A request is what a small API does: a short critical section on an in-process async-mutex
// (a cache of seen accounts), a pooled read, and on every fourth request a transaction on a
// checked-out client (BEGIN, UPDATE, COMMIT, release) under the account's stripe lock, held
// across the checkout as services serialise writes to one account. So a request holds two
// locks at once (stripe, then a pool connection): the tracker validates a chain of two and a
// dependency, not only single acquisitions. The pool is smaller than the client's
// concurrency, so pool waits are part of the load. It takes its locks in one order and never
// nests checkouts: a correct service, which must give no report.
//
// Environment: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (read by pg itself), POOL_SIZE.
// Prints `listening <port>` on stdout once it accepts connections; ends on SIGTERM.
import { createServer } from "node:http";
import { Mutex } from "async-mutex";
import pg from "pg";

const ACCOUNTS = 1000;
const pool = new pg.Pool({ max: Number(process.env["POOL_SIZE"] ?? 8) });
const cacheLock = new Mutex();
const STRIPES = 16;
const stripes = Array.from({ length: STRIPES }, () => new Mutex());
const seen = new Set<number>();
let requests = 0;

async function handle(id: number): Promise<string> {
  const release = await cacheLock.acquire();
  try {
    seen.add(id);
  } finally {
    release();
  }
  const { rows } = await pool.query<{ balance: number }>(
    "SELECT balance FROM account WHERE id = $1",
    [id],
  );
  if (++requests % 4 === 0) {
    const unlock = await stripes[id % STRIPES]!.acquire();
    try {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(
          "UPDATE account SET balance = balance + 1 WHERE id = $1",
          [id],
        );
        await client.query("COMMIT");
      } finally {
        client.release();
      }
    } finally {
      unlock();
    }
  }
  return JSON.stringify({ id, balance: rows[0]?.balance ?? null });
}

const server = createServer((req, res) => {
  const id = Number(new URL(req.url ?? "/", "http://x").searchParams.get("id"));
  handle(Number.isInteger(id) ? id % ACCOUNTS : 0).then(
    (body) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    },
    (error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    },
  );
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port =
    typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`listening ${port}\n`);
});

process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.end();
});
