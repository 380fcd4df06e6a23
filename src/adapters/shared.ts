// What every adapter shares: the acquire flow of a library's promise API, releasers that
// report, releases without a token, and work submitted to a limiter.
//
// An adapter keeps the library's lock and only reports to the seam around it: the library
// still decides who gets in and when. Two shapes of library exist.
//
//  * Locks (async-mutex): acquire() resolves once granted and the caller's continuation holds
//    the lock until it calls a releaser. The promise handed back is tagged (`lockContended`), so
//    that continuation — and only it, never a Promise.all sibling — holds the lock.
//  * Queues (async-lock, p-limit, p-queue): the caller hands over a function and the library
//    runs it later, from whichever task freed the slot. That work is charged to the task that
//    submitted it, holding the permit (`runAsSubmitter`): p-queue #200 is the bug of charging
//    it to the drainer.
//
// Submitting is validated like an acquire: a limited function that submits to its own limiter
// is recursive locking (the self-starvation of p-limit #91). As for every held-set tracker,
// "will be waited for" is approximated by "was submitted while holding" (async-context §4): a
// fire-and-forget submission from inside held work is reported too; `detach(fn)` opts out.
import {
  tracking,
  lockAcquire,
  lockContended,
  lockAcquired,
  lockRelease,
  type HeldLock,
  type LockMap,
} from "../core/seam.js";
import {
  submitter,
  runAsSubmitter,
  onFrame,
  type Frame,
} from "../core/flows.js";
import { DeadlockError } from "../core/errors.js";
import { stackBelow, type Trace } from "../core/stack.js";

/** Frames of the instrumented libraries, dropped from the stacks a report shows. */
const LIBRARY_FRAME =
  /[\\/]node_modules[\\/](?:async-mutex|async-lock|p-limit|p-queue|yocto-queue|redlock[^\\/]*|bluebird)[\\/]/;

/**
 * The running stack without the libraries' frames (async-lock's multi-key acquire, p-queue's
 * addAll and redlock 5's `using` reach the lock through the library): a report starts at the
 * user's line.
 * Called only when the validator needs a stack (a chain it has not seen); formatted later.
 * Locks the user calls directly (async-mutex, p-limit) skip it: no library frame can be there.
 */
export function librarySite(): Trace {
  const holder = stackBelow(librarySite, 48);
  let text: string | undefined;
  return {
    get stack(): string {
      text ??= (holder.stack ?? "")
        .split("\n")
        .filter((line) => !LIBRARY_FRAME.test(line))
        .join("\n");
      return text;
    },
  };
}

/**
 * A user's `track(x, { name })` or `{ key }` on an object \`waitgraph/register\` already
 * instrumented: the user's class replaces the construction-site class register gave it (once),
 * as the pool adapters do. Holds taken before keep the class they were taken with.
 */
export function namesAClass(
  opts: { name?: string; key?: unknown } | undefined,
): boolean {
  return (
    opts !== undefined && (opts.name !== undefined || opts.key !== undefined)
  );
}

/** Marks an object an adapter instruments (shared by every installed copy of waitgraph). */
export const kTracked: unique symbol = Symbol.for(
  "waitgraph.adapter/v1",
) as never;

/** A tracked lock as the seam knows it: its class and the instance that stands for it. */
export interface LockCore {
  /** Replaced once when a user's own `track(x, { name | key })` names an instrumented lock. */
  map: LockMap | undefined;
  readonly instance: object;
  /** Granted holds not released yet, oldest first: what a release without a token releases. */
  readonly grants: Set<Grant>;
  /**
   * True while a reporting releaser calls the library's: a library releaser may release
   * through the instance's own `release` (async-mutex's Semaphore does), which is tracked
   * as a release without a token and must not release a second hold.
   */
  releasing: boolean;
}

export interface Grant {
  readonly hold: HeldLock;
  released: boolean;
}

export function lockCore(map: LockMap | undefined, instance: object): LockCore {
  return { map, instance, grants: new Set(), releasing: false };
}

/**
 * An acquisition through a library's promise API: validated before the caller blocks (as
 * lockdep's lock_acquire), granted when the library resolves, abandoned when it rejects
 * (timeout, cancel). `onGrant` wraps what the library resolved to, usually its releaser.
 * Under `policy: 'throw'` a deadlock rejects with DeadlockError and the library is not asked.
 */
export function acquireVia<T>(
  core: LockCore,
  trylock: boolean,
  start: () => Promise<T>,
  onGrant: (value: T, grant: Grant, core: LockCore) => T,
): Promise<T> {
  if (core.map === undefined || !tracking.on) return start();
  const attempt = lockAcquire(core.map, core.instance, 0, undefined, trylock);
  if (attempt instanceof DeadlockError) return Promise.reject(attempt);
  if (attempt === undefined) return start();
  const hold = attempt;
  let asked: Promise<T>;
  try {
    asked = start();
  } catch (error) {
    lockRelease(hold, "abandoned");
    throw error;
  }
  const granted = asked.then(
    (value) => {
      lockAcquired(hold);
      const grant: Grant = { hold, released: false };
      core.grants.add(grant);
      return onGrant(value, grant, core);
    },
    (error: unknown) => {
      lockRelease(hold, "abandoned");
      throw error;
    },
  );
  lockContended(hold, granted);
  return granted;
}

