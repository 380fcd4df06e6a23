// PostgreSQL advisory locks, seen through the queries a tracked pg client or pool runs. Each
// advisory key is a lock class with a stable string key — `pg advisory 42`, `pg advisory 1,2`
// (the two-int form) — so that two processes, or two runs merged with `waitgraph merge`, name
// the same lock the same way; `advisoryClass(key)` groups keys into classes of the user's.
//
//   const client = await pool.connect();
//   await client.query("select pg_advisory_lock(1)");   // holds `pg advisory 1`
//   await client.query("select pg_advisory_lock($1)", [2]); // 1 → 2
//   … elsewhere: 2 then 1 → circular-dependency, from a run that never blocked
//
// What PostgreSQL does, and how it maps (the PostgreSQL manual, "Advisory Locks" and the
// functions' table; lockdep's read rules from reference/lockdep-dept-semantics.md):
//
//  * A lock belongs to a session (a connection), not to a statement. The flow that awaited the
//    query holds it, from the answer on. Session-level locks stay held until unlocked, and a
//    session counts re-locks of a key: `lock(1); lock(1); unlock(1)` still holds 1. A re-lock by
//    the session that holds the key never waits (a backend's own locks never conflict with its
//    requests), so it is counted, not validated. The same key from a second session of the
//    same flow waits for the first: recursive-locking, as it should be.
//  * Transaction-level locks (`pg_advisory_xact_lock…`) end at COMMIT, ROLLBACK, END, ABORT or
//    PREPARE TRANSACTION, and with the client (released or ended); outside a transaction block
//    they end with their own statement (autocommit). Unlock functions do not touch them.
//  * `…_shared` is a read lock, taken as a recursive read (read mode 2). PostgreSQL queues a
//    shared request behind a waiting exclusive one, as a fair rwsem does (which lockdep models
//    as read mode 1), but its deadlock detector resolves a cycle made only of such queue-order
//    ("soft") edges by reordering the wait queue (src/backend/storage/lmgr/README, "Deadlock
//    detection"): shared holders never deadlock with each other. So shared/shared in opposite
//    orders is no cycle, exclusive-then-shared against shared-then-exclusive is none either
//    (the shared request is granted beside the shared holder), and a cycle with an exclusive
//    request waiting on a held lock at each end is reported — lockdep's strong-path rule.
//    Not proved: a cycle through a lock PostgreSQL cannot see (a Mutex) and a shared advisory
//    lock with a writer queued on it hangs, and mode 2 does not report it; mode 1 would, and
//    would report every healthy shared/shared pair too. No false report is the choice made.
//  * ROLLBACK TO a savepoint ends every transaction-level hold (which ones were taken after the
//    savepoint is not tracked): a possible miss, never a false dependency. `… AND CHAIN` ends a
//    transaction and begins the next.
//  * `pg_try_advisory_lock…` is a trylock: held only when its one result row says `true`.
//  * `pg_advisory_unlock(k)` / `_shared(k)` end one count of the session's hold when its
//    result says `true` (PostgreSQL answers `false`, with a warning, for a key the session does
//    not hold: then nothing changes). `pg_advisory_unlock_all()` ends every session-level count.
//
// Decoding is deliberately narrow: one `SELECT <function>(<args>) [[AS] alias]` statement,
// whose keys are integer literals or `$n` parameters with an integer in the values array
// (a number, a bigint or a string of digits), optionally cast (`$1::bigint`). Anything else —
// `hashtext($1)`, two statements in one text, a cursor — is left untracked: never guessed,
// never an error in the user's query.
import {
  tracking,
  lockInit,
  lockAcquire,
  lockContended,
  lockAcquired,
  lockRelease,
  type HeldLock,
  type LockMap,
} from "../core/seam.js";
import { internalError } from "../core/findings.js";
import { KeyClasses, KeyTokens, OVERFLOW } from "./key-classes.js";
import { DeadlockError } from "../core/errors.js";
import { checkFunction, expected } from "../core/arguments.js";

/** Groups advisory keys (`"42"`, `"1,2"`) into classes; undefined keeps the key's own class. */
export type AdvisoryClass = (key: string) => string | undefined;

/** Validates the `advisoryClass` option of trackPool / trackClient. */
export function checkAdvisoryClass(value: unknown): void {
  checkFunction("advisoryClass", value);
}

/** One decoded advisory function call. */
export interface AdvisoryOp {
  readonly kind: "lock" | "unlock" | "unlock-all";
  /** Transaction-level (`_xact_`). */
  readonly xact: boolean;
  readonly shared: boolean;
  readonly trylock: boolean;
  /** `"42"` or `"1,2"`; undefined for unlock-all. */
  readonly key: string | undefined;
}

