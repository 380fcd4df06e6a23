// A read lock "upgraded" to a write lock: code that holds the read side of an RwLock asks for
// the write side of the same lock. A writer waits until every reader has left — including the
// one asking — so this can never succeed.
//
// `PriceCache.get()` reads under the read lock; on a miss it calls `refresh()`, which takes the
// write lock. The first `get` of a missing key deadlocks. waitgraph reports `recursive-locking`:
// the task is trying to acquire PriceCache.lock for write while already holding it for read.
// (A read under a read is fine for a `recursiveRead: true` RwLock; a write under anything is
// never fine.)
//
// Under the default `log` policy the write acquire then waits forever; this program has nothing
// else to do, so Node exits when its event loop is empty and the price is never printed. The
// report still reaches `waitgraph run`, which exits 1. With WAITGRAPH=throw, the write acquire
// rejects with a DeadlockError instead.
//
// The fix: release the read lock before taking the write lock, and check again under the write
// lock (another writer may have refreshed in between).
//
//   npx waitgraph run examples/rwlock-upgrade.ts
import { RwLock } from "waitgraph";

class PriceCache {
  private readonly lock = new RwLock({ name: "PriceCache.lock" });
  private readonly prices = new Map<string, number>();

  get(sku: string): Promise<number> {
    return this.lock.runRead(async () => {
      const cached = this.prices.get(sku);
      if (cached !== undefined) return cached;
      // A miss, with the read lock still held: refresh() asks for the write lock.
      await this.refresh(sku);
      return this.prices.get(sku)!;
    });
  }

  refresh(sku: string): Promise<void> {
    return this.lock.runWrite(async () => {
      this.prices.set(sku, await fetchPrice(sku));
    });
  }
}

async function fetchPrice(sku: string): Promise<number> {
  await Promise.resolve(); // stands in for a call to the pricing service
  return sku.length * 100;
}

async function main() {
  const cache = new PriceCache();
  console.log(`widget costs ${await cache.get("widget")}`);
}

void main();
