// Sharing the graph through a store: `WAITGRAPH_STORE=redis://…` under the register hook, or
// `await connectStore(url)` in code. The process's new dependencies are published; what other
// processes published is loaded first and then arrives live; a cycle through both is reported
// as any circular-dependency is (core/shared-graph.ts).
//
// At the end: while edges wait to be sent and the store is reachable, the process stays up to
// FLUSH_MS more to send them; if some could not be sent, or the store was never reached, one
// line on stderr says what was not checked. Nothing of this process's own checking is lost: the
// validator's graph is the same with or without a store.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { basename } from "node:path";
import { isMainThread, threadId } from "node:worker_threads";
import { describe, InvalidArgumentError } from "../core/errors.js";
import { WaitgraphError } from "../core/errors.js";
import {
  share,
  STORE_ERROR,
  type Origin,
  type Sharing,
} from "../core/sharing.js";
import { RedisStore, type RedisStoreOptions } from "./redis.js";
import type { Store, StoreStatus } from "./store.js";
import { THREAD_CHANNEL, ThreadHub, ThreadStore } from "./threads.js";

export type { Store, StoreStatus };

/** ms the process may stay up at its end to send edges still queued. */
export const FLUSH_MS = 2000;

export interface StoreHandle {
  readonly origin: Origin;
  /** The store's counts, with the shared graph's: edges held, and offered but not checked. */
  status(): StoreStatus & { edges: number; unchecked: number };
  /** Sends what is queued (at most `ms`), stops sharing and lets go of the connection. */
  close(ms?: number): Promise<void>;
}

export type ConnectOptions = Omit<RedisStoreOptions, "url">;

/** Starts sharing through the store at `url` (redis:// or rediss://), or through `store`. */
export async function connectStore(
  url: string | Store,
  options: ConnectOptions = {},
): Promise<StoreHandle> {
  const store = typeof url === "string" ? await redisStore(url, options) : url;
  const sharing = share(originOfThisIsolate(), store);
  await store.open((edges) => sharing.receive(edges));
  return handle(store, sharing);
}

/**
 * The register hook's store: `WAITGRAPH_STORE=redis://…`; unset, the threads of this process
 * (stores/threads.ts: a worker joins at once, the main thread when its first worker starts);
 * `off`, none.
 */
export async function connectFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoreHandle | undefined> {
  const url = env["WAITGRAPH_STORE"]?.trim();
  if (url === "off") return undefined;
  if (url === undefined || url === "") {
    if (!isMainThread)
      return connectStore(new ThreadStore()).catch(() => undefined);
    const hub: ThreadHub = new ThreadHub(async () => {
      await connectStore(new ThreadStore(THREAD_CHANNEL, hub.log));
    });
    return undefined;
  }
  try {
    return await connectStore(url);
  } catch (error) {
    // A bad setting must not stop the program; it is said once, and the run is a local one.
    process.emitWarning(
      `WAITGRAPH_STORE=${JSON.stringify(url)}: ${error instanceof Error ? error.message : String(error)}; the graph stays local to this process`,
      { code: "WAITGRAPH_ENV" },
    );
    return undefined;
  }
}

async function redisStore(
  url: string,
  options: ConnectOptions,
): Promise<RedisStore> {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !/^rediss?:$/.test(parsed.protocol))
    throw new InvalidArgumentError(
      `Expected the store to be a redis:// or rediss:// URL, got ${describe(url)}`,
    );
  for (const [name, value] of Object.entries(options))
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
    )
      throw new InvalidArgumentError(
        `Expected options.${name} to be a positive number, got ${describe(value)}`,
      );
  let createClient: (options: object) => unknown;
  try {
    ({ createClient } = (await import("redis")) as unknown as {
      createClient: (options: object) => unknown;
    });
  } catch (error) {
    throw new WaitgraphError(
      STORE_ERROR,
      "Expected the npm package redis (node-redis) to be installed for a redis:// store, got none: npm install redis",
      { cause: error },
    );
  }
  return new RedisStore(
    createClient as ConstructorParameters<typeof RedisStore>[0],
    { ...options, url },
  );
}

function originOfThisIsolate(): Origin {
  const script =
    process.argv[1] !== undefined ? basename(process.argv[1]) : "node";
  const thread = threadId === 0 ? "" : ` thread ${threadId}`;
  return {
    id: randomUUID(),
    name: `${script}[${process.pid}]@${hostname()}${thread}`,
  };
}

function handle(store: Store, sharing: Sharing): StoreHandle {
  let closed = false;
  let flushed = false;
  // Once per process: a store that keeps failing to take the outbox must not keep the process
  // up beyond FLUSH_MS (beforeExit fires again each time the loop drains).
  const beforeExit = (): void => {
    if (flushed || closed) return;
    const s = store.status();
    if (s.queued === 0 || !s.online) return;
    flushed = true;
    const hold = setTimeout(() => {}, FLUSH_MS);
    void store.flush(FLUSH_MS).finally(() => clearTimeout(hold));
  };
  const exit = (): void => {
    const s = store.status();
    const line = unchecked(s);
    if (line !== undefined) process.stderr.write(`waitgraph: ${line}\n`);
  };
  process.on("beforeExit", beforeExit);
  process.on("exit", exit);
  return {
    origin: sharing.origin,
    status: () => {
      const c = sharing.counts();
      return { ...store.status(), edges: c.edges, unchecked: c.unchecked };
    },
    close: async (ms = FLUSH_MS) => {
      if (closed) return;
      closed = true;
      await store.flush(ms);
      sharing.detach();
      process.removeListener("beforeExit", beforeExit);
      process.removeListener("exit", exit);
      exit();
      await store.close();
    },
  };
}

/** What the store could not do for this run, in one line; undefined when it did everything. */
export function unchecked(s: StoreStatus): string | undefined {
  const lost = s.queued + s.dropped;
  if (lost === 0 && s.reached) return undefined;
  const why = s.lastError !== undefined ? ` (${s.lastError})` : "";
  const never = !s.reached;
  return (
    `the store ${s.url} was ${never ? "never reached" : "unreachable at the end"}${why}: ` +
    `${lost} of this process's dependencies were not shared, so other processes did not check them` +
    (never
      ? ", and this process checked its locks against its own graph only"
      : "")
  );
}
