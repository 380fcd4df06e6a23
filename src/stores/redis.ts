// The Redis store: many processes, one graph. `WAITGRAPH_STORE=redis://host:port[/db][?key=name]`.
//
// Layout, under the key `name` (default `waitgraph`):
//   <name>:edges  a hash, one field per dependency bit of a class pair (wire.ts edgeField), the
//                 first writer's edge as its value: the graph's size, however many runs wrote it;
//   <name>:new    a stream of the edges as they were first written, for live delivery (trimmed).
// Writing is one script, HSETNX then XADD if the field was new, so a reader that loads the hash
// and then reads the stream from the id it saw first misses nothing (an edge may come twice; the
// shared graph knows it the second time).
//
// The connection never keeps the program alive and never blocks it: both clients are unref'd,
// node-redis's own reconnect loop (a ref'd timer) is off, and this store retries on an unref'd
// timer. The client is `redis` (node-redis), an optional peer dependency loaded on first use.
import type { SharedEdge } from "../core/sharing.js";
import {
  deliverTexts,
  enqueue,
  newStatus,
  type Store,
  type StoreStatus,
} from "./store.js";
import { edgeField, encode } from "./wire.js";

/** What this store needs of a node-redis client (structural: `redis` is optional). */
interface Client {
  connect(): Promise<unknown>;
  destroy(): void;
  unref(): void;
  on(event: "error", listener: (error: Error) => void): unknown;
  sendCommand(args: string[]): Promise<unknown>;
}
type CreateClient = (options: object) => Client;

export interface RedisStoreOptions {
  /** `redis://…` or `rediss://…`, with `?key=` for the key prefix. */
  url: string;
  /** ms to wait for a connection before going on without the store (default 1000). */
  connectTimeout?: number;
  /** ms between reconnection attempts while the store is unreachable (default 1000). */
  retryInterval?: number;
  /** Stream entries kept for live delivery (default 10000; the hash keeps every edge). */
  streamLength?: number;
  /** ms one blocking read of the stream waits for news before it asks again (default 5000). */
  blockTime?: number;
}

const WRITE = `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[2])
  return 1
end
return 0`;

/** How long one blocking read waits before it is asked again (ms): `blockTime`. */
const BLOCK_MS = 5000;
const SCAN_COUNT = "1000";

export class RedisStore implements Store {
  private readonly state: StoreStatus;
  private readonly outbox: SharedEdge[] = [];
  private readonly hash: string;
  private readonly stream: string;
  private readonly clientUrl: string;
  private writer: Client | undefined;
  private reader: Client | undefined;
  private deliver: ((edges: SharedEdge[]) => void) | undefined;
  private sending = false;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every connection: a read loop of an older one stops. */
  private epoch = 0;

  constructor(
    private readonly createClient: CreateClient,
    private readonly options: RedisStoreOptions,
  ) {
    const url = new URL(options.url);
    const name = url.searchParams.get("key") ?? "waitgraph";
    url.searchParams.delete("key");
    this.clientUrl = url.href;
    this.hash = `${name}:edges`;
    this.stream = `${name}:new`;
    url.password = url.password === "" ? "" : "***";
    this.state = newStatus(url.href);
  }

