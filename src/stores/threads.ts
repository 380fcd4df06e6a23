// Worker threads of one process share one graph, with no store and no code: every thread under
// the register hook (a worker inherits it with `execArgv`) joins one BroadcastChannel.
//
//   ThreadHub    the main thread's keeper: it hears every thread's dependencies and keeps them,
//                so a worker started later gets them all before its program runs (the hook
//                awaits the answer to its hello), even from threads that have ended.
//   ThreadStore  a thread's side, a Store like Redis's: publishes its new dependencies on the
//                channel and receives everyone else's live.
//
// Why a channel, not a SharedArrayBuffer table (DESIGN's sketch): it is the Store contract the
// Redis store keeps, so one shared graph and one compliance suite serve threads and processes;
// a worker checks against every dependency published before it started at its first
// acquisition, as a process does. What it gives up: a dependency two running threads add at the
// same moment is checked by each when the other's arrives (a message later), not at once.
//
// The main thread takes part only once a worker has said hello: until then it pays for nothing
// but an idle, unref'd channel; when it joins, its graph so far is published (sharing.ts).
import { BroadcastChannel, isMainThread } from "node:worker_threads";
import type { SharedEdge } from "../core/sharing.js";
import { newStatus, type Store, type StoreStatus } from "./store.js";
import { decode, edgeField, encode } from "./wire.js";

export const THREAD_CHANNEL = "waitgraph.threads/v1";

/** How long a worker's hook waits for the main thread's answer before its program starts. */
export const HELLO_MS = 2000;

type Message =
  | { t: "edge"; field: string; text: string }
  | { t: "hello"; from: string }
  | { t: "history"; to: string; texts: string[] };

function isMessage(x: unknown): x is Message {
  const m = x as Partial<Record<string, unknown>> | null;
  return typeof m === "object" && m !== null && typeof m["t"] === "string";
}

export class ThreadHub {
  private readonly entries = new Map<string, string>();
  private readonly channel: BroadcastChannel;
  private joined = false;

  constructor(
    /** Called at the first hello, before it is answered: the main thread joins then. */
    private readonly onFirstWorker: () => Promise<void>,
    name = THREAD_CHANNEL,
  ) {
    this.channel = new BroadcastChannel(name);
    this.channel.unref();
    this.channel.onmessage = (event) => void this.heard(event);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The main thread's own dependencies, kept at once (the channel would bring them a tick late). */
  keep(field: string, text: string): void {
    if (!this.entries.has(field)) this.entries.set(field, text);
  }

  close(): void {
    this.channel.close();
  }

  private async heard(event: unknown): Promise<void> {
    const m = (event as { data?: unknown }).data;
    if (!isMessage(m)) return;
    if (m.t === "edge" && typeof m.field === "string")
      this.keep(m.field, m.text);
    else if (m.t === "hello") {
      if (!this.joined) {
        this.joined = true;
        // The main thread shares through another store already (connectStore in code): its
        // workers still get what the hub heard. Nothing here may reach the program.
        await this.onFirstWorker().catch(() => {});
      }
      this.channel.postMessage({
        t: "history",
        to: m.from,
        texts: [...this.entries.values()],
      } satisfies Message);
    }
  }
}

export class ThreadStore implements Store {
  private readonly state: StoreStatus = newStatus("threads:");
  private channel: BroadcastChannel | undefined;
  private deliver: ((edges: SharedEdge[]) => void) | undefined;
  private readonly pending: SharedEdge[] = [];
  private closed = false;

  constructor(
    /** Unique per thread: the hello's answer is addressed to it. */
    private readonly id: string,
    /** Waits for the hub's history (a worker); the main thread's store has the hub beside it. */
    private readonly askHistory = !isMainThread,
    private readonly name = THREAD_CHANNEL,
    /** The main thread's hub, beside its own store. */
    private readonly hub?: ThreadHub,
  ) {}

  async open(deliver: (edges: SharedEdge[]) => void): Promise<void> {
    this.deliver = deliver;
    const channel = new BroadcastChannel(this.name);
    channel.unref();
    this.channel = channel;
    let answered: (() => void) | undefined;
    channel.onmessage = (event) => {
      const m = (event as { data?: unknown }).data;
      if (!isMessage(m)) return;
      if (m.t === "edge") this.receive([m.text]);
      else if (m.t === "history" && m.to === this.id) {
        this.receive(m.texts);
        answered?.();
      }
    };
    this.state.online = true;
    for (const edge of this.pending.splice(0)) this.publish(edge);
    if (!this.askHistory) return;
    // A ref'd timer holds the thread while it waits (the channel is unref'd).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      answered = resolve;
      timer = setTimeout(() => {
        this.state.lastError = `no answer from the main thread within ${HELLO_MS} ms (is it under the register hook?)`;
        resolve();
      }, HELLO_MS);
      channel.postMessage({ t: "hello", from: this.id } satisfies Message);
    });
    clearTimeout(timer);
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
    this.channel.postMessage({ t: "edge", field, text } satisfies Message);
    this.state.sent++;
  }

  async flush(): Promise<number> {
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

  private receive(texts: string[]): void {
    const edges: SharedEdge[] = [];
    for (const text of texts) {
      const edge = typeof text === "string" ? decode(text) : undefined;
      if (edge === undefined) this.state.unreadable++;
      else edges.push(edge);
    }
    this.state.received += edges.length;
    if (edges.length > 0) this.deliver?.(edges);
  }
}