const ARG = String.raw`\s*((?:-|\+)?\d+|'[-+]?\d+'|\$\d+)(?:\s*::\s*(?:bigint|int8|integer|int4|int))?\s*`;
const CALL = new RegExp(
  String.raw`^\s*select\s+(?:pg_catalog\s*\.\s*)?pg_(try_)?advisory_(xact_)?(lock|unlock|unlock_all)(_shared)?\s*\((?:${ARG}(?:,${ARG})?)?\)` +
    String.raw`(?:\s+(?:as\s+)?(?:[a-z_][a-z0-9_$]*|"[^"]+"))?\s*;?\s*$`,
  "i",
);

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
const INT4_MIN = -(2n ** 31n);
const INT4_MAX = 2n ** 31n - 1n;

/**
 * The advisory call `text` makes with `values`, or undefined when it is none or cannot be
 * decoded exactly. `select pg_advisory_lock(1)` → lock of "1"; `select pg_try_advisory_xact_lock($1, $2)`
 * with `[1, 2]` → a transaction-level trylock of "1,2".
 */
export function decodeAdvisory(
  text: unknown,
  values: unknown,
): AdvisoryOp | undefined {
  if (typeof text !== "string" || text.length > 512) return undefined;
  const m = CALL.exec(text);
  if (m === null) return undefined;
  const [, tryPart, xactPart, fn, sharedPart, a1, a2] = m;
  const name = fn!.toLowerCase();
  const trylock = tryPart !== undefined;
  const xact = xactPart !== undefined;
  const shared = sharedPart !== undefined;
  if (name === "unlock_all") {
    // Only `pg_advisory_unlock_all()` exists: no try/xact/shared variant, no arguments.
    if (trylock || xact || shared || a1 !== undefined) return undefined;
    return { kind: "unlock-all", xact, shared, trylock, key: undefined };
  }
  if (name === "unlock" && (trylock || xact)) return undefined;
  if (a1 === undefined) return undefined;
  const k1 = integerOf(a1, values);
  if (k1 === undefined) return undefined;
  let key: string;
  if (a2 === undefined) {
    if (k1 < INT8_MIN || k1 > INT8_MAX) return undefined;
    key = String(k1);
  } else {
    const k2 = integerOf(a2, values);
    if (k2 === undefined) return undefined;
    if ([k1, k2].some((k) => k < INT4_MIN || k > INT4_MAX)) return undefined;
    key = `${k1},${k2}`;
  }
  return {
    kind: name === "lock" ? "lock" : "unlock",
    xact,
    shared,
    trylock,
    key,
  };
}

/** An argument's integer: a literal, a quoted literal, or `$n` of `values`. */
function integerOf(arg: string, values: unknown): bigint | undefined {
  if (arg.startsWith("$")) {
    if (!Array.isArray(values)) return undefined;
    const v: unknown = values[Number(arg.slice(1)) - 1];
    if (typeof v === "bigint") return v;
    if (typeof v === "number")
      return Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v))
      return BigInt(v.trim());
    return undefined;
  }
  return BigInt(arg.replaceAll("'", ""));
}

/**
 * A transaction-control statement, by its first words: where transaction-level locks end.
 * `chain`: COMMIT/ROLLBACK … AND CHAIN end one transaction and begin the next at once.
 * `rollback-to`: ROLLBACK TO a savepoint releases the transaction-level locks taken since it;
 * which those are is not tracked, so all of them stop counting — a possible miss (a lock taken
 * before the savepoint is held on), never a false dependency.
 */
export type TransactionVerb = "begin" | "end" | "chain" | "rollback-to";

export function transactionVerb(text: unknown): TransactionVerb | undefined {
  if (typeof text !== "string" || text.length > 256) return undefined;
  // One statement only: `begin; select …` is not decoded (its locks are not either).
  if (/;\s*\S/.test(text)) return undefined;
  if (/^\s*(?:begin|start\s+transaction)\b/i.test(text)) return "begin";
  const ends = /^\s*(?:commit|end|abort|rollback)\b/i.test(text);
  const chain = /\band\s+chain\s*;?\s*$/i.test(text);
  if (/^\s*(?:commit|rollback)\s+prepared\b/i.test(text)) return undefined;
  if (/^\s*rollback\s+(?:(?:work|transaction)\s+)?to\b/i.test(text))
    return "rollback-to";
  if (ends) return chain ? "chain" : "end";
  if (/^\s*prepare\s+transaction\b/i.test(text)) return "end";
  return undefined;
}