  async open(deliver: (edges: SharedEdge[]) => void): Promise<void> {
    this.deliver = deliver;
    // Awaited before the program starts: an await with nothing ref'd would end the process
    // (both clients are unref'd), so a ref'd timer holds it, for at most twice the connect
    // timeout (connecting, then loading what the store holds).
    const bound = 2 * (this.options.connectTimeout ?? 1000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.connect(),
      new Promise((resolve) => (timer = setTimeout(resolve, bound))),
    ]);
    clearTimeout(timer);
  }

  publish(edge: SharedEdge): void {
    if (enqueue(this.outbox, edge, this.state, this.closed)) void this.send();
  }

  async flush(ms: number): Promise<number> {
    const until = Date.now() + ms;
    while (this.outbox.length > 0 && this.state.online && Date.now() < until) {
      await this.send();
      if (this.outbox.length > 0)
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.outbox.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.deliver = undefined;
    clearTimeout(this.retry);
    this.teardown();
  }

  status(): StoreStatus {
    return { ...this.state, queued: this.outbox.length };
  }

  /** One connection attempt: both clients, the whole hash, then the read loop. */
  private async connect(): Promise<void> {
    const epoch = ++this.epoch;
    const timeout = this.options.connectTimeout ?? 1000;
    try {
      const writer = this.client(timeout);
      const reader = this.client(timeout);
      this.writer = writer;
      this.reader = reader;
      await withTimeout(
        Promise.all([writer.connect(), reader.connect()]),
        timeout,
      );
      // The stream's newest id before the hash is read: every edge written after the load
      // began is in the stream after it.
      const last = (await writer.sendCommand([
        "XREVRANGE",
        this.stream,
        "+",
        "-",
        "COUNT",
        "1",
      ])) as [string, string[]][];
      const from = last[0]?.[0] ?? "0-0";
      await this.load(writer);
      if (epoch !== this.epoch) return;
      this.state.online = true;
      this.state.reached = true;
      this.state.lastError = undefined;
      void this.send();
      void this.read(reader, from, epoch);
    } catch (error) {
      if (epoch === this.epoch) this.offline(error);
    }
  }

  private client(timeout: number): Client {
    const client = this.createClient({
      url: this.clientUrl,
      disableOfflineQueue: true,
      socket: { connectTimeout: timeout, reconnectStrategy: false },
    });
    client.on("error", (error) => {
      this.state.lastError = error.message;
    });
    client.unref();
    return client;
  }

  private async load(client: Client): Promise<void> {
    let cursor = "0";
    do {
      const [next, flat] = (await client.sendCommand([
        "HSCAN",
        this.hash,
        cursor,
        "COUNT",
        SCAN_COUNT,
      ])) as [string, string[]];
      cursor = next;
      deliverTexts(
        flat.filter((_, i) => i % 2 === 1),
        this.state,
        this.deliver,
      );
    } while (cursor !== "0");
  }

  private async read(
    client: Client,
    from: string,
    epoch: number,
  ): Promise<void> {
    let id = from;
    try {
      while (epoch === this.epoch && !this.closed) {
        // A connection that died without closing (a partition, a stopped server) leaves the
        // blocking read unanswered: past its block and the command timeout it is an outage.
        const block = this.options.blockTime ?? BLOCK_MS;
        const reply = (await withTimeout(
          client.sendCommand([
            "XREAD",
            "COUNT",
            SCAN_COUNT,
            "BLOCK",
            String(block),
            "STREAMS",
            this.stream,
            id,
          ]),
          block + (this.options.connectTimeout ?? 1000),
        )) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        for (const [entryId] of entries) id = entryId;
        deliverTexts(
          entries.map(([, fields]) => fields[1]),
          this.state,
          this.deliver,
        );
      }
    } catch (error) {
      if (epoch === this.epoch && !this.closed) this.offline(error);
    }
  }

  private async send(): Promise<void> {
    const writer = this.writer;
    if (this.sending || !this.state.online || writer === undefined) return;
    this.sending = true;
    try {
      for (let edge; (edge = this.outbox[0]) !== undefined;) {
        // A server that accepts the connection and never answers (stopped, overloaded) must
        // not keep an edge "being sent" for ever: past the timeout it is an outage.
        await withTimeout(
          writer.sendCommand([
            "EVAL",
            WRITE,
            "2",
            this.hash,
            this.stream,
            edgeField(edge),
            encode(edge),
            String(this.options.streamLength ?? 10_000),
          ]),
          this.options.connectTimeout ?? 1000,
        );
        this.outbox.shift();
        this.state.sent++;
      }
    } catch (error) {
      this.offline(error);
    } finally {
      this.sending = false;
      this.state.queued = this.outbox.length;
    }
  }

  /** The connection failed or broke: keep edges in the outbox, try again later (unref'd). */
  private offline(error: unknown): void {
    this.state.online = false;
    this.state.lastError =
      error instanceof Error ? error.message : String(error);
    this.epoch++;
    this.teardown();
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(
      () => void this.connect(),
      this.options.retryInterval ?? 1000,
    );
    this.retry.unref();
  }

  private teardown(): void {
    for (const client of [this.writer, this.reader]) {
      try {
        client?.destroy();
      } catch {
        // Already closed.
      }
    }
    this.writer = undefined;
    this.reader = undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${ms} ms`)),
      ms,
    );
    timer.unref();
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
