// The store compliance suite (keyv's pattern): every store — memory, Redis — runs these, so
// the shared graph can rely on one contract (src/stores/store.ts) whatever holds the edges.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { SharedEdge } from "../../src/core/sharing.js";
import type { Store } from "../../src/stores/store.js";

export interface Backend {
  /** A new client of the same store, as another process would open. */
  store(): Store;
  /** Writes an entry no waitgraph wrote (damaged, or another version's). */
  writeRaw(text: string): Promise<void>;
  /** An outage, and its end. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  end(): Promise<void>;
}

let serial = 0;

export function edge(
  from: string,
  to: string,
  origin: string,
  dep = 8,
): SharedEdge {
  const ref = (name: string) => ({
    id: `key:${name}`,
    name,
    type: "mutex",
    usage: "{+.+.}",
  });
  return {
    from: ref(from),
    to: ref(to),
    dep,
    timeout: false,
    stack: [{ fn: "take", file: `${origin}.ts`, line: ++serial, column: 3 }],
    fromStack: [{ fn: "take", file: `${origin}.ts`, line: 1, column: 3 }],
    task: "main",
    origin: { id: origin, name: `${origin}[1]@host` },
  };
}

/** Opens `store`, collecting what it delivers. */
async function opened(store: Store): Promise<SharedEdge[]> {
  const got: SharedEdge[] = [];
  await store.open((edges) => got.push(...edges));
  return got;
}

/** Waits until `check` holds (a store delivers asynchronously); fails after 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The distinct edges delivered. A store may deliver one twice (store.ts: a client that
 * reconnects loads the whole graph and then reads what was written since it looked, and an
 * edge written in between is in both); the shared graph knows it the second time.
 */
const pairs = (edges: SharedEdge[]) => [
  ...new Set(
    edges.map((e) => `${e.from.name}->${e.to.name}@${e.origin.id}`).sort(),
  ),
];

export function compliance(
  name: string,
  make: () => Promise<Backend>,
  skip?: string,
  /** Why this store has no outage (the threads of one process cannot lose each other), if so. */
  noOutage?: string,
): void {
  describe(`store compliance: ${name}`, { skip }, () => {
    const opened_: Store[] = [];
    const backends: Backend[] = [];
    const fresh = async () => {
      const b = await make();
      backends.push(b);
      return b;
    };
    const client = (b: Backend) => {
      const s = b.store();
      opened_.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened_) await s.close();
      for (const b of backends) await b.end();
    });

    it("delivers an edge one client publishes to another that is open, live", async () => {
      const b = await fresh();
      const p1 = client(b);
      const p2 = client(b);
      await opened(p1);
      const got = await opened(p2);
      p1.publish(edge("A", "B", "p1"));
      await until(() => got.length >= 1, "the edge at p2");
      assert.deepEqual(pairs(got), ["A->B@p1"]);
      assert.equal(await p1.flush(1000), 0);
      assert.equal(p1.status().sent, 1);
      assert.equal(p1.status().online, true);
    });

    it("delivers what was published before a client opened, in its first load", async () => {
      const b = await fresh();
      const p1 = client(b);
      await opened(p1);
      p1.publish(edge("A", "B", "p1"));
      p1.publish(edge("B", "C", "p1"));
      assert.equal(await p1.flush(1000), 0);
      const got = await opened(client(b));
      // Delivered by the time open() resolves: the program's first acquisition sees it.
      assert.deepEqual(pairs(got), ["A->B@p1", "B->C@p1"]);
    });

    it("keeps one edge per class pair and bit: the first writer's", async () => {
      const b = await fresh();
      const p1 = client(b);
      const p2 = client(b);
      await opened(p1);
      await opened(p2);
      p1.publish(edge("A", "B", "p1"));
      assert.equal(await p1.flush(1000), 0);
      p2.publish(edge("A", "B", "p2"));
      p2.publish(edge("A", "B", "p2", 4)); // another bit of the same pair is another edge
      assert.equal(await p2.flush(1000), 0);
      const got = await opened(client(b));
      assert.deepEqual(got.map((e) => `${e.origin.id}:${e.dep}`).sort(), [
        "p1:8",
        "p2:4",
      ]);
    });

    it("skips and counts an entry it cannot read, and delivers the rest", async () => {
      const b = await fresh();
      await b.writeRaw("{not json");
      await b.writeRaw(JSON.stringify({ v: 99, anything: true }));
      const p1 = client(b);
      await opened(p1);
      p1.publish(edge("A", "B", "p1"));
      await p1.flush(1000);
      const p2 = client(b);
      const got = await opened(p2);
      assert.deepEqual(pairs(got), ["A->B@p1"]);
      assert.equal(p2.status().unreadable, 2);
    });

    it(
      "during an outage publish returns at once and keeps the edge; it is sent when the store returns",
      { skip: noOutage },
      async () => {
        const b = await fresh();
        const p1 = client(b);
        const p2 = client(b);
        await opened(p1);
        const got = await opened(p2);
        await b.pause();
        const before = Date.now();
        p1.publish(edge("A", "B", "p1"));
        assert.ok(Date.now() - before < 50, "publish does not wait");
        await until(() => !p1.status().online, "p1 to see the outage");
        assert.equal(p1.status().queued, 1);
        assert.equal(await p1.flush(200), 1, "nothing can be sent while down");
        await b.resume();
        await until(
          () => p1.status().online && p1.status().queued === 0,
          "p1 to reconnect and send",
        );
        await until(() => got.length >= 1, "p2 to reconnect and receive");
        assert.deepEqual(pairs(got), ["A->B@p1"]);
      },
    );

    it(
      "a store never reached resolves open and keeps what is published",
      { skip: noOutage },
      async () => {
        const b = await fresh();
        await b.pause();
        const p1 = client(b);
        const started = Date.now();
        const got = await opened(p1);
        assert.ok(
          Date.now() - started < 5000,
          "open gives up within its bound",
        );
        assert.deepEqual(got, []);
        assert.equal(p1.status().online, false);
        p1.publish(edge("A", "B", "p1"));
        assert.equal(p1.status().queued, 1);
        await b.resume();
        await until(
          () => p1.status().sent === 1,
          "the edge sent once the store is up",
        );
      },
    );

    it("after close, nothing is delivered and publish is dropped, not thrown", async () => {
      const b = await fresh();
      const p1 = client(b);
      const p2 = client(b);
      await opened(p1);
      const got = await opened(p2);
      await p2.close();
      p1.publish(edge("A", "B", "p1"));
      await p1.flush(1000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(got, []);
      p2.publish(edge("B", "A", "p2"));
      assert.equal(p2.status().dropped, 1);
    });
  });
}
