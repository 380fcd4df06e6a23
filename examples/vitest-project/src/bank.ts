// A tiny bank. Each account has a lock; a transfer holds both accounts' locks while it moves
// the money. The bug: `transfer(from, to)` locks `from` first. Paying alice → bob takes alice
// then bob; refunding bob → alice takes bob then alice. Two such requests at the same time can
// each take their first lock and wait forever for the other's — an ABBA deadlock.
//
// With FIXED=1 the transfer locks the two accounts in one global order (by id), which is the fix.
import { Mutex } from "waitgraph";

const fixed = process.env["FIXED"] === "1";

export class Account {
  // A string key makes one lock class per account, named after it in reports, and the same class
  // in every test worker — so the graphs of two test files merge.
  readonly lock: Mutex;
  constructor(
    readonly id: string,
    public balance: number,
  ) {
    this.lock = new Mutex({ key: `account:${id}` });
  }
}

export const alice = new Account("alice", 100);
export const bob = new Account("bob", 100);

export async function transfer(
  from: Account,
  to: Account,
  amount: number,
): Promise<void> {
  const [first, second] = fixed && to.id < from.id ? [to, from] : [from, to];
  await first.lock.runExclusive(async () => {
    await second.lock.runExclusive(() => {
      from.balance -= amount;
      to.balance += amount;
    });
  });
}

/** The balance, read under the account's lock. */
export async function balance(account: Account): Promise<number> {
  return account.lock.runExclusive(() => account.balance);
}

/**
 * Audits an account: holds its lock while it checks the balance. The bug: it reads the balance
 * with `balance()`, which takes the same lock again — a lock re-taken by its holder waits for
 * itself forever. Fixed, it reads the field it already holds the lock for.
 */
export async function audit(account: Account): Promise<boolean> {
  return account.lock.runExclusive(async () => {
    const seen = fixed ? account.balance : await balance(account);
    return seen >= 0;
  });
}
