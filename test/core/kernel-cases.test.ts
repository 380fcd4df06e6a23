// The kernel cases behind lockdep's annotations, as TypeScript drivers.
//
//  * Two IIO devices whose `mlock`s nest. iio_device_alloc() initialises every device's mlock
//    at one site, so all of them are one lock class; when one device's buffer setup drives
//    another device (lmp91000's postenable → iio_channel_start_all_cb → iio_update_buffers of
//    its provider, "iio: buffer: Silence lock nesting splat", 2022) lockdep prints "possible
//    recursive locking" for two different devices. Lockdep's remedies: a class per device (a
//    registered lock_class_key per instance) or a nesting annotation (mutex_lock_nested with
//    SINGLE_DEPTH_NESTING). Taking the *same* device's mlock twice must stay reported.
//  * A device lock taken again on the same call path: a certain self-deadlock. Under
//    `policy: 'throw'` the second acquire rejects with a DeadlockError instead of hanging.
//  * lock_cmp_fn (`order`): pipe_double_lock() takes two pipe mutexes of one class lowest
//    address first and tells lockdep so with pipe_lock_cmp_fn; bcache's btree_lock_cmp_fn lets
//    a parent node's lock be held while a child's (same class) is taken. The reverse is reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DeadlockError,
  LockClassKey,
  Mutex,
  RwLock,
  tracker,
  type Report,
} from "../../src/index.js";
import {
  RECURSIVE,
  SUCCESS,
  verdictOf,
  type Verdict,
} from "../helpers/scenario.js";

// ---- IIO ---------------------------------------------------------------------------------

type Fix = "none" | "per-device key" | "subclass";

class IioDevice {
  readonly mlock: Mutex;
  private consumerOf: IioDevice | undefined;

  constructor(
    readonly name: string,
    private readonly fix: Fix,
  ) {
    // iio_device_alloc(): mutex_init(&indio_dev->mlock), one site for every device — unless
    // the device registers a key of its own.
    this.mlock = new Mutex(
      fix === "per-device key"
        ? { name: "indio_dev->mlock", key: new LockClassKey() }
        : { name: "indio_dev->mlock" },
    );
  }

  /** This device's buffer is fed by `provider` (lmp91000 over its ADC). */
  consumes(provider: IioDevice): this {
    this.consumerOf = provider;
    return this;
  }

  /** enable_store(): takes mlock, then sets up buffers — starting the provider's too. */
  async enableBuffer(): Promise<void> {
    const release = await this.mlock.acquire();
    try {
      await this.consumerOf?.updateBuffers(true);
    } finally {
      release();
    }
  }

  /** iio_update_buffers(), called on a provider from its consumer's buffer setup. */
  async updateBuffers(nested: boolean): Promise<void> {
    const release = await this.mlock.acquire(
      nested && this.fix === "subclass" ? { subclass: 1 } : undefined,
    );
    release();
  }

  /** iio_device_claim_direct() + a read, then a helper that claims direct mode again. */
  async readRaw(): Promise<number> {
    return this.mlock.runExclusive(() => this.readRawLocked());
  }

  private async readRawLocked(): Promise<number> {
    // The bug: the helper claims the device it was called under.
    return this.mlock.runExclusive(() => 42);
  }
}

function recursiveReport(): Extract<Report, { kind: "recursive-locking" }> {
  const reports = tracker.reports();
  assert.equal(reports.length, 1);
  const r = reports[0]!;
  assert.equal(r.kind, "recursive-locking");
  return r as Extract<Report, { kind: "recursive-locking" }>;
}

const nesting: { fix: Fix; expect: Verdict; why: string }[] = [
  {
    fix: "none",
    expect: RECURSIVE,
    why: "one construction site is one class (a false positive in the kernel's terms)",
  },
  {
    fix: "per-device key",
    expect: SUCCESS,
    why: "each device's mlock is a class of its own",
  },
  {
    fix: "subclass",
    expect: SUCCESS,
    why: "the provider's mlock is taken as subclass 1 under the consumer's",
  },
];

for (const { fix, expect, why } of nesting)
  test(`two IIO devices whose mlocks nest, fix: ${fix}, ${expect.length === 0 ? "report nothing" : "report recursive-locking"}: ${why}`, async () => {
    const verdict = await verdictOf(async () => {
      const adc = new IioDevice("adc", fix);
      const lmp91000 = new IioDevice("lmp91000", fix).consumes(adc);
      await lmp91000.enableBuffer();
    });
    assert.deepEqual(verdict, expect);
    if (expect.length > 0) {
      const r = recursiveReport();
      assert.equal(r.sameInstance, false);
      assert.deepEqual(r.classes, ["indio_dev->mlock"]);
    }
  });