/** Reports the release of `grant` once; the library's own release is the caller's business. */
export function releaseGrant(core: LockCore, grant: Grant): void {
  if (grant.released) return;
  grant.released = true;
  core.grants.delete(grant);
  lockRelease(grant.hold);
}

/** A releaser that reports, then calls the library's (which keeps its own idempotence). */
export function reportingReleaser(
  core: LockCore,
  grant: Grant,
  release: () => void,
): () => void {
  return () => {
    releaseGrant(core, grant);
    core.releasing = true;
    try {
      release();
    } finally {
      core.releasing = false;
    }
  };
}

/**
 * A release without a token (`mutex.release()`, `semaphore.release(n)`): the libraries have no
 * owner, so it releases the hold of the running task if it has one, else the oldest grant.
 */
export function releaseTokenless(core: LockCore): void {
  if (core.grants.size === 0 || core.releasing) return;
  let chosen: Grant | undefined;
  const frame = submitter();
  if (frame !== undefined)
    for (const grant of core.grants)
      if (onFrame(frame, grant.hold)) {
        chosen = grant;
        break;
      }
  chosen ??= core.grants.values().next().value;
  if (chosen !== undefined) releaseGrant(core, chosen);
}

/** Work submitted to a limiter: the submitter's held list and the permit it will run under. */
export interface Submission {
  readonly frame: Frame | undefined;
  readonly hold: HeldLock | undefined;
  ran: boolean;
  ended: boolean;
  /** Called once when the permit is given back (or the work will never run). */
  onEnd: (() => void) | undefined;
}

/**
 * Validates a submission to a limiter of class `map` (a permit acquisition by the submitting
 * task). Returns undefined when nothing is tracked, a DeadlockError under `policy: 'throw'`.
 * A limiter without a limit (`concurrency: Infinity`) never blocks: `permit` false charges
 * the work to its submitter without a hold.
 */
export function submit(
  map: LockMap | undefined,
  instance: object,
  permit: boolean,
  throughLibrary: boolean,
): Submission | DeadlockError | undefined {
  if (map === undefined || !tracking.on) return undefined;
  const frame = submitter();
  let hold: HeldLock | undefined;
  if (permit) {
    const attempt = throughLibrary
      ? lockAcquire(map, instance, 0, undefined, false, librarySite)
      : lockAcquire(map, instance, 0, undefined, false);
    if (attempt instanceof DeadlockError) return attempt;
    hold = attempt;
  }
  return { frame, hold, ran: false, ended: false, onEnd: undefined };
}

/** Runs submitted work as its submitter, holding the permit; the caller ends the submission. */
export function enterSubmitted<T>(s: Submission, fn: () => T): T {
  s.ran = true;
  return runAsSubmitter(s.frame, s.hold, fn);
}

/** Runs submitted work as its submitter, holding the permit until its result settles. */
export function runSubmitted<T>(s: Submission, fn: () => T): T {
  let result: T;
  try {
    result = enterSubmitted(s, fn);
  } catch (error) {
    endSubmission(s);
    throw error;
  }
  return afterSettling(result, () => endSubmission(s));
}

/** The work finished, or will never run (timeout, abort, cleared): the permit is given back. */
export function endSubmission(s: Submission): void {
  if (s.ended) return;
  s.ended = true;
  if (s.hold !== undefined) {
    if (s.ran) lockRelease(s.hold);
    else lockRelease(s.hold, "abandoned");
  }
  s.onEnd?.();
}

/** Promise handlers that end a submission when the library settles its promise. */
export const endingValue =
  (s: Submission) =>
  <T>(value: T): T => {
    endSubmission(s);
    return value;
  };

export const endingError =
  (s: Submission) =>
  (error: unknown): never => {
    endSubmission(s);
    throw error;
  };

/** Calls `done` when `result` settles (now, if it is not a thenable); the outcome is unchanged. */
export function afterSettling<T>(result: T, done: () => void): T {
  if (
    result !== null &&
    (typeof result === "object" || typeof result === "function") &&
    typeof (result as { then?: unknown }).then === "function"
  ) {
    return (result as unknown as PromiseLike<unknown>).then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    ) as T;
  }
  done();
  return result;
}

/**
 * Set on what `waitgraph/register` hands out in place of a library's export: the export it
 * replaced. An adapter that imports a CommonJS library gets the instrumented exports when
 * register is active (one module cache) and extends the original through `originalOf`.
 */
export const kOriginal: unique symbol = Symbol.for(
  "waitgraph.original/v1",
) as never;

export function originalOf<T>(value: T): T {
  return ((value as { [kOriginal]?: T } | undefined)?.[kOriginal] ??
    value) as T;
}
