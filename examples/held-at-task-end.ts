// A task that ends while still holding a lock. Nothing hangs yet: the next task that wants the
// lock will, and by then the culprit is long gone from the stack.
//
// `importBatch()` takes the import lock, and returns early for an empty batch — without
// releasing it. It runs inside `task("import-batch", …)`, which marks where a unit of work
// starts and ends; when that task settles still holding a lock it took, waitgraph reports
// `held-at-task-end`, with where the lock was taken. (With WAITGRAPH=throw the task rejects
// with a ReportError.)
//
// The fix: release in `finally` — or use `runExclusive` or `await using guard = await lock.lock()`,
// which cannot forget.
//
//   npx waitgraph run examples/held-at-task-end.ts
import { Mutex, task } from "waitgraph";

const importLock = new Mutex({ name: "import-lock" });
const imported: string[] = [];

async function importBatch(rows: string[]): Promise<number> {
  const release = await importLock.acquire();
  if (rows.length === 0) return 0; // early return: the lock stays held
  imported.push(...rows);
  release();
  return rows.length;
}

async function main() {
  const first = await task("import-batch", () => importBatch(["a", "b"]));
  const second = await task("import-batch", () => importBatch([]));
  console.log(`imported ${first + second} rows`);
}

void main();