for (const fix of ["none", "per-device key", "subclass"] as const)
  test(`the same IIO device's mlock taken twice (fix: ${fix}) is still reported, with sameInstance: true`, async () => {
    const verdict = await verdictOf(async () => {
      // A device wired as its own consumer: enable_store → its own iio_update_buffers.
      // With the subclass fix the inner acquisition is /1, a different class: that is the
      // nesting annotation hiding a real self-deadlock, so the plain path is used here.
      const dev = new IioDevice("adc", fix);
      const release = await dev.mlock.acquire();
      // Validated before it blocks; it would wait forever, so let it through afterwards.
      const again = dev.mlock.acquire();
      assert.deepEqual(
        tracker.reports().map((r) => r.kind),
        RECURSIVE,
      );
      release();
      (await again)();
    });
    assert.deepEqual(verdict, RECURSIVE);
    assert.equal(recursiveReport().sameInstance, true);
  });

// ---- a device lock taken again on the same call path ---------------------------------------

test("a device lock taken again on the same call path is reported under policy 'silent'", async () => {
  const verdict = await verdictOf(async () => {
    const dev = new IioDevice("adc", "none");
    const release = await dev.mlock.acquire();
    const again = dev.mlock.acquire(); // readRawLocked's claim: would hang
    release();
    (await again)();
  });
  assert.deepEqual(verdict, RECURSIVE);
  const r = recursiveReport();
  assert.equal(r.sameInstance, true);
  assert.match(r.text, /possible recursive locking detected/);
});

test("a device lock taken again on the same call path rejects with DeadlockError under policy 'throw' instead of hanging", async () => {
  let dev!: IioDevice;
  const verdict = await verdictOf(async () => {
    dev = new IioDevice("adc", "none");
    await assert.rejects(dev.readRaw(), (e: unknown) => {
      assert.ok(e instanceof DeadlockError);
      assert.equal(e.code, "ERR_WAITGRAPH_DEADLOCK");
      assert.equal(e.report.kind, "recursive-locking");
      return true;
    });
  }, "throw");
  assert.deepEqual(verdict, RECURSIVE);
  assert.equal(recursiveReport().sameInstance, true);
  // The outer claim was released on the way out: the device is usable again.
  assert.equal(dev.mlock.isLocked(), false);
});

// ---- lock_cmp_fn: pipe_double_lock, bcache btree nodes --------------------------------------

class Pipe {
  static readonly #of = new WeakMap<Mutex, Pipe>();
  /** pipe_lock_cmp_fn: cmp_int(a, b) on the pipes' addresses — here, their ids. */
  static readonly #order = (a: Mutex, b: Mutex): number =>
    Pipe.#of.get(a)!.id - Pipe.#of.get(b)!.id;
  readonly mutex = new Mutex({ name: "pipe->mutex", order: Pipe.#order });
  constructor(readonly id: number) {
    Pipe.#of.set(this.mutex, this);
  }
}

/** pipe_double_lock(): the lower pipe first. `wrong` inverts it (the bug it prevents). */
async function doubleLock(p1: Pipe, p2: Pipe, wrong = false): Promise<void> {
  const [first, second] = p1.id < p2.id !== wrong ? [p1, p2] : [p2, p1];
  const a = await first.mutex.acquire();
  const b = await second.mutex.acquire();
  b();
  a();
}

test("pipe_double_lock takes two pipe mutexes of one class in `order`: nothing reported, no edge", async () => {
  const verdict = await verdictOf(() => doubleLock(new Pipe(2), new Pipe(1)));
  assert.deepEqual(verdict, SUCCESS);
  assert.deepEqual(tracker.snapshot().edges, []);
});

test("two pipe mutexes taken against their `order` report recursive-locking with the comparison's result", async () => {
  const verdict = await verdictOf(() =>
    doubleLock(new Pipe(2), new Pipe(1), true),
  );
  assert.deepEqual(verdict, RECURSIVE);
  const r = recursiveReport();
  assert.equal(r.orderResult, 1);
  assert.equal(r.sameInstance, false);
  assert.match(r.text, /and the lock comparison function returns 1:/);
});

class BtreeNode {
  static readonly #of = new WeakMap<RwLock, BtreeNode>();
  /** btree_lock_cmp_fn: a higher level (nearer the root) sorts first. */
  static readonly #order = (a: RwLock, b: RwLock): number =>
    BtreeNode.#of.get(b)!.level - BtreeNode.#of.get(a)!.level;
  readonly lock = new RwLock({ name: "b->lock", order: BtreeNode.#order });
  constructor(readonly level: number) {
    BtreeNode.#of.set(this.lock, this);
  }
}

test("a btree parent write-locked, then its child read-locked (one class, `order` by level), reports nothing", async () => {
  const verdict = await verdictOf(async () => {
    const root = new BtreeNode(1);
    const leaf = new BtreeNode(0);
    await root.lock.acquireWrite();
    await leaf.lock.acquireRead();
  });
  assert.deepEqual(verdict, SUCCESS);
});

test("a btree child locked, then its parent, reports recursive-locking", async () => {
  const verdict = await verdictOf(async () => {
    const root = new BtreeNode(1);
    const leaf = new BtreeNode(0);
    await leaf.lock.acquireRead();
    await root.lock.acquireWrite();
  });
  assert.deepEqual(verdict, RECURSIVE);
  assert.equal(recursiveReport().orderResult, 1);
});
