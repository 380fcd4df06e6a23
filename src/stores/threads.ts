// Worker threads of one process share one graph, with no store and no code: every thread under
// the register hook (a worker inherits it with `execArgv`) joins.
//
//   ThreadHub    the main thread's: a SharedLog (a SharedArrayBuffer) in the process's worker
//                environment data, which Node shares with each worker as it is constructed.
//                Every thread appends its new dependencies to it, synchronously, so a worker
//                started later reads them all at its start — even from threads that have ended,
//                and whatever the main thread's event loop is doing.
//   ThreadStore  a thread's side, a Store like Redis's: appends each new dependency to the log
//                and posts it on one BroadcastChannel, so threads running at the same time
//                receive each other's live.
//
// What a running thread cannot have at once: a dependency another running thread adds at the
// same moment is checked by each when the other's message arrives, not at the acquisition.
// (A log holds texts, not a graph: each thread builds the shared graph from them, the same
// way for threads and processes, and the stores run one compliance suite.)
//
// The main thread takes part only from its first worker on (process 'worker' event): until
// then it pays for nothing but an untouched buffer; when it joins, its graph so far is
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
import { SharedLog } from "./shared-log.js";
import { decode, edgeField, encode } from "./wire.js";

export const THREAD_CHANNEL = "waitgraph.threads/v1";

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
  /** Every thread's dependencies, handed to each worker in its environment data. */
  readonly log = new SharedLog();
  private readonly join: (worker?: unknown) => void;

  constructor(
    /** Called once, when the first worker is started: the main thread joins then. */
    onFirstWorker: () => Promise<void>,
    readonly name = THREAD_CHANNEL,
  ) {
    // The buffer is shared, not copied: a worker reads what every thread wrote up to now.
    setEnvironmentData(name, this.log.buffer);
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

  close(): void {
    process.removeListener("worker", this.join);
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
    /** The threads' log: the main thread's hub's, or a worker's from its environment data. */
    private readonly log: SharedLog | undefined = isMainThread
      ? undefined
      : SharedLog.from(getEnvironmentData(name)),
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
    // First writer of each field wins, as in the other stores; the log keeps every append.
    const seen = new Set<string>();
    const history = (this.log?.read() ?? []).filter((text) => {
      const edge = decode(text);
      if (edge === undefined) return true;
      const field = edgeField(edge);
      if (seen.has(field)) return false;
      seen.add(field);
      return true;
    });
    deliverTexts(history, this.state, this.deliver);
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
    // Into the log first: a worker constructed from now on has it, whatever the channel does.
    if (this.log !== undefined && !this.log.append(text)) this.state.dropped++;
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
