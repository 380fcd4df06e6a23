// Timed waits (reference §2.7). A cycle through a wait with a timeout can delay, not hang: by
// default it is not reported. `tracker.configure({ reportTimeouts: true })` reports it as DEPT's
// CONFIG_DEPT_AGGRESSIVE_TIMEOUT_WAIT does — "circular dependency through a timeout", with
// `timeout: true` and the `>8 timeout` mark under the timed [W].
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import {
  Completion,
  Mutex,
  task,
  tracker,
  type Report,
} from "../../../src/index.js";
import { fresh } from "../../helpers/edges.js";
import { hasCode } from "../../primitives/support.js";
import { assertVerdicts, edgesAmong, later } from "./support.js";

let M: Mutex;
let C: Completion;

beforeEach(() => {
  fresh();
  mock.timers.enable({ apis: ["setTimeout"] });
  M = new Mutex({ key: "M" });
  C = new Completion({ key: "C" });
});
afterEach(() => {
  mock.timers.reset();
  tracker.configure({ reportTimeouts: false });
});

/** A holder of M waits for C (with `timeout`, if given) until a helper completes it: M → C. */
async function holderWaits(timeout?: number): Promise<void> {
  await task("holder", async () => {
    const release = await M.acquire();
    const blocked = C.wait(timeout === undefined ? undefined : { timeout });
    later("helper", () => C.complete());
    await blocked;
    release();
  });
}

/** A completer of C takes M inside C's event context: C → M. */
async function completerTakesM(): Promise<void> {
  const waiter = task("waiter", () => C.wait());
  await task("completer", async () => {
    const release = await M.acquire();
    release();
    C.complete();
  });
  await waiter;
}

/** `[W]` lines of the summary, and whether the `>8 timeout` mark follows each. */
function timedWaitLines(r: Report): string[] {
  const summary = r.text.split("[S]: start of the event context")[0]!;
  const lines = summary.split("\n");
  return lines
    .map((l, i) =>
      l.startsWith("   [W] ")
        ? `${l.trim()}${lines[i + 1]?.includes(">8 timeout") === true ? " >8" : ""}`
        : "",
    )
    .filter((l) => l !== "");
}

describe("by default", () => {
  it("does not report a cycle whose only way round is a timed wait", async () => {
    await holderWaits(1_000);
    await completerTakesM();
    assert.deepEqual(edgesAmong("M", "C"), ["C -> M", "M -> C"]);
    assertVerdicts([]);
  });

  it("does not report it either when the timed wait closes the cycle, or when it times out", async () => {
    await completerTakesM();
    await task("holder", async () => {
      const release = await M.acquire();
      const gaveUp = assert.rejects(
        C.wait({ timeout: 50 }),
        hasCode("ERR_WAITGRAPH_TIMEOUT"),
      );
      mock.timers.tick(50);
      await gaveUp;
      release();
    });
    assertVerdicts([]);
  });

  it("reports the untimed wait of the same chain after a timed one (the timed verdict is cached apart)", async () => {
    await holderWaits(1_000);
    await completerTakesM();
    assertVerdicts([]);
    await holderWaits();
    assertVerdicts([{ kind: "circular-dependency", classes: ["C", "M"] }]);
  });

  it("reports an event's dependency made by an untimed wait after the same one made by a timed wait", async () => {
    // C → D first from a completer of C that waited for D with a timeout, then D → C (a
    // completer of D waited for C), then C → D again from an untimed wait: now a deadlock.
    const D = new Completion({ key: "D" });
    const round = async (timeout?: number) => {
      const waiter = task("waiter", () => C.wait());
      await task("completer", async () => {
        const blocked = D.wait(timeout === undefined ? undefined : { timeout });
        later("helper", () => D.complete());
        await blocked;
        C.complete();
      });
      await waiter;
    };
    await round(1_000); // C → D, timed
    const waiter = task("waiter", () => D.wait());
    await task("other", async () => {
      const blocked = C.wait();
      later("helper", () => C.complete());
      await blocked;
      D.complete(); // D → C
    });
    await waiter;
    assert.deepEqual(edgesAmong("C", "D"), ["C -> D", "D -> C"]);
    assertVerdicts([]);
    await round(); // C → D, untimed
    assertVerdicts([{ kind: "circular-dependency", classes: ["D", "C"] }]);
  });
});

