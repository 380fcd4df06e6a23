// The queries of a pg client, for advisory locks (./pg-advisory.ts): a client a tracked pool
// hands out, or a `pg.Client` given to `trackClient`. `client.query` is shadowed on the client
// object (once; pg-pool reuses its clients), decodes advisory calls and transaction control,
// and hands everything else to pg untouched.
//
// `pool.query(text)` checks out a client, runs `client.query` on it and releases it, all inside
// pg-pool, and settles a promise the caller already awaits. So the pool validates the call at
// the user's line and tags that promise (its awaiter holds the lock); the client's query only
// says which session answered — through a relay set while pg-pool's connect callback runs
// (pg-pool calls `client.query` synchronously there).
import { tracking, lockContended, type HeldLock } from "../core/seam.js";
import { submitter, runAsSubmitter } from "../core/flows.js";
import { DeadlockError } from "../core/errors.js";
import {
  answer,
  ask,
  decodeAdvisory,
  failed,
  pending,
  sessionOf,
  transactionVerb,
  type AdvisoryClass,
  type AdvisoryOp,
  type Asked,
  type Session,
  type TransactionVerb,
} from "./pg-advisory.js";
import { defineMethod } from "./permits.js";

type Query = (this: unknown, ...args: unknown[]) => unknown;
type Callback = (error: unknown, result?: unknown) => void;

/** The session a `pool.query` ran on, filled in by the client's query. */
export interface Relay {
  session: Session | undefined;
}

let nextRelay: Relay | undefined;
let activeRelay: Relay | undefined;

/** Set by the pool's query for the checkout it makes synchronously (its `this.connect`). */
export function offerRelay(relay: Relay | undefined): void {
  nextRelay = relay;
}

/** Taken by the pool's connect: the relay of the `pool.query` that is checking out, if any. */
export function takeRelay(): Relay | undefined {
  const relay = nextRelay;
  nextRelay = undefined;
  return relay;
}

/** A connect callback that lets the client's first query tell `relay` its session. */
export function relayed<F extends (...args: never[]) => unknown>(
  relay: Relay,
  callback: F,
): F {
  return function (this: unknown, ...args: Parameters<F>) {
    const outer = activeRelay;
    activeRelay = relay;
    try {
      return callback.apply(this, args);
    } finally {
      activeRelay = outer;
    }
  } as F;
}

/** The text, values and callback of `client.query(…)`'s arguments (pg's normalizeQueryConfig). */
export function queryParts(args: readonly unknown[]): {
  text: unknown;
  values: unknown;
  callbackAt: number;
} {
  const [config, values, callback] = args;
  const text =
    typeof config === "string"
      ? config
      : typeof config === "object" &&
          config !== null &&
          typeof (config as { submit?: unknown }).submit !== "function" &&
          (config as { callback?: unknown }).callback === undefined
        ? (config as { text?: unknown }).text
        : undefined;
  const vals = Array.isArray(values)
    ? values
    : typeof config === "object" && config !== null
      ? (config as { values?: unknown }).values
      : undefined;
  const callbackAt =
    typeof values === "function" ? 1 : typeof callback === "function" ? 2 : -1;
  return { text, values: vals, callbackAt };
}

const kWatched: unique symbol = Symbol.for("waitgraph.pg-client/v1") as never;

/**
 * Shadows `client.query` to track advisory locks (once per client object). `classOf` is read
 * at each query, so a later `trackPool(pool, { advisoryClass })` applies to clients already out.
 */
export function watchClient(
  client: object,
  classOf: () => AdvisoryClass | undefined,
): void {
  if ((client as { [kWatched]?: true })[kWatched] === true) return;
  Object.defineProperty(client, kWatched, { value: true });
  const raw = (client as { query: Query }).query;
  if (typeof raw !== "function") return;
  // The connection closing ends every lock of its session (idle timeout, a server restart).
  const on = (client as { on?: unknown }).on;
  if (typeof on === "function")
    (on as (e: string, l: () => void) => void).call(client, "end", () =>
      sessionOf(client).close(),
    );
  defineMethod(client, "query", function (this: object, ...args: unknown[]) {
    if (activeRelay !== undefined) {
      // pg-pool's own query for a `pool.query`: the pool tracks it; this is its session.
      activeRelay.session = sessionOf(this);
      activeRelay = undefined;
      return raw.apply(this, args);
    }
    if (!tracking.on) return raw.apply(this, args);
    return clientQuery(this, raw, args, classOf);
  });
}

