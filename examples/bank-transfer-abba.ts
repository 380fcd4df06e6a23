// An ABBA deadlock between two bank accounts, found from a run that never hung.
//
// `transfer(from, to)` locks the account money leaves, then the account it goes to. The first
// transfer (alice → bob) takes alice's lock, then bob's; the second (bob → alice) takes bob's,
// then alice's. Run one after the other, as here, they finish. Run at the same time — two
// requests on a busy day — each can take its first lock and wait forever for the other's.
//
// waitgraph reports it on the second transfer, as `circular-dependency`: the task "is trying to
// acquire" account:alice "but task is already holding" account:bob, and "the existing
// dependency chain" shows where account:alice → account:bob was recorded (the first transfer).
// The fix is one global order: always lock the account with the smaller id first.
//
// Each account's lock gets its own class through `key`, so the report names accounts. With
// many accounts, give them one class and an `order` instead, e.g.
// `new Mutex({ key: "account", order: (held, next) => held.id - next.id })` — then taking
// them in the wrong order is reported right away, as `recursive-locking` with the order result.
//
//   npx waitgraph run examples/bank-transfer-abba.ts
import { Mutex } from "waitgraph";

class Account {
  readonly lock: Mutex;
  constructor(
    readonly id: string,
    public balance: number,
  ) {
    this.lock = new Mutex({ key: `account:${id}` });
  }
}

async function transfer(from: Account, to: Account, amount: number) {
  await from.lock.runExclusive(async () => {
    // Holding `from`, wait for `to`: the edge from's class → to's class.
    await to.lock.runExclusive(() => {
      if (from.balance < amount)
        throw new Error(`${from.id}: insufficient funds`);
      from.balance -= amount;
      to.balance += amount;
    });
  });
}

async function main() {
  const alice = new Account("alice", 100);
  const bob = new Account("bob", 50);
  await transfer(alice, bob, 30); // records account:alice → account:bob
  await transfer(bob, alice, 10); // account:bob → account:alice closes the cycle: reported
  console.log(`alice ${alice.balance}, bob ${bob.balance}`);
}

void main();
