// A task that holds a lock and awaits a child task that needs a lock of the same class — the
// most common async self-deadlock that is not a nested `runExclusive`. Lockdep cannot see it:
// the parent never takes a second lock, it only waits.
//
// `transfer(from, to)` locks the account money leaves and, still holding it, runs a fraud
// check as a task of its own and awaits it. The fraud check locks the account it inspects. In
// this run it inspects the *other* account, so nothing hangs; the day it inspects the account
// the transfer already holds (or another transfer holds the one it needs), the transfer waits
// for the check and the check waits for the transfer's lock, forever.
//
// waitgraph reports it as `circular-dependency` with DEPT's view, one context per side:
//   context A   [S] lock(account)      the transfer took the account lock…
//               [W] await(task fraud-check)  …and waits for the check under it…
//               [E] unlock(account)    …so its unlock is not reachable;
//   context B   [S] task(task fraud-check)   the check started…
//               [W] lock(account)      …and waits for an account lock…
//               [E] return(task fraud-check) …so it cannot return.
// Each [S] and [W] points at the line below that made it.
//
// The fix: run the check before taking the lock, or pass it the data it needs instead of
// letting it take the lock again.
//
//   npx waitgraph run examples/task-awaits-child-under-lock.ts
import { Mutex, task } from "waitgraph";

class Account {
  // One construction site: every account's lock is one class, `account`.
  readonly lock = new Mutex({ name: "account" });
  constructor(
    readonly id: string,
    public balance: number,
  ) {}
}

const accounts = new Map(
  [new Account("alice", 100), new Account("bob", 50)].map((a) => [a.id, a]),
);

/** Looks at an account's recent history; needs the account's lock to read it consistently. */
async function fraudCheck(accountId: string): Promise<boolean> {
  const account = accounts.get(accountId)!;
  const release = await account.lock.acquire();
  try {
    return account.balance >= 0;
  } finally {
    release();
  }
}

async function transfer(fromId: string, toId: string, amount: number) {
  const from = accounts.get(fromId)!;
  const to = accounts.get(toId)!;
  const release = await from.lock.acquire();
  try {
    // Still holding `from`'s lock, and waiting for a task that takes an account lock.
    const ok = await task("fraud-check", () => fraudCheck(toId));
    if (!ok || from.balance < amount) return false;
    from.balance -= amount;
    to.balance += amount;
    return true;
  } finally {
    release();
  }
}

async function main() {
  const done = await task("transfer", () => transfer("alice", "bob", 30));
  console.log(
    `transfer ${done ? "done" : "refused"}: alice ${accounts.get("alice")!.balance}, bob ${accounts.get("bob")!.balance}`,
  );
}

void main();
