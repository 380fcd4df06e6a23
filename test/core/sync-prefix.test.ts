// A lock taken synchronously (a trylock) belongs to the flow that took it. After an `await`
// that flow is a promise reaction of its own and the hold is exact; in the synchronous prefix
// of an async function it is not yet (promise hooks report no "function returned"), so the
// caller and the siblings it starts next see the hold too. The first case must hold; the second
// is the known limit README states, kept here as a todo until the context model can see it.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Mutex, tracker } from "../../src/index.js";

beforeEach(() => {
  tracker.configure({ enabled: true, policy: "silent" });
  tracker.reset();
});

const edges = () => tracker.snapshot().edges.map((e) => `${e.from} -> ${e.to}`);

async function takesY(Y: Mutex): Promise<void> {
  (await Y.acquire())();
}

test("a trylock taken after an await is held by its own flow only: no edge to a sibling's lock", async () => {
  const X = new Mutex({ key: "X" });
  const Y = new Mutex({ key: "Y" });
  async function a(): Promise<void> {
    await null;
    const r = X.tryAcquire();
    assert.ok(r);
    await null;
    r();
  }
  await Promise.all([a(), takesY(Y)]);
  assert.deepEqual(edges(), []);
  assert.deepEqual(tracker.reports(), []);
});

test(
  "a trylock in an async function's synchronous prefix is held by that function only",
  {
    todo: "known limit (README): the caller and the sibling started next see it too, a false X -> Y edge",
  },
  async () => {
    const X = new Mutex({ key: "X" });
    const Y = new Mutex({ key: "Y" });
    async function a(): Promise<void> {
      const r = X.tryAcquire();
      assert.ok(r);
      await null;
      r();
    }
    await Promise.all([a(), takesY(Y)]);
    assert.deepEqual(edges(), []);
  },
);
