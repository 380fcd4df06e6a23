// The chain cache (reference §1.7): a "locking scenario" — the ordered (class, read) list a task
// holds plus the one it is taking — is validated once; afterwards a lookup decides in
// nanoseconds that there is nothing to check. The key is a 32-bit hash; every hit is verified
// against the stored id list, so a collision can never hide an edge (reference §6.5).
import type { ChainRecord, Frame, HeldLock } from "./held-lock.js";
import { kept, type Trace } from "./stack.js";

const SEED = 0x811c9dc5;

function mix(h: number, id: number): number {
  h = Math.imul(h ^ (id + 1), 0x9e3779b1);
  return h ^ (h >>> 15);
}

export class ChainCache {
  private readonly map = new Map<number, ChainRecord>();
  size = 0;
  /** How many live holds the last `hash` walked (the task's lock depth), counted on the way. */
  depth = 0;

  /** Hash of the live holds of `frame` (newest first) followed by `next`. */
  hash(frame: Frame, next: number): number {
    let h = SEED;
    let depth = 0;
    for (let f: Frame | null = frame; f !== null; f = f.next) {
      const hold = f.hold;
      if (hold !== null && !hold.released) {
        h = mix(h, hold.id);
        depth++;
      }
    }
    this.depth = depth;
    // Keep the key a small integer (V8 Smi): a heap-number key allocates and hashes slowly.
    return mix(h, next) & 0x3fffffff;
  }

  lookup(hash: number, frame: Frame, next: number): ChainRecord | undefined {
    for (let r = this.map.get(hash); r !== undefined; r = r.alt)
      if (same(r.ids, frame, next)) return r;
    return undefined;
  }

  add(hash: number, frame: Frame, next: number, trace: Trace): ChainRecord {
    const ids: number[] = [];
    for (let f: Frame | null = frame; f !== null; f = f.next) {
      const hold: HeldLock | null = f.hold;
      if (hold !== null && !hold.released) ids.push(hold.id);
    }
    ids.push(next);
    const record: ChainRecord = {
      hash,
      ids: Int32Array.from(ids),
      trace: kept(trace),
      bad: undefined,
      validated: false,
      alt: this.map.get(hash),
    };
    this.map.set(hash, record);
    this.size++;
    return record;
  }

  reset(): void {
    this.map.clear();
    this.size = 0;
  }
}

function same(ids: Int32Array, frame: Frame, next: number): boolean {
  let i = 0;
  for (let f: Frame | null = frame; f !== null; f = f.next) {
    const hold = f.hold;
    if (hold === null || hold.released) continue;
    if (i >= ids.length - 1 || ids[i] !== hold.id) return false;
    i++;
  }
  return i === ids.length - 1 && ids[i] === next;
}
