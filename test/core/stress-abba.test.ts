// An ABBA found by a multi-task stress test, the way lockdep finds them: by watching ordinary
// runs, not by waiting for the hang.
//
// A bank: every account is guarded by a Mutex made at one site (one class, "account"). Tasks
// move money between random accounts. `transfer` takes the two locks in a consistent order —
// the lower account id first, the higher as subclass 1 — so it only ever adds the edge
// account → account/1. `refund` has the bug: it locks the payee first. It computes each lock's
// subclass from its rank like `transfer`, so when the payee has the higher id it takes
// account/1 and then account: the inverted edge. The run is driven by a seeded PRNG, so it is
// the same run every time.
//
// It cannot hang: under `policy: 'throw'` the acquire that would close the cycle rejects
// before it blocks — and because a chain is validated once and its verdict cached, every later
// attempt of the same inverted chain rejects too — and every acquire has a `timeout`, so a
// regression fails the test instead of stalling it.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DeadlockError,
  Mutex,
  task,
  tracker,
  type Report,
} from "../../src/index.js";
import { verdictOf } from "../helpers/scenario.js";

const SEED = 0x5eed;
const ACCOUNTS = 8;
const TASKS = 6;
const ROUNDS = 60;
const REFUND_SHARE = 0.15;
const TIMEOUT_MS = 10_000;

/** mulberry32: a small, seedable PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Account {
  readonly lock = new Mutex({ name: "account" });
  constructor(
    readonly id: number,
    public balance: number,
  ) {}
}

/** Lets the other tasks run while locks are held (an I/O round trip, without a clock). */
const elsewhere = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The subclass a lock is taken as when `a` and `b` are held together: its rank by id. */
const rank = (a: Account, b: Account): number => (a.id < b.id ? 0 : 1);

async function lockPair(
  first: Account,
  second: Account,
  body: () => Promise<void>,
): Promise<void> {
  const releaseFirst = await first.lock.acquire({
    subclass: rank(first, second),
    timeout: TIMEOUT_MS,
  });
  try {
    const releaseSecond = await second.lock.acquire({
      subclass: rank(second, first),
      timeout: TIMEOUT_MS,
    });
    try {
      await body();
    } finally {
      releaseSecond();
    }
  } finally {
    releaseFirst();
  }
}

function move(from: Account, to: Account, amount: number): () => Promise<void> {
  return async () => {
    const take = Math.min(amount, from.balance);
    from.balance -= take;
    await elsewhere();
    to.balance += take;
  };
}

/** The consistent path: lower id first. */
const transfer = (from: Account, to: Account, amount: number) =>
  from.id < to.id
    ? lockPair(from, to, move(from, to, amount))
    : lockPair(to, from, move(from, to, amount));

/** The inverted path: the payee first, whatever its id. */
const refund = (from: Account, to: Account, amount: number) =>
  lockPair(to, from, move(from, to, amount));

test(
  "a seeded multi-task transfer stress test finds the inverted refund path: exactly one circular dependency, account → account/1 → account",
  {
    timeout: 60_000,
  },
  async () => {
    const random = prng(SEED);
    const accounts = Array.from(
      { length: ACCOUNTS },
      (_, id) => new Account(id, 1000),
    );
    const tally = {
      transfers: 0,
      refunds: 0,
      refused: { transfer: 0, refund: 0 },
      inverted: 0,
    };

    const verdict = await verdictOf(async () => {
      const worker = (n: number) =>
        task(`teller-${n}`, async () => {
          for (let round = 0; round < ROUNDS; round++) {
            const from = accounts[Math.floor(random() * ACCOUNTS)]!;
            let to = accounts[Math.floor(random() * (ACCOUNTS - 1))]!;
            if (to === from) to = accounts[ACCOUNTS - 1]!;
            const amount = 1 + Math.floor(random() * 50);
            const path = random() < REFUND_SHARE ? "refund" : "transfer";
            if (path === "refund" && to.id > from.id) tally.inverted++;
            try {
              await (path === "refund" ? refund : transfer)(from, to, amount);
              tally[path === "refund" ? "refunds" : "transfers"]++;
            } catch (error) {
              assert.ok(error instanceof DeadlockError, String(error));
              assert.equal(error.code, "ERR_WAITGRAPH_DEADLOCK");
              tally.refused[path]++;
            }
            await elsewhere();
          }
        });
      await Promise.all(Array.from({ length: TASKS }, (_, n) => worker(n)));
    }, "throw");

    // Exactly one report, and it is the cycle between the two classes.
    assert.deepEqual(verdict, ["circular-dependency"]);
    const r = tracker.reports()[0] as Extract<
      Report,
      { kind: "circular-dependency" }
    >;
    assert.deepEqual([...r.classes].sort(), ["account", "account/1"]);
    // Found on the inverted path: holding account/1, asking for account.
    assert.equal(r.prev.name, "account/1");
    assert.equal(r.next.name, "account");
    assert.match(r.task, /^teller-\d$/);

    // Only the inverted refunds were refused; every consistent transfer went through.
    assert.ok(tally.inverted > 0);
    assert.equal(tally.refused.refund, tally.inverted);
    assert.equal(tally.refused.transfer, 0);
    assert.equal(
      tally.transfers + tally.refunds + tally.refused.refund,
      TASKS * ROUNDS,
    );
    // No money was created or lost, and nothing is left locked.
    assert.equal(
      accounts.reduce((sum, a) => sum + a.balance, 0),
      ACCOUNTS * 1000,
    );
    assert.ok(accounts.every((a) => !a.lock.isLocked()));
  },
);
