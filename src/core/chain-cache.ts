// The chain cache (reference §1.7): a "locking scenario" — the ordered (class, read) list a task
// holds plus the one it is taking — is validated once; afterwards a lookup decides in
// nanoseconds that there is nothing to check. The key is a 32-bit hash; every hit is verified
// against the stored unit list, so a collision can never hide an edge (reference §6.5).
//
// A unit is more than lockdep's hlock_id (class, read), because here the stored verdict is
// served on a hit and must be the one a fresh check would give:
//  * a held trylock is looked through for edges (check_prevs_add), so [A, T(try)] + B checks
//    A → B where [A, T] + B does not — a chain differing only by a trylock is another chain;
//  * a held lock that is the very instance being taken makes a recursive-locking finding
//    same-instance, not same-class — a chain differing only by that is another chain.
import type { ChainRecord, Frame, HeldLock } from "./held-lock.js";
import { kept, type Trace } from "./stack.js";

const SEED = 0x811c9dc5;

/** A held lock's part of a chain key: its hlock_id, whether it is a trylock, whether it is `instance`. */
function unit(hold: HeldLock, instance: object | undefined): number {
  return (
    hold.id * 4 + (hold.trylock ? 2 : 0) + (hold.instance === instance ? 1 : 0)
  );
}

function mix(h: number, id: number): number {
  h = Math.imul(h ^ (id + 1), 0x9e3779b1);
  return h ^ (h >>> 15);
}

export class ChainCache {
  private readonly map = new Map<number, ChainRecord>();
  size = 0;
  /** How many live holds the last `hash` walked (the task's lock depth), counted on the way. */
  depth = 0;

  /**
   * Hash of the live holds of `frame` (newest first) followed by `next`, the hlock_id being
   * taken; `instance` is the lock being taken (undefined for a wait on an event).
   */
  hash(frame: Frame, next: number, instance: object | undefined): number {
    let h = SEED;
    let depth = 0;
    for (let f: Frame | null = frame; f !== null; f = f.next) {
      const hold = f.hold;
      if (hold !== null && !hold.released) {
        h = mix(h, unit(hold, instance));
        depth++;
      }
    }
    this.depth = depth;
    // Keep the key a small integer (V8 Smi): a heap-number key allocates and hashes slowly.
    return mix(h, next) & 0x3fffffff;
  }

  lookup(
    hash: number,
    frame: Frame,
    next: number,
    instance: object | undefined,
  ): ChainRecord | undefined {
    for (let r = this.map.get(hash); r !== undefined; r = r.alt)
      if (same(r.ids, frame, next, instance)) return r;
    return undefined;
  }

  add(
    hash: number,
    frame: Frame,
    next: number,
    instance: object | undefined,
    trace: Trace,
  ): ChainRecord {
    const ids: number[] = [];
    for (let f: Frame | null = frame; f !== null; f = f.next) {
      const hold: HeldLock | null = f.hold;
      if (hold !== null && !hold.released) ids.push(unit(hold, instance));
    }
    ids.push(next);
    const record: ChainRecord = {
      hash,
      ids: Int32Array.from(ids),
      trace: kept(trace),
      bad: undefined,
      validated: false,
      alt: this.map.get(hash),
      waited: undefined,
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

function same(
  ids: Int32Array,
  frame: Frame,
  next: number,
  instance: object | undefined,
): boolean {
  let i = 0;
  for (let f: Frame | null = frame; f !== null; f = f.next) {
    const hold = f.hold;
    if (hold === null || hold.released) continue;
    if (i >= ids.length - 1 || ids[i] !== unit(hold, instance)) return false;
    i++;
  }
  return i === ids.length - 1 && ids[i] === next;
}
