// An append-only log of texts in a SharedArrayBuffer, written by any thread and read by any:
// how a worker started later gets every dependency the threads before it published, at once,
// whatever the main thread's event loop is doing (DESIGN "Beyond one isolate": the threads'
// graph lives in a SharedArrayBuffer).
//
// Layout: an Int32 header (bytes reserved so far), then entries. An entry is its byte length
// (Int32, written last) and its UTF-8 bytes, padded to 4. A writer reserves its entry with one
// Atomics.add, copies its bytes, then publishes the length with Atomics.store; a reader walks
// the entries in reservation order and stops at the first whose length is not published yet.
// Full is full: past LOG_BYTES an append is refused (and counted by the caller).

/** Bytes of the log. The memory is reserved, not touched: pages are used as entries fill them. */
export const LOG_BYTES = 16 << 20;
const HEADER = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SharedLog {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(LOG_BYTES),
  ) {
    this.words = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
  }

  /** The log in `x`, when it is one (a worker's copy of the main thread's environment data). */
  static from(x: unknown): SharedLog | undefined {
    return x instanceof SharedArrayBuffer && x.byteLength >= HEADER
      ? new SharedLog(x)
      : undefined;
  }

  /** Appends `text`; false when the log is full. */
  append(text: string): boolean {
    const data = encoder.encode(text);
    const size = 4 + ((data.length + 3) & ~3);
    const at = HEADER + Atomics.add(this.words, 0, size);
    if (at + size > this.bytes.length) return false;
    this.bytes.set(data, at + 4);
    Atomics.store(this.words, at / 4, data.length);
    return true;
  }

  /** Every published entry, in order. */
  read(): string[] {
    const texts: string[] = [];
    const end = Math.min(
      this.bytes.length,
      HEADER + Atomics.load(this.words, 0),
    );
    for (let at = HEADER; at + 4 <= end;) {
      const length = Atomics.load(this.words, at / 4);
      if (length === 0) break;
      // A copy: TextDecoder refuses views of shared memory.
      texts.push(decoder.decode(this.bytes.slice(at + 4, at + 4 + length)));
      at += 4 + ((length + 3) & ~3);
    }
    return texts;
  }
}
