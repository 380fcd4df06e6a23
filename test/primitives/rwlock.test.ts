// RwLock beyond the exclusive suite (which runs its write side): shared readers, writer
// preference, `recursiveRead`, the read-side API and its wake-ups.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RwLock, type AcquireOptions } from "../../src/index.js";
import {
  fakeClock,
  flush,
  hasCode,
  prng,
  tick,
  trackingOnAndOff,
  valueOf,
  watch,
} from "./support.js";

trackingOnAndOff(() => {
  fakeClock();

  it("lets many readers in at once", async () => {
    const rw = new RwLock();
    const readers = await Promise.all([
      rw.acquireRead(),
      rw.acquireRead(),
      rw.acquireRead(),
    ]);
    assert.equal(rw.isLocked(), true);
    assert.equal(rw.isWriteLocked(), false);
    const tried = rw.tryAcquireRead();
    assert.ok(tried !== undefined);
    for (const release of [...readers, tried]) release();
    assert.equal(rw.isLocked(), false);
  });

  it("keeps readers out while a writer holds it, then lets them all in together", async () => {
    const rw = new RwLock();
    const write = await rw.acquireWrite();
    assert.equal(rw.isWriteLocked(), true);
    assert.equal(rw.tryAcquireRead(), undefined);
    const readers = [watch(rw.acquireRead()), watch(rw.acquireRead())];
    await tick(100);
    assert.deepEqual(
      readers.map((r) => r.state),
      ["pending", "pending"],
    );
    write();
    await flush();
    assert.equal(rw.isWriteLocked(), false);
    assert.equal(rw.isLocked(), true);
    for (const r of readers) valueOf(r)();
    assert.equal(rw.isLocked(), false);
  });

  it("keeps a writer out until the last reader leaves", async () => {
    const rw = new RwLock();
    const r1 = await rw.acquireRead();
    const r2 = await rw.acquireRead();
    assert.equal(rw.tryAcquireWrite(), undefined);
    const writer = watch(rw.acquireWrite());
    r1();
    await flush();
    assert.equal(writer.state, "pending");
    r2();
    await flush();
    assert.equal(rw.isWriteLocked(), true);
    valueOf(writer)();
    assert.equal(rw.isLocked(), false);
  });

  it("prefers writers: a reader arriving while a writer waits queues behind it", async () => {
    const rw = new RwLock();
    const order: string[] = [];
    const first = await rw.acquireRead();
    const writer = watch(
      rw.acquireWrite().then((release) => {
        order.push("writer");
        return release;
      }),
    );
    const reader = watch(
      rw.acquireRead().then((release) => {
        order.push("reader");
        return release;
      }),
    );
    assert.equal(rw.tryAcquireRead(), undefined, "tryAcquireRead jumped");
    await flush();
    assert.deepEqual(order, [], "the late reader overtook the waiting writer");
    first();
    await flush();
    assert.deepEqual(order, ["writer"]);
    valueOf(writer)();
    await flush();
    assert.deepEqual(order, ["writer", "reader"]);
    valueOf(reader)();
    assert.equal(rw.isLocked(), false);
  });

  it("grants readers in a batch up to the next queued writer", async () => {
    const rw = new RwLock();
    const write = await rw.acquireWrite();
    const order: string[] = [];
    const queued = (
      [
        ["r1", "read"],
        ["r2", "read"],
        ["w", "write"],
        ["r3", "read"],
      ] as const
    ).map(([name, mode]) =>
      watch(
        (mode === "read" ? rw.acquireRead() : rw.acquireWrite()).then(
          (release) => {
            order.push(name);
            return release;
          },
        ),
      ),
    );
    write();
    await flush();
    assert.deepEqual(order, ["r1", "r2"]);
    valueOf(queued[0]!)();
    valueOf(queued[1]!)();
    await flush();
    assert.deepEqual(order, ["r1", "r2", "w"]);
    valueOf(queued[2]!)();
    await flush();
    assert.deepEqual(order, ["r1", "r2", "w", "r3"]);
    valueOf(queued[3]!)();
    assert.equal(rw.isLocked(), false);
  });

  it("lets the readers behind a waiting writer in when the writer times out", async () => {
    const rw = new RwLock();
    const held = await rw.acquireRead();
    const writer = watch(rw.acquireWrite({ timeout: 10 }));
    const reader = watch(rw.acquireRead());
    await tick(9);
    assert.equal(reader.state, "pending");
    await tick(1);
    hasCode("ERR_WAITGRAPH_TIMEOUT")(writer.reason);
    assert.equal(
      reader.state,
      "fulfilled",
      "readers hold, no writer waits, yet the reader waits",
    );
    valueOf(reader)();
    held();
    assert.equal(rw.isLocked(), false);
  });

  it("lets the readers behind a waiting writer in when the writer is aborted", async () => {
    const rw = new RwLock();
    const held = await rw.acquireRead();
    const ac = new AbortController();
    const writer = watch(rw.acquireWrite({ signal: ac.signal }));
    const reader = watch(rw.acquireRead());
    ac.abort("no");
    await flush();
    assert.equal(writer.reason, "no");
    assert.equal(reader.state, "fulfilled");
    valueOf(reader)();
    held();
    assert.equal(rw.isLocked(), false);
  });

  it("runs runRead and runWrite under the lock and releases on throw", async () => {
    const rw = new RwLock();
    assert.deepEqual(
      await rw.runRead(() => [rw.isLocked(), rw.isWriteLocked()]),
      [true, false],
    );
    assert.equal(
      await rw.runWrite(async () => {
        await flush();
        return rw.isWriteLocked();
      }),
      true,
    );
    const boom = new Error("boom");
    await assert.rejects(
      rw.runRead(() => {
        throw boom;
      }),
      (e) => e === boom,
    );
    await assert.rejects(
      rw.runWrite(() => Promise.reject(boom)),
      (e) => e === boom,
    );
    assert.equal(rw.isLocked(), false);
    await assert.rejects(
      rw.runRead(1 as unknown as () => void),
      hasCode("ERR_WAITGRAPH_INVALID_ARGUMENT"),
    );
  });

  it("shares the read side among concurrent runRead calls", async () => {
    const rw = new RwLock();
    let inside = 0;
    let most = 0;
    const read = () =>
      rw.runRead(async () => {
        most = Math.max(most, ++inside);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inside--;
      });
    const all = watch(Promise.all([read(), read(), read()]));
    await flush();
    await tick(10);
    assert.equal(all.state, "fulfilled");
    assert.equal(most, 3);
  });

  it("releases lockRead and lockWrite guards at the end of `await using` scopes", async () => {
    const rw = new RwLock();
    {
      await using a = await rw.lockRead();
      await using b = await rw.lockRead();
      void [a, b];
      assert.equal(rw.isLocked(), true);
      assert.equal(rw.isWriteLocked(), false);
    }
    assert.equal(rw.isLocked(), false);
    {
      using w = await rw.lockWrite();
      void w;
      assert.equal(rw.isWriteLocked(), true);
    }
    assert.equal(rw.isLocked(), false);
  });

  it("releases a read only once however often its releaser is called", async () => {
    const rw = new RwLock();
    const r1 = await rw.acquireRead();
    const r2 = await rw.acquireRead();
    r1();
    r1();
    assert.equal(rw.isLocked(), true, "r2 still reads");
    assert.equal(rw.tryAcquireWrite(), undefined);
    r2();
    assert.equal(rw.isLocked(), false);
  });

  it("rejects a non-boolean recursiveRead", () => {
    assert.throws(
      () => new RwLock({ recursiveRead: "yes" as unknown as boolean }),
      hasCode("ERR_WAITGRAPH_INVALID_ARGUMENT"),
    );
  });

  it("times out and aborts read waiters like write waiters", async () => {
    const rw = new RwLock();
    const write = await rw.acquireWrite();
    const timed = watch(rw.acquireRead({ timeout: 5 }));
    const ac = new AbortController();
    const aborted = watch(rw.acquireRead({ signal: ac.signal }));
    const later = watch(rw.acquireRead());
    ac.abort("stop");
    await tick(5);
    hasCode("ERR_WAITGRAPH_TIMEOUT")(timed.reason);
    assert.equal(aborted.reason, "stop");
    await assert.rejects(
      rw.acquireRead({ signal: AbortSignal.abort("early") }),
      (e) => e === "early",
    );
    write();
    await flush();
    valueOf(later)();
    assert.equal(rw.isLocked(), false);
  });

  describe("recursiveRead: true", () => {
    it("lets readers in while a writer waits", async () => {
      const rw = new RwLock({ recursiveRead: true });
      const r1 = await rw.acquireRead();
      const writer = watch(rw.acquireWrite());
      const r2 = watch(rw.acquireRead());
      await flush();
      assert.equal(r2.state, "fulfilled");
      const r3 = rw.tryAcquireRead();
      assert.ok(r3 !== undefined, "tryAcquireRead enters too");
      r1();
      valueOf(r2)();
      await flush();
      assert.equal(writer.state, "pending");
      r3();
      await flush();
      assert.equal(rw.isWriteLocked(), true, "the writer gets in last");
      valueOf(writer)();
      assert.equal(rw.isLocked(), false);
    });

    it("still keeps readers out while a writer holds it", async () => {
      const rw = new RwLock({ recursiveRead: true });
      const write = await rw.acquireWrite();
      assert.equal(rw.tryAcquireRead(), undefined);
      const reader = watch(rw.acquireRead());
      await flush();
      assert.equal(reader.state, "pending");
      write();
      await flush();
      valueOf(reader)();
      assert.equal(rw.isLocked(), false);
    });
  });

  for (const recursiveRead of [false, true])
    for (const seed of [5, 11, 77])
      it(`keeps writers exclusive and loses no wake-up among random readers and writers (recursiveRead ${recursiveRead}, seed ${seed})`, async () => {
        const random = prng(seed);
        const rw = new RwLock({ recursiveRead });
        const count = 300;
        let readers = 0;
        let writers = 0;
        let settled = 0;
        const violations: string[] = [];
        const waiting: { id: number; write: boolean }[] = [];
        for (let i = 0; i < count; i++) {
          const write = random() < 0.3;
          const arrive = Math.floor(random() * 200);
          const kind = random();
          const o: AcquireOptions = {};
          if (kind < 0.25) o.timeout = Math.floor(random() * 20);
          else if (kind < 0.5) {
            const ac = new AbortController();
            o.signal = ac.signal;
            setTimeout(() => ac.abort(), arrive + Math.floor(random() * 20));
          }
          const holdFor = Math.floor(random() * 5);
          setTimeout(() => {
            if (o.signal?.aborted === true) {
              settled++;
              return;
            }
            const me = { id: i, write };
            waiting.push(me);
            (write ? rw.acquireWrite(o) : rw.acquireRead(o)).then(
              (release) => {
                waiting.splice(waiting.indexOf(me), 1);
                if (write) writers++;
                else readers++;
                if (writers > 1 || (writers === 1 && readers > 0))
                  violations.push(`${writers} writers, ${readers} readers`);
                setTimeout(() => {
                  if (write) writers--;
                  else readers--;
                  settled++;
                  release();
                }, holdFor);
              },
              () => {
                waiting.splice(waiting.indexOf(me), 1);
                settled++;
              },
            );
          }, arrive);
        }
        for (let t = 0; settled < count; t++) {
          assert.ok(t < 100_000, "waiters never settled: a lost wake-up");
          await tick(1);
          assert.equal(rw.isWriteLocked(), writers === 1);
          assert.equal(rw.isLocked(), writers + readers > 0);
          const head = waiting[0];
          if (head !== undefined && !rw.isLocked())
            violations.push(`${head.id} waits on a free lock`);
          if (head !== undefined && !head.write && !rw.isWriteLocked())
            violations.push(`reader ${head.id} waits with no writer in`);
        }
        assert.deepEqual(violations, []);
        assert.equal(rw.isLocked(), false);
      });
});
