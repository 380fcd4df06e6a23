// The kernel's self-test vocabulary (lib/locking-selftest.c), in waitgraph terms.
//
// The kernel declares static locks A, B, C, D (one class each: a static lock is keyed by its
// own address) and X1/X2, Y1/Y2, Z1/Z2 (two instances per class, initialised by one shared
// function), for each lock type. `World` builds the same set for each waitgraph lock type: A–D
// with a `LockClassKey` each, X*/Y*/Z* sharing one key per letter.
//
//   kernel           macro            waitgraph                                  lockdep read
//   spinlock         L / U            Mutex.acquire()                            0
//   rwlock_t write   WL / WU          RwLock({ recursiveRead: true }).acquireWrite()  0
//   rwlock_t read    RL / RU          RwLock({ recursiveRead: true }).acquireRead()   2 (the
//                                     selftest forces read_lock to be recursive)
//   mutex            ML / MU          Mutex.lock() (the guard style)             0
//   rwsem write      WSL / WSU        RwLock().acquireWrite()                    0
//   rwsem read       RSL / RSU        RwLock().acquireRead()                     1
//   (none)           SL / SU          Semaphore(1).acquire()                     0
//
// A column (the kernel's locking-selftest-<type>.h) binds LOCK / UNLOCK / RLOCK / WLOCK to one
// of these. Lock operations return the very promise acquire() returned, so `await LOCK("A")`
// in a scenario is the caller's continuation and holds A (reference/async-context.md): the
// release is recorded on the side, by instance, and UNLOCK(name) calls it. Unlocking a name
// that is not held calls its last releaser again, which is the kernel's double unlock.
import assert from "node:assert/strict";
import {
  LockClassKey,
  Mutex,
  detach,
  heldLocks,
  RwLock,
  Semaphore,
  tracker,
  type Policy,
  type ReportKind,
} from "../../src/index.js";

export const NAMES = [
  "A",
  "B",
  "C",
  "D",
  "X1",
  "X2",
  "Y1",
  "Y2",
  "Z1",
  "Z2",
] as const;
export type LockName = (typeof NAMES)[number];

type Unlock = () => void;
type Lock = (name: LockName) => Promise<unknown>;
type Unlocker = (name: LockName) => void;

interface ClassOpts {
  name: string;
  key: LockClassKey;
}

/** One kernel lock array (`lock_A … lock_Z2`): A–D a class each, X*, Y*, Z* a class per letter. */
function family<T>(
  prefix: string,
  make: (o: ClassOpts) => T,
): Record<LockName, T> {
  const shared = {
    X: new LockClassKey(),
    Y: new LockClassKey(),
    Z: new LockClassKey(),
  };
  const out = {} as Record<LockName, T>;
  for (const n of NAMES) {
    const letter = n[0] as "A" | "B" | "C" | "D" | "X" | "Y" | "Z";
    const key =
      letter === "X" || letter === "Y" || letter === "Z"
        ? shared[letter]
        : new LockClassKey();
    out[n] = make({ name: `${prefix}_${letter}`, key });
  }
  return out;
}

/** The kernel's static locks, for every lock type. */
export class Locks {
  readonly spin = family("spin", (o) => new Mutex(o));
  readonly rwlock = family(
    "rwlock",
    (o) => new RwLock({ ...o, recursiveRead: true }),
  );
  readonly mutex = family("mutex", (o) => new Mutex(o));
  readonly rwsem = family("rwsem", (o) => new RwLock(o));
  readonly sem = family("sem", (o) => new Semaphore(1, o));
}

/**
 * One CPU's view of the kernel's locks: the lock/unlock macros, and the releasers this CPU
 * holds. Two CPUs (two tasks) share `locks` but never each other's releasers.
 */
export class World {
  constructor(readonly locks: Locks = new Locks()) {}
  private readonly held = new Map<object, Unlock[]>();
  private readonly last = new Map<object, Unlock>();

  /** Returns `acquired` itself (so the awaiting caller holds the lock) and records its releaser. */
  private take<T>(
    lock: object,
    acquired: Promise<T>,
    unlockOf: (value: T) => Unlock,
  ): Promise<T> {
    acquired.then(
      (value) => {
        const stack = this.held.get(lock) ?? [];
        stack.push(unlockOf(value));
        this.held.set(lock, stack);
      },
      () => {},
    );
    return acquired;
  }

  private give(lock: object): void {
    const unlock = this.held.get(lock)?.pop() ?? this.last.get(lock);
    assert.ok(unlock, "the scenario unlocks a lock it never took");
    this.last.set(lock, unlock);
    unlock();
  }

