// What a store is: where the dependencies of every process that shares it meet (DESIGN
// "Beyond one isolate"). Each store runs test/stores/compliance.ts, the memory one included.
//
// The contract, for the watched program's sake: nothing here throws into it or keeps it running.
// `publish` returns at once; while the store is unreachable edges wait in a bounded outbox and
// are sent when it returns; `open` resolves when what others published is loaded, or when the
// connection failed (it retries in the background, unref'd), never rejects.
import type { SharedEdge } from "../core/sharing.js";
import { decode } from "./wire.js";

export interface StoreStatus {
  /** Where it is, without credentials. */
  readonly url: string;
  online: boolean;
  /** It was online at some point of this run. */
  reached: boolean;
  /** This process's edges: written to the store, waiting in the outbox, dropped (outbox full). */
  sent: number;
  queued: number;
  dropped: number;
  /** Edges read from the store, and entries skipped as unreadable (another version's, damaged). */
  received: number;
  unreadable: number;
  /** The last connection or command error, as its message. */
  lastError: string | undefined;
}

export interface Store {
  /**
   * Connects, delivers every edge the store holds, then each new one as it arrives (edges this
   * process published may come back: the shared graph ignores its own origin; and an edge may
   * come twice, around a reconnection: the shared graph knows it then). Resolves once the
   * first load is delivered or the first connection failed.
   */
  open(deliver: (edges: SharedEdge[]) => void): Promise<void>;
  publish(edge: SharedEdge): void;
  /** Waits at most `ms` for the outbox to reach the store; resolves with what is still queued. */
  flush(ms: number): Promise<number>;
  /** Stops delivering and lets go of the connection; later publishes are dropped. */
  close(): Promise<void>;
  status(): StoreStatus;
}

/** The outbox's bound: past it the oldest waiting edge is dropped (and counted). */
export const OUTBOX_LIMIT = 10_000;

export function newStatus(url: string): StoreStatus {
  return {
    url,
    online: false,
    reached: false,
    sent: 0,
    queued: 0,
    dropped: 0,
    received: 0,
    unreadable: 0,
    lastError: undefined,
  };
}

/** Decodes what a store read and hands the readable edges on, counting both kinds. */
export function deliverTexts(
  texts: readonly unknown[],
  state: StoreStatus,
  deliver: ((edges: SharedEdge[]) => void) | undefined,
): void {
  const edges: SharedEdge[] = [];
  for (const text of texts) {
    const edge = typeof text === "string" ? decode(text) : undefined;
    if (edge === undefined) state.unreadable++;
    else edges.push(edge);
  }
  state.received += edges.length;
  if (edges.length > 0) deliver?.(edges);
}

/**
 * Puts `edge` in a bounded outbox: past OUTBOX_LIMIT the oldest waiting edge is dropped. A
 * closed store takes nothing. Returns whether the edge was queued.
 */
export function enqueue(
  outbox: SharedEdge[],
  edge: SharedEdge,
  state: StoreStatus,
  closed: boolean,
): boolean {
  if (closed) {
    state.dropped++;
    return false;
  }
  outbox.push(edge);
  if (outbox.length > OUTBOX_LIMIT) {
    outbox.shift();
    state.dropped++;
  }
  state.queued = outbox.length;
  return true;
}
