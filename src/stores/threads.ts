// Worker threads of one process share one graph, with no store and no code: every thread under
// the register hook (a worker inherits it with `execArgv`) joins one BroadcastChannel.
//
//   ThreadHub    the main thread's keeper: it hears every thread's dependencies and keeps them
//                in the process's worker environment data (worker_threads.setEnvironmentData),
//                which Node copies into each worker as it is constructed. So a worker started
//                later has them all at its first acquisition — even from threads that have ended
//                — without waiting for the main thread: a busy main loop delays no worker.
//   ThreadStore  a thread's side, a Store like Redis's: publishes its new dependencies on the
//                channel and receives everyone else's live.
//
// Why a channel, not a SharedArrayBuffer table (DESIGN's sketch): it is the Store contract the
// Redis store keeps, so one shared graph and one compliance suite serve threads and processes.
// What it gives up: a dependency two running threads add at the same moment is checked by each
// when the other's arrives (a message later), not at once; and a worker constructed before the
// main thread's loop has handled a message another worker just sent starts without that one and
// receives it live.
//
// The main thread takes part only from its first worker on (process 'worker' event): until
// then it pays for nothing but an idle, unref'd channel; when it joins, its graph so far is
// published (sharing.ts).
import {
  BroadcastChannel,
  getEnvironmentData,
  isMainThread,
  setEnvironmentData,
} from "node:worker_threads";
import type { SharedEdge } from "../core/sharing.js";
import {
  deliverTexts,
  newStatus,
  type Store,
  type StoreStatus,
} from "./store.js";
import { edgeField, encode } from "./wire.js";

export const THREAD_CHANNEL = "waitgraph.threads/v1";

/** Entries the hub keeps (and each worker is handed): the shared graph's own bound. */
export const HUB_LIMIT = 1 << 18;

interface EdgeMessage {
  t: "edge";
  field: string;
  text: string;
}

function isEdgeMessage(x: unknown): x is EdgeMessage {
  const m = x as Partial<EdgeMessage> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    m.t === "edge" &&
    typeof m.field === "string" &&
    typeof m.text === "string"
  );
}

function internal(worker: unknown): boolean {
  const c = (worker as { constructor?: { name?: unknown } } | null)
    ?.constructor;
  return c?.name === "InternalWorker";
}

export class ThreadHub {
  private readonly fields = new Set<string>();
  /** Handed to every worker at its construction (environment data is copied then). */
  readonly texts: string[] = [];
  private readonly channel: BroadcastChannel;
  private readonly join: (worker?: unknown) => void;

  constructor(
    /** Called once, when the first worker is started: the main thread joins then. */
    onFirstWorker: () => Promise<void>,
    readonly name = THREAD_CHANNEL,
  ) {
    this.channel = new BroadcastChannel(name);
    this.channel.unref();
    this.channel.onmessage = (event) => {
      const m = (event as { data?: unknown }).data;
      if (isEdgeMessage(m)) this.keep(m.field, m.text);
    };
    setEnvironmentData(name, this.texts);
    // The main thread shares through another store already (connectStore in code), or some
    // other failure: its workers still share among themselves. Nothing here may reach the program.
    this.join = (worker?: unknown) => {
      // Node's own threads (the module hooks' InternalWorker) raise the event too.
      if (internal(worker)) return;
      process.removeListener("worker", this.join);
      void onFirstWorker().catch(() => {});
    };
    process.on("worker", this.join);
  }

  /** The main thread's own dependencies are kept at once (the channel would bring them later). */
  keep(field: string, text: string): void {
    if (this.fields.has(field) || this.texts.length >= HUB_LIMIT) return;
    this.fields.add(field);
    this.texts.push(text);
  }

  close(): void {
    process.removeListener("worker", this.join);
    this.channel.close();
  }
}

export class ThreadStore implements Store {
  private readonly state: StoreStatus = newStatus("threads:");
  private channel: BroadcastChannel | undefined;
  private deliver: ((edges: SharedEdge[]) => void) | undefined;
  private readonly pending: SharedEdge[] = [];
  private closed = false;

  constructor(
    readonly name = THREAD_CHANNEL,
    /** What was published before this thread joined: a worker's copy of the hub's entries. */
    private readonly history: () => unknown = () =>
      isMainThread ? undefined : getEnvironmentData(name),
    /** The main thread's hub, beside its own store. */
    private readonly hub?: ThreadHub,
  ) {}

  async open(deliver: (edges: SharedEdge[]) => void): Promise<void> {
    this.deliver = deliver;
    const channel = new BroadcastChannel(this.name);
    channel.unref();
    this.channel = channel;
    channel.onmessage = (event) => {
      const m = (event as { data?: unknown }).data;
      if (isEdgeMessage(m)) deliverTexts([m.text], this.state, this.deliver);
    };
    const history = this.history();
    if (Array.isArray(history)) deliverTexts(history, this.state, this.deliver);
    this.state.online = true;
    this.state.reached = true;
    for (const edge of this.pending.splice(0)) this.publish(edge);
  }

  publish(edge: SharedEdge): void {
    if (this.closed) {
      this.state.dropped++;
      return;
    }
    if (this.channel === undefined) {
      // Before open (sharing.ts publishes the graph so far as it attaches): sent at open.
      this.pending.push(edge);
      return;
    }
    const field = edgeField(edge);
    const text = encode(edge);
    this.hub?.keep(field, text);
    this.channel.postMessage({ t: "edge", field, text } satisfies EdgeMessage);
    this.state.sent++;
  }

  /** Posted messages are on their way at once; this waits a turn, for the channel to bring them. */
  async flush(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.deliver = undefined;
    this.state.online = false;
    this.channel?.close();
  }

  status(): StoreStatus {
    return { ...this.state };
  }
}
