// The design's floor: the smallest tracker of waitgraph's design, measured next to waitgraph so
// that "× untracked" can be read against what the design itself costs on the same machine.
//
// This is the prototype of reference/async-context.md §7.3 (design G), kept whole: a mini FIFO
// mutex; v8.promiseHooks propagate held lists along promise creation; the promise acquire()
// returns is tagged and only its continuation gets the hold; every acquisition does a chain
// lookup over the held list. It has no classes by site, no subclasses, no read/write, no
// policy, no DEPT, no statistics, no error handling: a measurement aid, not a lock to use.
import { promiseHooks } from "node:v8";

type Release = () => void;
interface Hold {
  readonly cls: number;
  readonly lock: MiniMutex;
  readonly chain: number;
  released: boolean;
  granted: boolean;
  waiters: object[] | null;
}
interface Held {
  readonly hold: Hold;
  readonly next: Held | null;
}
type Tagged = { [kHeld]?: Held; [kAcq]?: Hold };

const kHeld = Symbol("held");
const kAcq = Symbol("acq");
let current: Held | null = null;
const saved: (Held | null)[] = [];
let tracking = false;
/** Acquisitions that went through the chain check: the variant's proof that it tracked. */
export let checked = 0;

function live(list: Held | null): Held | null {
  let l = list;
  while (l !== null && l.hold.released) l = l.next;
  return l;
}

/** Installs the hooks; the mutexes made before or after are tracked from now on. */
export function track(): void {
  tracking = true;
  promiseHooks.createHook({
    init(p: Promise<unknown>, parent: Promise<unknown> | undefined) {
      let held = current;
      if (parent !== undefined) {
        const h = (parent as Tagged)[kAcq];
        if (h !== undefined && !h.released) {
          if (h.granted) held = { hold: h, next: held };
          else (h.waiters ??= []).push(p);
        }
      }
      if (held !== null) (p as Tagged)[kHeld] = held;
    },
    before(p: Promise<unknown>) {
      saved.push(current);
      current = (p as Tagged)[kHeld] ?? null;
    },
    after() {
      current = saved.pop() ?? null;
    },
  });
}

const SEED = 0x9e3779b9 | 0;
const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193) | 0;
const chains = new Map<number, { key: number; stack: Error }>();

function check(held: Held | null, cls: number, lock: MiniMutex): number {
  checked++;
  let key = SEED;
  for (let n = held; n !== null; n = n.next) {
    const h = n.hold;
    if (h.released) continue;
    if (h.lock === lock) throw new Error("self-deadlock");
    key = mix(key, h.cls);
  }
  key = mix(key, cls) & 0x3fffffff;
  if (!chains.has(key)) chains.set(key, { key, stack: new Error("first") });
  return key;
}

export class MiniMutex {
  private locked = false;
  private readonly queue: (() => void)[] = [];
  private readonly cls = 1;

  acquire(): Promise<Release> {
    if (!tracking) {
      const release = (): void => this.unlock();
      if (!this.locked) {
        this.locked = true;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => this.queue.push(() => resolve(release)));
    }
    const hold: Hold = {
      cls: this.cls,
      lock: this,
      chain: check(current, this.cls, this),
      released: false,
      granted: false,
      waiters: null,
    };
    const release = (): void => {
      if (hold.released) return;
      hold.released = true;
      current = live(current);
      this.unlock();
    };
    if (!this.locked) {
      this.locked = true;
      hold.granted = true;
      const p = Promise.resolve(release);
      (p as Tagged)[kAcq] = hold;
      return p;
    }
    let resolve!: (r: Release) => void;
    const p = new Promise<Release>((r) => (resolve = r));
    (p as Tagged)[kAcq] = hold;
    this.queue.push(() => {
      hold.granted = true;
      for (const w of hold.waiters ?? [])
        (w as Tagged)[kHeld] = { hold, next: (w as Tagged)[kHeld] ?? null };
      hold.waiters = null;
      resolve(release);
    });
    return p;
  }

  private unlock(): void {
    const next = this.queue.shift();
    if (next !== undefined) next();
    else this.locked = false;
  }
}
