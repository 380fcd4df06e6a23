// The in-memory store: one hub in this process that any number of MemoryStores share, as
// processes share a Redis. It runs the compliance suite like every store, so the shared graph's
// rules can be tested without a server, and it can be paused to play an outage.
import type { SharedEdge } from "../core/sharing.js";
import {
  deliverTexts,
  enqueue,
  newStatus,
  type Store,
  type StoreStatus,
} from "./store.js";
import { edgeField, encode } from "./wire.js";

const RETRY_MS = 20;

export class MemoryHub {
  /** Entries by dedup field (wire.ts): the first writer of an edge bit wins. */
  readonly entries = new Map<string, string>();
  private readonly listeners = new Set<(text: string) => void>();
  down = false;

  /** Stores `text` under `field` unless present; tells every other listener of a new entry. */
  put(field: string, text: string, from?: (text: string) => void): void {
    if (this.entries.has(field)) return;
    this.entries.set(field, text);
    for (const l of this.listeners) if (l !== from) l(text);
  }

  listen(listener: (text: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class MemoryStore implements Store {
  private readonly state: StoreStatus = newStatus("memory:");
  private readonly outbox: SharedEdge[] = [];
  private deliver: ((edges: SharedEdge[]) => void) | undefined;
  private unlisten: (() => void) | undefined;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly hub: MemoryHub) {}

  async open(deliver: (edges: SharedEdge[]) => void): Promise<void> {
    this.deliver = deliver;
    this.connect();
  }

  /** Connects when the hub is up: loads what it holds, listens, sends the outbox. */
  private connect(): void {
    if (this.closed || this.state.online) return;
    if (this.hub.down) return this.retryLater();
    this.state.online = true;
    this.state.reached = true;
    deliverTexts([...this.hub.entries.values()], this.state, this.deliver);
    this.unlisten = this.hub.listen(this.listener);
    this.send();
  }

  private readonly listener = (text: string): void => {
    if (this.hub.down) return this.disconnect();
    deliverTexts([text], this.state, this.deliver);
  };

  private disconnect(): void {
    this.state.online = false;
    this.unlisten?.();
    this.unlisten = undefined;
    this.retryLater();
  }

  /** As a networked store does: try again on an unref'd timer. */
  private retryLater(): void {
    if (this.closed || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, RETRY_MS);
    this.retry.unref();
  }

  publish(edge: SharedEdge): void {
    if (!enqueue(this.outbox, edge, this.state, this.closed)) return;
    this.connect();
    this.send();
  }

  private send(): void {
    if (this.hub.down) this.disconnect();
    if (!this.state.online) {
      this.state.queued = this.outbox.length;
      return;
    }
    for (let edge; (edge = this.outbox.shift()) !== undefined;) {
      this.hub.put(edgeField(edge), encode(edge), this.listener);
      this.state.sent++;
    }
    this.state.queued = 0;
  }

  async flush(): Promise<number> {
    this.connect();
    this.send();
    return this.outbox.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.disconnect();
    this.deliver = undefined;
  }

  status(): StoreStatus {
    return { ...this.state };
  }
}