  L: Lock = (n) =>
    this.take(this.locks.spin[n], this.locks.spin[n].acquire(), (r) => r);
  U: Unlocker = (n) => this.give(this.locks.spin[n]);
  RL: Lock = (n) =>
    this.take(
      this.locks.rwlock[n],
      this.locks.rwlock[n].acquireRead(),
      (r) => r,
    );
  RU: Unlocker = (n) => this.give(this.locks.rwlock[n]);
  WL: Lock = (n) =>
    this.take(
      this.locks.rwlock[n],
      this.locks.rwlock[n].acquireWrite(),
      (r) => r,
    );
  WU: Unlocker = (n) => this.give(this.locks.rwlock[n]);
  ML: Lock = (n) =>
    this.take(
      this.locks.mutex[n],
      this.locks.mutex[n].lock(),
      (g) => () => g.release(),
    );
  MU: Unlocker = (n) => this.give(this.locks.mutex[n]);
  RSL: Lock = (n) =>
    this.take(this.locks.rwsem[n], this.locks.rwsem[n].acquireRead(), (r) => r);
  RSU: Unlocker = (n) => this.give(this.locks.rwsem[n]);
  WSL: Lock = (n) =>
    this.take(
      this.locks.rwsem[n],
      this.locks.rwsem[n].acquireWrite(),
      (r) => r,
    );
  WSU: Unlocker = (n) => this.give(this.locks.rwsem[n]);
  SL: Lock = (n) =>
    this.take(this.locks.sem[n], this.locks.sem[n].acquire(), (r) => r);
  SU: Unlocker = (n) => this.give(this.locks.sem[n]);
}

export const COLUMNS = [
  "spin",
  "wlock",
  "rlock",
  "mutex",
  "wsem",
  "rsem",
  "sem",
] as const;
export type Column = (typeof COLUMNS)[number];

/** What a scenario body sees: the world's macros plus the column's LOCK / UNLOCK / RLOCK / WLOCK. */
export interface Kernel extends World {
  readonly column: Column;
  LOCK: Lock;
  UNLOCK: Unlocker;
  RLOCK: Lock;
  WLOCK: Lock;
  /** `LOCK(x); LOCK(y); UNLOCK(y); UNLOCK(x)`, in one async function (one task's flow). */
  LOCK_UNLOCK_2(x: LockName, y: LockName): Promise<void>;
}

/** The kernel's locking-selftest-<type>.h: which macros LOCK / UNLOCK / RLOCK / WLOCK stand for. */
export function kernel(column: Column, w: World = new World()): Kernel {
  const pick = (): [Lock, Unlocker, Lock, Lock] => {
    switch (column) {
      case "spin":
        return [w.L, w.U, w.L, w.L];
      case "wlock":
        return [w.WL, w.WU, w.RL, w.WL];
      case "rlock":
        return [w.RL, w.RU, w.RL, w.WL];
      case "mutex":
        return [w.ML, w.MU, w.ML, w.ML];
      case "wsem":
        return [w.WSL, w.WSU, w.RSL, w.WSL];
      case "rsem":
        return [w.RSL, w.RSU, w.RSL, w.WSL];
      case "sem":
        return [w.SL, w.SU, w.SL, w.SL];
    }
  };
  const [LOCK, UNLOCK, RLOCK, WLOCK] = pick();
  return Object.assign(w, {
    column,
    LOCK,
    UNLOCK,
    RLOCK,
    WLOCK,
    async LOCK_UNLOCK_2(x: LockName, y: LockName): Promise<void> {
      await LOCK(x);
      await LOCK(y);
      UNLOCK(y);
      UNLOCK(x);
    },
  });
}

/**
 * Runs `body` on a fresh tracker (the kernel's `reset_locks()` + `lockdep_reset()` between
 * cases) under `policy`, and returns the kinds of the reports it produced, in order. Unlike the
 * kernel, the first report does not turn checking off: every distinct report is recorded once.
 *
 * The body runs as a detached task: kernel cases end with locks still held, and a lock taken
 * synchronously (a trylock before the body's first `await`) belongs to the code that runs on —
 * here the test runner's flow, and so every later case — unless the body has a task of its own.
 */
export async function verdictOf(
  body: () => Promise<unknown> | unknown,
  policy: Policy = "silent",
): Promise<ReportKind[]> {
  assert.deepEqual(heldLocks(), [], "an earlier case leaked a held lock");
  tracker.reset();
  tracker.configure({ policy });
  try {
    await detach(body);
  } finally {
    tracker.configure({ policy: "silent" });
  }
  return tracker.reports().map((r) => r.kind);
}

/** The kernel's verdicts: FAILURE is one report of the given kind, SUCCESS none. */
export type Verdict = readonly ReportKind[];
export const SUCCESS: Verdict = [];
export const RECURSIVE: Verdict = ["recursive-locking"];
export const CIRCULAR: Verdict = ["circular-dependency"];
export const BAD_UNLOCK: Verdict = ["bad-unlock-balance"];

/** An expectation per column: `all` for every column, with per-column exceptions. */
export function perColumn(
  all: Verdict,
  except: Partial<Record<Column, Verdict>> = {},
): Record<Column, Verdict> {
  const out = {} as Record<Column, Verdict>;
  for (const c of COLUMNS) out[c] = except[c] ?? all;
  return out;
}

/** `[a, b, c]` → its six orders, named like the kernel's GENERATE_PERMUTATIONS_3_EVENTS (`_123` …). */
export function permutations3<T>(
  e1: T,
  e2: T,
  e3: T,
): { suffix: string; events: T[] }[] {
  const e = { 1: e1, 2: e2, 3: e3 } as const;
  return ["123", "132", "213", "231", "312", "321"].map((suffix) => ({
    suffix,
    events: [...suffix].map((d) => e[Number(d) as 1 | 2 | 3]),
  }));
}

/** A promise and its resolver, for handing control between two tasks without timers. */
export function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}
