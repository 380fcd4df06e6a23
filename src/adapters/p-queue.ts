// waitgraph/adapters/p-queue: p-queue's PQueue, reporting to waitgraph. Drop-in: the same
// constructor (plus lock class options last), methods and events, `instanceof` the library's.
//
//   import PQueue from "waitgraph/adapters/p-queue";
//   const queue = new PQueue({ concurrency: 2 }, { name: "uploads" });
//
// A queue with a limit is a semaphore class; work added to it runs as the task that added it.
// `track(queue, opts)` tracks a PQueue made with the library itself, in place.
import LibPQueue, {
  type Options,
  type Queue,
  type QueueAddOptions,
} from "p-queue";
import { trackQueue, type QueueOptions } from "./instrument/p-queue.js";

export { PriorityQueue, TimeoutError } from "p-queue";
export type { Options, Queue, QueueAddOptions, QueueOptions };

export default class PQueue<
  QueueType extends Queue<() => Promise<unknown>, EnqueueOptionsType> =
    import("p-queue").PriorityQueue,
  EnqueueOptionsType extends QueueAddOptions = QueueAddOptions,
> extends LibPQueue<QueueType, EnqueueOptionsType> {
  constructor(
    options?: Options<QueueType, EnqueueOptionsType>,
    lockOptions?: QueueOptions,
  ) {
    super(options);
    trackQueue(this, lockOptions, PQueue);
  }
}

export { PQueue };

/** Tracks a PQueue made with p-queue itself; returns it. */
export function track<T extends InstanceType<typeof LibPQueue>>(
  queue: T,
  opts?: QueueOptions,
): T {
  return trackQueue(queue, opts, track);
}
