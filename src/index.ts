// waitgraph: lockdep and DEPT for async TypeScript. The public surface, named exports only.
import { tracker, task, bind, detach, heldLocks } from "./core/tracker.js";
import { assertion } from "./core/seam.js";
import { isLock } from "./core/class-options.js";
import { checkOneOf, expected } from "./core/arguments.js";
import { renderText } from "./report/text.js";
import { settingsFromEnvironment } from "./core/environment.js";

export { Mutex, type LockOptions } from "./primitives/mutex.js";
export { RwLock, type RwLockOptions } from "./primitives/rwlock.js";
export {
  Semaphore,
  type SemaphoreAcquireOptions,
} from "./primitives/semaphore.js";
export { Completion } from "./primitives/completion.js";
export { Condition } from "./primitives/condition.js";
export { deferred, type Deferred } from "./primitives/deferred.js";
export type { WaitOptions } from "./primitives/wait-queue.js";
export type { AcquireOptions, Release } from "./primitives/acquire.js";
export type { Guard } from "./primitives/guard.js";
export { LockClassKey } from "./core/lock-class.js";
export {
  connectStore,
  type ConnectOptions,
  type Store,
  type StoreHandle,
  type StoreStatus,
} from "./stores/connect.js";
export {
  WaitgraphError,
  InvalidArgumentError,
  ArgumentRangeError,
  DeadlockError,
  ReportError,
  TimeoutError,
} from "./core/errors.js";
export type { Policy } from "./core/policy.js";
export type { TrackerOptions, Snapshot, Stats } from "./core/tracker.js";
export type {
  Report,
  ReportKind,
  SourceFrame,
  ClassRef,
  LockRef,
  ChainLink,
  RecursiveLockingReport,
  CircularDependencyReport,
  BadUnlockBalanceReport,
  HeldAtTaskEndReport,
  AssertionFailedReport,
  NestLockNotHeldReport,
  InvalidAnnotationReport,
  LimitExceededReport,
  InternalErrorReport,
} from "./core/report.js";
export { tracker, task, bind, detach, heldLocks };

tracker.setRenderer(renderText);
tracker.configure(settingsFromEnvironment(process.env));

/** Reports `assertion-failed` unless the current task holds `lock` (in `mode`, if given). */
export function assertHeld(lock: object, mode?: "read" | "write"): void {
  if (!isLock(lock)) throw expected("lock", "a waitgraph lock", lock);
  checkOneOf("mode", mode, ["read", "write"]);
  assertion(
    lock,
    mode === "read" ? "held-read" : mode === "write" ? "held-write" : "held",
  );
}

/** Reports `assertion-failed` if the current task holds `lock`. */
export function assertNotHeld(lock: object): void {
  if (!isLock(lock)) throw expected("lock", "a waitgraph lock", lock);
  assertion(lock, "not-held");
}