function clientQuery(
  client: object,
  raw: Query,
  args: unknown[],
  classOf: () => AdvisoryClass | undefined,
): unknown {
  const { text, values, callbackAt } = queryParts(args);
  const verb = transactionVerb(text);
  if (verb !== undefined)
    return transactionControl(client, raw, args, verb, callbackAt);
  const op = decodeAdvisory(text, values);
  if (op === undefined) return raw.apply(client, args);
  const session = sessionOf(client);
  const asked = ask(op, session, classOf());
  if (asked instanceof DeadlockError) return refuse(asked, args, callbackAt);
  if (asked === undefined) return raw.apply(client, args);
  if (callbackAt !== -1) {
    args[callbackAt] = answering(
      asked,
      () => session,
      false,
      args[callbackAt] as Callback,
    );
    return raw.apply(client, args);
  }
  let sent: unknown;
  try {
    sent = raw.apply(client, args);
  } catch (error) {
    failed(asked);
    throw error;
  }
  return pending(asked, sent as Promise<unknown>, () => session, false);
}

/** Under `policy: 'throw'`: the query is not sent; its promise (or callback) gets the error. */
export function refuse(
  error: DeadlockError,
  args: readonly unknown[],
  callbackAt: number,
): unknown {
  if (callbackAt === -1) return Promise.reject(error);
  process.nextTick(args[callbackAt] as Callback, error);
  return undefined;
}

/**
 * A callback that settles `asked` from the answer, then runs as the caller, holding the lock
 * (the callback is the holder). A blocking lock is a wait in the wait-for graph meanwhile.
 */
export function answering(
  asked: Asked,
  session: () => Session | undefined,
  autocommit: boolean,
  callback: Callback,
): Callback {
  const frame = submitter();
  if (asked.hold !== undefined)
    lockContended(asked.hold, undefined, asked.op.trylock);
  return (error, result) => {
    if (error !== undefined && error !== null) failed(asked);
    else answer(asked, session(), result, autocommit);
    const hold: HeldLock | undefined =
      asked.hold !== undefined && !asked.hold.released ? asked.hold : undefined;
    runAsSubmitter(frame, hold, () => callback(error, result));
  };
}

/** BEGIN opens a transaction block once it succeeds; COMMIT / ROLLBACK / … end it either way. */
function transactionControl(
  client: object,
  raw: Query,
  args: unknown[],
  verb: TransactionVerb,
  callbackAt: number,
): unknown {
  const session = sessionOf(client);
  const settle = (ok: boolean): void => {
    if (verb === "begin") {
      if (ok) session.inTransaction = true;
    } else if (verb === "rollback-to") {
      if (ok) session.dropTransactionLocks();
    } else {
      session.endTransaction();
      if (verb === "chain" && ok) session.inTransaction = true;
    }
  };
  if (callbackAt !== -1) {
    const callback = args[callbackAt] as Callback;
    args[callbackAt] = (error: unknown, result?: unknown) => {
      settle(error === undefined || error === null);
      callback(error, result);
    };
    return raw.apply(client, args);
  }
  const sent = raw.apply(client, args) as Promise<unknown>;
  return sent.then(
    (result) => {
      settle(true);
      return result;
    },
    (error: unknown) => {
      settle(false);
      throw error;
    },
  );
}

/** A decoded advisory call in `pool.query`'s arguments, or undefined. */
export function poolAdvisory(args: readonly unknown[]): AdvisoryOp | undefined {
  const { text, values } = queryParts(args);
  return decodeAdvisory(text, values);
}
