// Semaphore beyond the exclusive suite: permits, weights, FIFO among weights, `available`.
import assert from "node:assert/strict";
import { it } from "node:test";
import { Semaphore, type SemaphoreAcquireOptions } from "../../src/index.js";
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

const INVALID = "ERR_WAITGRAPH_INVALID_ARGUMENT";

trackingOnAndOff(() => {
  fakeClock();

  it("rejects permits that are not a positive integer", () => {
    for (const permits of [0, -1, 1.5, Number.NaN, Infinity, "2", undefined])
      assert.throws(
        () => new Semaphore(permits as unknown as number),
        hasCode(INVALID),
        `permits ${String(permits)}`,
      );
    assert.equal(new Semaphore(3).permits, 3);
  });

  it("lets up to `permits` holders in at once and counts `available`", async () => {
    const sem = new Semaphore(3);
    assert.equal(sem.available, 3);
    const a = await sem.acquire();
    const b = await sem.acquire();
    assert.equal(sem.available, 1);
    assert.equal(sem.isLocked(), false);
    const c = await sem.acquire();
    assert.equal(sem.available, 0);
    assert.equal(sem.isLocked(), true);
    const d = watch(sem.acquire());
    await flush();
    assert.equal(d.state, "pending");
    b();
    await flush();
    assert.equal(sem.available, 0, "b's permit went straight to d");
    a();
    c();
    valueOf(d)();
    assert.equal(sem.available, 3);
  });

  it("takes and gives back `weight` permits", async () => {
    const sem = new Semaphore(5);
    const heavy = await sem.acquire({ weight: 3 });
    assert.equal(sem.available, 2);
    const light = sem.tryAcquire({ weight: 2 });
    assert.ok(light !== undefined);
    assert.equal(sem.available, 0);
    assert.equal(sem.tryAcquire({ weight: 1 }), undefined);
    heavy();
    assert.equal(sem.available, 3);
    heavy();
    assert.equal(sem.available, 3, "a second release gives nothing back");
    light();
    assert.equal(sem.available, 5);
    assert.equal(await sem.runExclusive(() => sem.available, { weight: 4 }), 1);
    {
      await using guard = await sem.lock({ weight: 5 });
      void guard;
      assert.equal(sem.available, 0);
    }
    assert.equal(sem.available, 5);
  });

  it("never lets a light waiter overtake a heavy waiter at the head (FIFO)", async () => {
    const sem = new Semaphore(3);
    const held = await sem.acquire({ weight: 2 });
    const heavy = watch(sem.acquire({ weight: 2 }));
    const light = watch(sem.acquire({ weight: 1 }));
    await flush();
    assert.equal(sem.available, 1);
    assert.equal(heavy.state, "pending");
    assert.equal(light.state, "pending", "the light waiter jumped the queue");
    assert.equal(sem.isLocked(), true, "an acquire would wait");
    assert.equal(sem.tryAcquire({ weight: 1 }), undefined);
    held();
    await flush();
    assert.equal(heavy.state, "fulfilled");
    assert.equal(light.state, "fulfilled");
    assert.equal(sem.available, 0);
    valueOf(heavy)();
    valueOf(light)();
    assert.equal(sem.available, 3);
  });

  it("grants several waiters at one release while they fit, in order", async () => {
    const sem = new Semaphore(4);
    const all = await sem.acquire({ weight: 4 });
    const order: number[] = [];
    const waiters = [1, 2, 1, 3].map((weight, i) =>
      watch(
        sem.acquire({ weight }).then((release) => {
          order.push(i);
          return release;
        }),
      ),
    );
    all();
    await flush();
    assert.deepEqual(order, [0, 1, 2], "weights 1+2+1 fit, 3 waits");
    assert.equal(waiters[3]!.state, "pending");
    valueOf(waiters[1]!)();
    await flush();
    assert.equal(waiters[3]!.state, "pending", "3 needs the whole release");
    valueOf(waiters[0]!)();
    await flush();
    assert.deepEqual(order, [0, 1, 2, 3]);
    valueOf(waiters[2]!)();
    valueOf(waiters[3]!)();
    assert.equal(sem.available, 4);
  });

  it("lets the waiters behind a heavy head in when the head times out", async () => {
    const sem = new Semaphore(2);
    const held = await sem.acquire();
    const heavy = watch(sem.acquire({ weight: 2, timeout: 10 }));
    const light = watch(sem.acquire({ weight: 1 }));
    await tick(10);
    hasCode("ERR_WAITGRAPH_TIMEOUT")(heavy.reason);
    assert.equal(
      light.state,
      "fulfilled",
      "a free permit, yet the waiter waits",
    );
    assert.equal(sem.available, 0);
    valueOf(light)();
    held();
    assert.equal(sem.available, 2);
  });

  it("lets the waiters behind a heavy head in when the head is aborted", async () => {
    const sem = new Semaphore(2);
    const held = await sem.acquire();
    const ac = new AbortController();
    const heavy = watch(sem.acquire({ weight: 2, signal: ac.signal }));
    const light = watch(sem.acquire());
    ac.abort("gone");
    await flush();
    assert.equal(heavy.reason, "gone");
    assert.equal(
      light.state,
      "fulfilled",
      "a free permit, yet the waiter waits",
    );
    valueOf(light)();
    held();
    assert.equal(sem.available, 2);
  });

  it("rejects bad weights with ERR_WAITGRAPH_INVALID_ARGUMENT and changes nothing", async () => {
    const sem = new Semaphore(2);
    const bad = [0, -1, 1.5, 3, Number.NaN, Infinity, "1", null];
    for (const weight of bad) {
      const o = { weight } as unknown as SemaphoreAcquireOptions;
      await assert.rejects(sem.acquire(o), hasCode(INVALID));
      await assert.rejects(sem.lock(o), hasCode(INVALID));
      let ran = false;
      await assert.rejects(
        sem.runExclusive(() => (ran = true), o),
        hasCode(INVALID),
      );
      assert.equal(ran, false);
      assert.throws(() => sem.tryAcquire(o), hasCode(INVALID));
      assert.equal(sem.available, 2, `weight ${String(weight)}`);
    }
  });

  for (const seed of [3, 99, 2024]) {
    it(`keeps FIFO and loses no wake-up with random weights, timeouts and aborts (seed ${seed})`, async () => {
      const random = prng(seed);
      const permits = 4;
      const sem = new Semaphore(permits);
      const count = 300;
      let used = 0;
      let settled = 0;
      /** Waiters in arrival order, still waiting: the head must not fit. */
      const waiting: { id: number; weight: number }[] = [];
      const grants: number[] = [];
      const violations: string[] = [];
      for (let i = 0; i < count; i++) {
        const weight = 1 + Math.floor(random() * permits);
        const arrive = Math.floor(random() * 200);
        const kind = random();
        const o: SemaphoreAcquireOptions = { weight };
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
          const me = { id: i, weight };
          waiting.push(me);
          sem.acquire(o).then(
            (release) => {
              if (waiting[0] !== me)
                violations.push(`${i} granted before ${waiting[0]?.id}`);
              waiting.splice(waiting.indexOf(me), 1);
              grants.push(i);
              used += weight;
              if (used > permits) violations.push(`${used} permits out`);
              setTimeout(() => {
                used -= weight;
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
        assert.equal(sem.available, permits - used);
        const head = waiting[0];
        if (head !== undefined)
          assert.ok(
            head.weight > sem.available,
            `waiter ${head.id} (weight ${head.weight}) waits while ${sem.available} permits are free`,
          );
      }
      assert.deepEqual(violations, []);
      assert.equal(sem.available, permits);
      assert.ok(grants.length > 0);
    });
  }
});