describe("with reportTimeouts: true", () => {
  beforeEach(() => tracker.configure({ reportTimeouts: true }));

  it("rejects a reportTimeouts that is not a boolean, and changes nothing", () => {
    assert.throws(
      () => tracker.configure({ reportTimeouts: "yes" as unknown as boolean }),
      hasCode("ERR_WAITGRAPH_INVALID_ARGUMENT"),
    );
    assert.equal(tracker.stats().enabled, true);
  });

  it("reports the cycle through the timed wait as a circular dependency through a timeout", async () => {
    await holderWaits(1_000);
    await completerTakesM();
    assertVerdicts([
      { kind: "circular-dependency", classes: ["M", "C"], timeout: true },
    ]);
    const r = tracker.reports()[0]!;
    assert.match(
      r.text,
      /^NOT A DEADLOCK BUT A CIRCULAR DEPENDENCY\nCHECK IF THE TIMEOUT IS INTENDED$/m,
    );
    assert.doesNotMatch(r.text, /\*\*\* DEADLOCK \*\*\*/);
    // The mark sits under the timed wait only: the holder's wait for C, not the completer's M.
    assert.deepEqual(timedWaitLines(r), [
      "[W] lock(M)",
      "[W] wait_for_completion(C) >8",
    ]);
  });

  it("marks the timed wait when it is the one that closes the cycle", async () => {
    await completerTakesM();
    await holderWaits(1_000);
    assertVerdicts([
      { kind: "circular-dependency", classes: ["C", "M"], timeout: true },
    ]);
    assert.deepEqual(timedWaitLines(tracker.reports()[0]!), [
      "[W] wait_for_completion(C) >8",
      "[W] lock(M)",
    ]);
  });

  it("still reports an untimed cycle as a deadlock, not through a timeout", async () => {
    await holderWaits();
    await completerTakesM();
    assertVerdicts([{ kind: "circular-dependency", classes: ["M", "C"] }]);
    assert.match(tracker.reports()[0]!.text, /^\*\*\* DEADLOCK \*\*\*$/m);
  });

  it("reports AA through a timeout: a task that gave up waiting for C, then completes C while another waits", async () => {
    const other = task("waiter", () => C.wait());
    await task("impatient", async () => {
      // It blocks on the wait first (assert.rejects awaits it), then the clock runs out.
      const gaveUp = assert.rejects(
        C.wait({ timeout: 10 }),
        hasCode("ERR_WAITGRAPH_TIMEOUT"),
      );
      mock.timers.tick(10);
      await gaveUp;
      C.complete(); // C → C, through the timed wait
    });
    await other;
    assertVerdicts([
      { kind: "circular-dependency", classes: ["C"], timeout: true },
    ]);
    assert.match(
      tracker.reports()[0]!.text,
      /^NOT A DEADLOCK BUT A CIRCULAR DEPENDENCY$/m,
    );
  });

  it("does not report that AA when timeouts are not reported", async () => {
    tracker.configure({ reportTimeouts: false });
    const other = task("waiter", () => C.wait());
    await task("impatient", async () => {
      // It blocks on the wait first (assert.rejects awaits it), then the clock runs out.
      const gaveUp = assert.rejects(
        C.wait({ timeout: 10 }),
        hasCode("ERR_WAITGRAPH_TIMEOUT"),
      );
      mock.timers.tick(10);
      await gaveUp;
      C.complete();
    });
    await other;
    assertVerdicts([]);
  });
});
