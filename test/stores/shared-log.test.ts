// The threads' append-only log in a SharedArrayBuffer (src/stores/shared-log.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { SharedLog } from "../../src/stores/shared-log.js";

test("reads back what was appended, in order, unicode included", () => {
  const log = new SharedLog(new SharedArrayBuffer(1024));
  assert.deepEqual(log.read(), []);
  for (const text of ["a", "bé", "€uro", ""])
    assert.equal(log.append(text), true);
  // An empty text is a zero length: the reader stops there (the stores never write one).
  assert.deepEqual(log.read(), ["a", "bé", "€uro"]);
});

test("a full log refuses an append and keeps what it has", () => {
  const log = new SharedLog(new SharedArrayBuffer(8 + 16));
  assert.equal(log.append("12345678"), true); // 4 + 8 bytes
  assert.equal(log.append("x"), false);
  assert.deepEqual(log.read(), ["12345678"]);
});

test("a worker appending to the same buffer is read by the main thread, at once after it ends", async () => {
  const log = new SharedLog(new SharedArrayBuffer(4096));
  log.append("main");
  const worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const words = new Int32Array(workerData), bytes = new Uint8Array(workerData);
     const data = new TextEncoder().encode("from the worker");
     const size = 4 + ((data.length + 3) & ~3);
     const at = 8 + Atomics.add(words, 0, size);
     bytes.set(data, at + 4);
     Atomics.store(words, at / 4, data.length);`,
    { eval: true, workerData: log.buffer },
  );
  await new Promise((resolve) => worker.on("exit", resolve));
  assert.deepEqual(log.read(), ["main", "from the worker"]);
});

test("SharedLog.from takes a SharedArrayBuffer and nothing else", () => {
  assert.ok(SharedLog.from(new SharedArrayBuffer(64)));
  assert.equal(SharedLog.from(new ArrayBuffer(64)), undefined);
  assert.equal(SharedLog.from(["texts"]), undefined);
  assert.equal(SharedLog.from(undefined), undefined);
});
