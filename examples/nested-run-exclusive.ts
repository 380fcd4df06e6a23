// Recursive locking: a method that holds its object's mutex calls another method that takes
// the same mutex again. waitgraph's Mutex is not re-entrant (neither is async-mutex's), so the
// inner call waits for a lock its own caller holds: a deadlock on the very first run.
//
// `Inventory.reserve()` takes the inventory mutex and, when stock runs low, calls `restock()`,
// which takes the same mutex. waitgraph reports `recursive-locking` ("possible recursive
// locking detected"): the task is trying to acquire Inventory.mutex and is already holding it,
// with the line of each acquisition.
//
// What happens next depends on the policy:
//   - `log` (the default) prints the report and lets the acquire go on, so `restock()` waits
//     forever. This small program has nothing else to do, so Node exits once its event loop is
//     empty and "reserved" is never printed; a server would just stop answering. The report
//     still reaches `waitgraph run`, which exits 1.
//   - `throw` makes the inner acquire reject with a DeadlockError, which `main` catches: the hang
//     becomes an exception at the line that would have hung.
//
//   npx waitgraph run examples/nested-run-exclusive.ts
//   WAITGRAPH=throw npx waitgraph run examples/nested-run-exclusive.ts
//
// The fix: a private `restockLocked()` that assumes the caller holds the mutex (it can say so
// with `assertHeld(this.mutex)`), called from both public methods.
import { DeadlockError, Mutex } from "waitgraph";

class Inventory {
  private readonly mutex = new Mutex({ name: "Inventory.mutex" });
  private readonly stock = new Map<string, number>([["widget", 3]]);

  reserve(sku: string, quantity: number): Promise<number> {
    return this.mutex.runExclusive(async () => {
      const left = (this.stock.get(sku) ?? 0) - quantity;
      // Low on stock: restock first. But restock() takes this.mutex again.
      if (left < 2) await this.restock(sku, 10);
      this.stock.set(sku, (this.stock.get(sku) ?? 0) - quantity);
      return this.stock.get(sku)!;
    });
  }

  restock(sku: string, quantity: number): Promise<void> {
    return this.mutex.runExclusive(() => {
      this.stock.set(sku, (this.stock.get(sku) ?? 0) + quantity);
    });
  }
}

async function main() {
  const inventory = new Inventory();
  try {
    const left = await inventory.reserve("widget", 2);
    console.log(`reserved; ${left} left`);
  } catch (error) {
    if (!(error instanceof DeadlockError)) throw error;
    // Only under WAITGRAPH=throw: the report is on the error.
    console.error(
      `reserve failed instead of hanging: ${error.code}\n${error.report.text}`,
    );
    process.exitCode = 1;
  }
}

void main();