// ---- classes and instances ---------------------------------------------------------------

/** Key classes before new keys share one overflow class (the async-lock adapter's rule). */
const KEY_CLASSES = 256;
// The map belongs to the key class (capacity 1: one exclusive holder at a time).
const classes = new KeyClasses(
  KEY_CLASSES,
  () => ({
    id: "pg-advisory-keys",
    className: `pg advisory ${OVERFLOW}`,
    limit:
      "pg advisory key classes (past it, new keys are not checked; give trackPool an advisoryClass that groups keys)",
  }),
  (cls, validate) => {
    const name = `pg advisory ${cls}`;
    return lockInit(
      { advisory: cls },
      { key: name, name, ...(validate ? {} : { validate: false }) },
      "pg-advisory",
      classMap,
      1,
    );
  },
);
/** One instance per key in use: "same instance" means the same advisory lock. */
const tokens = new KeyTokens((key) => ({ advisory: key }));

function classMap(
  key: string,
  classOf: AdvisoryClass | undefined,
): LockMap | undefined | null {
  let cls = key;
  if (classOf !== undefined) {
    let named: unknown;
    try {
      named = classOf(key);
    } catch (error) {
      // The user's function failed: this query is left untracked, never failed.
      internalError(
        new Error(
          `advisoryClass(${JSON.stringify(key)}) threw: ${String(error)}`,
        ),
      );
      return null;
    }
    if (named !== undefined) {
      if (typeof named !== "string" || named.length === 0) {
        internalError(
          expected(
            "advisoryClass(key)",
            "a non-empty string or undefined",
            named,
          ),
        );
        return null;
      }
      cls = named;
    }
  }
  return classes.mapOf(cls);
}

// ---- sessions ----------------------------------------------------------------------------

/** What one session (connection) holds of a key: one hold, and PostgreSQL's counts. */
interface Entry {
  readonly hold: HeldLock;
  exclusive: number;
  shared: number;
  xact: number;
}

/** One connection's advisory locks, as far as waitgraph tracked them. */
export class Session {
  readonly keys = new Map<string, Entry>();
  inTransaction = false;

  holds(key: string): boolean {
    return this.keys.has(key);
  }

  /** A re-lock by this session: counted, never a wait. */
  relock(op: AdvisoryOp): void {
    const entry = this.keys.get(op.key!);
    if (entry !== undefined) count(entry, op, +1);
  }

  /** A new hold of `op.key`, granted. */
  add(op: AdvisoryOp, hold: HeldLock): void {
    const entry: Entry = { hold, exclusive: 0, shared: 0, xact: 0 };
    count(entry, op, +1);
    this.keys.set(op.key!, entry);
  }

  /** An unlock PostgreSQL said it did: one session-level count of that mode ends. */
  unlock(op: AdvisoryOp): void {
    const entry = this.keys.get(op.key!);
    if (entry === undefined) return;
    if (op.shared ? entry.shared === 0 : entry.exclusive === 0) return;
    count(entry, op, -1);
    this.settle(op.key!, entry);
  }

  unlockAll(): void {
    for (const [key, entry] of this.keys) {
      entry.exclusive = 0;
      entry.shared = 0;
      this.settle(key, entry);
    }
  }

  /** The transaction ended: every transaction-level count ends. */
  endTransaction(): void {
    this.inTransaction = false;
    for (const [key, entry] of this.keys) {
      entry.xact = 0;
      this.settle(key, entry);
    }
  }

  /** ROLLBACK TO a savepoint: transaction-level counts end, the transaction goes on. */
  dropTransactionLocks(): void {
    for (const [key, entry] of this.keys) {
      entry.xact = 0;
      this.settle(key, entry);
    }
  }

  /** The connection is gone (ended, or destroyed by a release with an error): everything ends. */
  close(): void {
    this.inTransaction = false;
    for (const [key, entry] of this.keys) {
      entry.exclusive = entry.shared = entry.xact = 0;
      this.settle(key, entry);
    }
  }

  private settle(key: string, entry: Entry): void {
    if (entry.exclusive + entry.shared + entry.xact > 0) return;
    this.keys.delete(key);
    endHold(key, entry.hold);
  }
}

function count(entry: Entry, op: AdvisoryOp, by: 1 | -1): void {
  if (op.xact) entry.xact += by;
  else if (op.shared) entry.shared += by;
  else entry.exclusive += by;
}

function endHold(key: string, hold: HeldLock): void {
  if (!hold.released) lockRelease(hold);
  tokens.drop(key);
}

const sessions = new WeakMap<object, Session>();

