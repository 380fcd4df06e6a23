// A completion waited for under a lock whose class the completer takes — the example of DEPT's
// own design document (mutex A, completion B), in a log writer.
//
// The flusher swaps the buffer under the buffer lock, writes it out, and completes `flushed`.
// `close()` takes the buffer lock (no more writes), asks for a last flush and waits for
// `flushed` — still holding the lock. In this run the buffer is empty at close, the flusher
// takes its fast path without the lock, and nothing hangs. Had a line been written just before
// close, the flusher would wait for the lock that `close()` holds while `close()` waits for it.
//
// waitgraph saw the flusher take the lock inside `flushed`'s event context earlier (a caller was
// waiting for a flush), so `flushed` depends on the lock; `close()` then waits for `flushed`
// under the lock: `circular-dependency`, with DEPT's two contexts:
//   context A   [S] lock(log-buffer)                 close() took the lock…
//               [W] wait_for_completion(flushed)     …and waits for the flush under it;
//   context B   [S] wait_for_completion(flushed)     a caller started waiting for a flush…
//               [W] lock(log-buffer)                 …the flusher waited for the lock…
//               [E] complete(flushed)                …before it could complete.
//
// The fix: release the lock before waiting (mark the writer closed, then wait), or have the
// flusher never need the lock a waiter may hold.
//
//   npx waitgraph run examples/completion-under-lock.ts
import { Completion, Mutex, task } from "waitgraph";

class LogWriter {
  private readonly lock = new Mutex({ name: "log-buffer" });
  private readonly flushed = new Completion({ name: "flushed" });
  private buffer: string[] = [];
  readonly written: string[] = [];

  async write(line: string): Promise<void> {
    const release = await this.lock.acquire();
    this.buffer.push(line);
    release();
  }

  /** Starts a flush in the background; `flushed` completes when it is done. */
  private startFlush(): void {
    void task("flusher", async () => {
      await new Promise((resolve) => setImmediate(resolve)); // scheduled, not immediate
      if (this.buffer.length > 0) {
        const release = await this.lock.acquire();
        const lines = this.buffer;
        this.buffer = [];
        release();
        this.written.push(...lines);
      }
      this.flushed.complete();
    });
  }

  async flushNow(): Promise<void> {
    this.startFlush();
    await this.flushed.wait();
  }

  async close(): Promise<void> {
    const release = await this.lock.acquire();
    try {
      this.startFlush();
      await this.flushed.wait(); // waits for the flusher while holding the lock it may need
    } finally {
      release();
    }
  }
}

async function main() {
  const log = new LogWriter();
  await log.write("started");
  await log.flushNow();
  await task("shutdown", () => log.close());
  console.log(`wrote ${log.written.length} line(s)`);
}

void main();
