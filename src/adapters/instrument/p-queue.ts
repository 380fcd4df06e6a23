// p-queue, instrumented without importing it (see ./async-mutex.ts for why).
//
// A queue is a semaphore class with `concurrency` permits: `add(fn)` asks for a permit and
// `fn` holds it while it runs. p-queue starts queued work from a microtask of whichever task
// finished last (p-queue #200); here `fn` runs as the task that added it, so what it takes is
// charged to that task. Adding to a queue from work running in it, then waiting, is recursive
// locking. A queue without a limit (the default, `Infinity`) never blocks and holds nothing,
// but its work is still charged to the task that added it.
//
// The permit is given back when `fn` settles, or when the library settles the promise `add`
// returned without running it to the end (a per-task `timeout`, an abort, a cleared queue
// never settles and never ran).
import { lockInit, type LockMap } from "../../core/seam.js";
import { DeadlockError, expected } from "../../core/errors.js";
import { readOptions } from "../../core/arguments.js";
import type { ClassOptions, Skip } from "../../core/lock-class.js";
import {
  endingError,
  endingValue,
  kTracked,
  namesAClass,
  runSubmitted,
  submit,
} from "../shared.js";
import {
  copyExports,
  isClassWith,
  standsFor,
  trackSafely,
  unrecognised,
} from "./exports.js";

/** A lock class as in waitgraph: `name`, `key` (the construction site by default). */
export type QueueOptions = Pick<ClassOptions, "name" | "key">;

type Task = (options: unknown) => unknown;
type Add = (fn: Task, options?: unknown) => Promise<unknown>;
interface QueueLike {
  add: Add;
  readonly concurrency: number;
}
interface State {
  map: LockMap | undefined;
  readonly raw: Add;
  /** The user's own track() named its class (see namesAClass). */
  named: boolean;
}

/** Tracks `queue` in place and returns it; its class is the caller of `skip`'s site. */
export function trackQueue<T extends object>(
  queue: T,
  opts: QueueOptions | undefined,
  skip: Skip,
): T {
  const q = queue as unknown as QueueLike;
  if (typeof q.add !== "function") throw expected("queue", "a PQueue", queue);
  // A lock class of an adapter takes a name and a key only; read once (arguments.ts).
  opts = readOptions(opts, ["name", "key"]);
  const tracked = (queue as { [kTracked]?: State })[kTracked];
  if (tracked !== undefined) {
    if (namesAClass(opts) && !tracked.named) {
      tracked.named = true;
      tracked.map = lockInit(queue, opts, "p-queue", skip) ?? tracked.map;
    }
    return queue;
  }
  const state: State = {
    map: lockInit(queue, opts, "p-queue", skip),
    raw: q.add,
    named: false,
  };
  Object.defineProperties(queue, {
    [kTracked]: { value: state },
    add: { value: add, writable: true, configurable: true },
  });
  return queue;
}

function add(this: QueueLike, fn: Task, options?: unknown): Promise<unknown> {
  const t = (this as QueueLike & { [kTracked]: State })[kTracked];
  if (typeof fn !== "function") return t.raw.call(this, fn, options);
  const s = submit(t.map, this, this.concurrency !== Infinity, true);
  if (s === undefined) return t.raw.call(this, fn, options);
  if (s instanceof DeadlockError) return Promise.reject(s);
  return t.raw
    .call(this, (arg) => runSubmitted(s, () => fn(arg)), options)
    .then(endingValue(s), endingError(s));
}

/**
 * The module `waitgraph/register` hands to an application that imports or requires p-queue:
 * a module whose default export is the PQueue class — p-queue 7 and later are ES modules, 6 is
 * CommonJS compiled from TypeScript (`exports.default`, `__esModule`).
 */
export function instrumentPQueue(lib: unknown): Record<string, unknown> {
  const ns = lib as { default?: unknown };
  if (
    typeof lib !== "object" ||
    lib === null ||
    !isClassWith(ns.default, ["add"])
  )
    throw unrecognised(
      "a module whose default export is the PQueue class, with an add() method",
      lib,
    );
  const Base = ns.default as new (options?: object) => object;
  const Tracked = class PQueue extends Base {
    constructor(options?: object) {
      super(options);
      trackSafely(() => trackQueue(this, undefined, Tracked));
    }
  };
  standsFor(Tracked, Base);
  return copyExports(ns, { default: Tracked });
}