/** The session of a pg client (one per connection object). */
export function sessionOf(client: object): Session {
  let s = sessions.get(client);
  if (s === undefined) {
    s = new Session();
    sessions.set(client, s);
  }
  return s;
}

// ---- one advisory query ------------------------------------------------------------------

/** An advisory query on its way: what was asked and the hold it will give, if any. */
export interface Asked {
  readonly op: AdvisoryOp;
  /** The acquisition being waited for (a lock op that is not a re-lock of the session). */
  readonly hold: HeldLock | undefined;
}

/**
 * Validates the advisory call `op` before the query is sent, as lockdep's lock_acquire: taking
 * key 2 while holding key 1 adds `pg advisory 1 → pg advisory 2` now, whatever the answer.
 * `session`, when known (a client's query), makes a re-lock of a held key a count. Returns a
 * DeadlockError under `policy: 'throw'` (then the query must not be sent).
 */
export function ask(
  op: AdvisoryOp,
  session: Session | undefined,
  classOf: AdvisoryClass | undefined,
): Asked | DeadlockError | undefined {
  if (!tracking.on) return undefined;
  if (op.kind !== "lock") return { op, hold: undefined };
  if (session?.holds(op.key!) === true) return { op, hold: undefined };
  const map = classMap(op.key!, classOf);
  if (map === undefined || map === null) return undefined;
  const token = tokens.take(op.key!);
  const attempt = lockAcquire(
    map,
    token,
    op.shared ? 2 : 0,
    undefined,
    op.trylock,
  );
  if (attempt === undefined || attempt instanceof DeadlockError) {
    tokens.drop(op.key!);
    return attempt;
  }
  return { op, hold: attempt };
}

/**
 * `promise` answers the query `asked` made: its awaiter holds the lock from the answer on. A
 * blocking lock is a wait in the live wait-for graph until then; a trylock never blocks.
 */
export function pending<T>(
  asked: Asked,
  promise: Promise<T>,
  session: () => Session | undefined,
  autocommit: boolean,
): Promise<T> {
  const answered = promise.then(
    (result) => {
      answer(asked, session(), result, autocommit);
      return result;
    },
    (error: unknown) => {
      failed(asked);
      throw error;
    },
  );
  if (asked.hold !== undefined)
    lockContended(asked.hold, answered, asked.op.trylock);
  return answered;
}

/** The query was answered with `result`: the session's counts follow PostgreSQL's. */
export function answer(
  asked: Asked,
  session: Session | undefined,
  result: unknown,
  autocommit: boolean,
): void {
  const { op, hold } = asked;
  try {
    if (op.kind === "unlock-all") return session?.unlockAll();
    if (op.kind === "unlock") {
      // PostgreSQL says whether it held the key; without a readable answer, the session's counts.
      if (firstValue(result) !== false) session?.unlock(op);
      return;
    }
    if (op.trylock && firstValue(result) !== true) {
      if (hold !== undefined) failed(asked);
      return;
    }
    if (hold === undefined) return session?.relock(op);
    // Pipelined re-lock: a second lock of the key was asked before the first was answered.
    if (session?.holds(op.key!) === true) {
      failed(asked);
      return session.relock(op);
    }
    if (
      op.xact &&
      (autocommit || session === undefined || !session.inTransaction)
    ) {
      // Outside a transaction block the statement is its own transaction: the lock ends with it.
      lockAcquired(hold);
      endHold(op.key!, hold);
      return;
    }
    // A session lock whose session is unknown (a pool.query through an untracked checkout)
    // could never be matched with its unlock: it is not held rather than held for good.
    if (session === undefined) return failed(asked);
    lockAcquired(hold);
    session.add(op, hold);
  } catch (error) {
    internalError(error);
  }
}

/** The query failed, or the trylock was refused: nothing is held. */
export function failed(asked: Asked): void {
  if (asked.hold === undefined || asked.hold.released) return;
  lockRelease(asked.hold, "abandoned");
  tokens.drop(asked.op.key!);
}

/**
 * The one value of a one-row, one-column result (`{ rows: [{ pg_try_advisory_lock: true }] }`,
 * or `rows: [[true]]` with `rowMode: 'array'`), when it is a boolean.
 */
function firstValue(result: unknown): boolean | undefined {
  const rows = (result as { rows?: unknown } | null | undefined)?.rows;
  if (!Array.isArray(rows) || rows.length !== 1) return undefined;
  const row: unknown = rows[0];
  if (typeof row !== "object" || row === null) return undefined;
  const values = Array.isArray(row) ? row : Object.values(row);
  return values.length === 1 && typeof values[0] === "boolean"
    ? values[0]
    : undefined;
}
