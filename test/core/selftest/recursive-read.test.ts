// lib/locking-selftest.c, the read-lock rows: recursive readers (rwlock_t read_lock, which the
// selftest forces to be recursive: read = 2) against non-recursive ones (rwsem down_read:
// read = 1), and the W/R permutation rows that check the strong-path rule (reference §1.6).
//
// waitgraph mapping: RL/WL = RwLock({ recursiveRead: true }) read/write; RSL/WSL = RwLock()
// read/write (writer-preferring, so its readers are non-recursive); L = Mutex; ML = Mutex guard.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LockClassKey, RwLock, tracker } from "../../../src/index.js";
import {
  CIRCULAR,
  RECURSIVE,
  SUCCESS,
  World,
  permutations3,
  verdictOf,
  type Verdict,
} from "../../helpers/scenario.js";

interface Case {
  name: string;
  body: (w: World) => Promise<void>;
  expect: Verdict;
  /** Further facts about the reports, checked after the kinds. */
  also?: () => void;
}

const sameInstance = (expected: boolean) => () => {
  const [r] = tracker.reports();
  assert.equal(r?.kind, "recursive-locking");
  if (r?.kind === "recursive-locking") assert.equal(r.sameInstance, expected);
};

const cases: Case[] = [
  {
    // recursive read-lock: RL(X1); RL(X1); // this one should NOT fail
    name: "rlock_AA1: a recursive reader re-reads the same lock",
    body: async ({ RL }) => {
      await RL("X1");
      await RL("X1");
    },
    expect: SUCCESS,
  },
  {
    // RSL(X1); RSL(X1); // this one should fail
    name: "rsem_AA1: a non-recursive reader re-reads the same lock",
    body: async ({ RSL }) => {
      await RSL("X1");
      await RSL("X1");
    },
    expect: RECURSIVE,
    also: sameInstance(true),
  },
  {
    // recursive read-lock #2: RL(X1); RL(X2); // this one should NOT fail
    name: "rlock_AA1B: a recursive reader reads another lock of its class",
    body: async ({ RL }) => {
      await RL("X1");
      await RL("X2");
    },
    expect: SUCCESS,
  },
  {
    // RSL(X1); RSL(X2); // this one should fail
    name: "rsem_AA1B: a non-recursive reader reads another lock of its class",
    body: async ({ RSL }) => {
      await RSL("X1");
      await RSL("X2");
    },
    expect: RECURSIVE,
    also: sameInstance(false),
  },
  {
    // mixed read-write-lock: RL(X1); WL(X2); // this one should fail
    name: "rlock_AA2: a recursive reader write-locks its class",
    body: async ({ RL, WL }) => {
      await RL("X1");
      await WL("X2");
    },
    expect: RECURSIVE,
  },
  {
    name: "rsem_AA2: a non-recursive reader write-locks its class",
    body: async ({ RSL, WSL }) => {
      await RSL("X1");
      await WSL("X2");
    },
    expect: RECURSIVE,
  },
  {
    // mixed write-read-lock: WL(X1); RL(X2); // this one should fail
    name: "rlock_AA3: a writer read-locks its class recursively",
    body: async ({ WL, RL }) => {
      await WL("X1");
      await RL("X2");
    },
    expect: RECURSIVE,
  },
  {
    name: "rsem_AA3: a writer read-locks its class",
    body: async ({ WSL, RSL }) => {
      await WSL("X1");
      await RSL("X2");
    },
    expect: RECURSIVE,
  },
  {
    // read_lock(A); spin_lock(B) | spin_lock(B); write_lock(A) — should fail
    name: "rlock_ABBA1: R(A)→B, then B→W(A)",
    body: async ({ RL, RU, L, U, WL, WU }) => {
      await RL("X1");
      await L("Y1");
      U("Y1");
      RU("X1");

      await L("Y1");
      await WL("X1");
      WU("X1");
      U("Y1");
    },
    expect: CIRCULAR,
  },
  {
    name: "rwsem_ABBA1: r(A)→B, then B→W(A)",
    body: async ({ RSL, RSU, ML, MU, WSL, WSU }) => {
      await RSL("X1");
      await ML("Y1");
      MU("Y1");
      RSU("X1");

      await ML("Y1");
      await WSL("X1");
      WSU("X1");
      MU("Y1");
    },
    expect: CIRCULAR,
  },
  {
    // The chain [B, R(A)] is validated (no deadlock) and cached; [B, W(A)] must not hit it.
    name: "rlock_chaincache_ABBA1: a cached B→R(A) does not hide B→W(A)",
    body: async ({ RL, RU, L, U, WL, WU }) => {
      await RL("X1");
      await L("Y1");
      U("Y1");
      RU("X1");

      await L("Y1");
      await RL("X1");
      RU("X1");
      U("Y1");

      await L("Y1");
      await WL("X1");
      WU("X1");
      U("Y1");
    },
    expect: CIRCULAR,
  },
  {
    // read_lock(A); spin_lock(B) | spin_lock(B); read_lock(A) — should NOT fail
    name: "rlock_ABBA2: R(A)→B, then B→R(A)",
    body: async ({ RL, RU, L, U }) => {
      await RL("X1");
      await L("Y1");
      U("Y1");
      RU("X1");

      await L("Y1");
      await RL("X1");
      RU("X1");
      U("Y1");
    },
    expect: SUCCESS,
  },
  {
    // A non-recursive reader can wait behind a queued writer: the same shape deadlocks.
    name: "rwsem_ABBA2: r(A)→B, then B→r(A)",
    body: async ({ RSL, RSU, ML, MU }) => {
      await RSL("X1");
      await ML("Y1");
      MU("Y1");
      RSU("X1");

      await ML("Y1");
      await RSL("X1");
      RSU("X1");
      MU("Y1");
    },
    expect: CIRCULAR,
  },
  {
    // write_lock(A); spin_lock(B) | spin_lock(B); write_lock(A) — should fail
    name: "rlock_ABBA3: W(A)→B, then B→W(A)",
    body: async ({ WL, WU, L, U }) => {
      await WL("X1");
      await L("Y1");
      U("Y1");
      WU("X1");

      await L("Y1");
      await WL("X1");
      WU("X1");
      U("Y1");
    },
    expect: CIRCULAR,
  },
  {
    name: "rwsem_ABBA3: W(A)→B, then B→W(A)",
    body: async ({ WSL, WSU, ML, MU }) => {
      await WSL("X1");
      await ML("Y1");
      MU("Y1");
      WSU("X1");

      await ML("Y1");
      await WSL("X1");
      WSU("X1");
      MU("Y1");
    },
    expect: CIRCULAR,
  },
];

for (const c of cases)
  test(`${c.name} ${c.expect.length === 0 ? "reports nothing" : `reports ${c.expect.join(", ")}`}`, async () => {
    assert.deepEqual(await verdictOf(() => c.body(new World())), c.expect);
    c.also?.();
  });

// check_deadlock: `if ((next->read == 2) && prev->read) continue;` — a recursive reader may nest
// in any reader of its class, a non-recursive reader may not nest in a recursive one. One class
// with both kinds of reader: two RwLocks sharing a key, one of them recursive.
function mixedReaders(): { r: RwLock; R: RwLock } {
  const key = new LockClassKey();
  return {
    r: new RwLock({ key, name: "X" }),
    R: new RwLock({ key, name: "X", recursiveRead: true }),
  };
}

test("R after r of one class (r(X1); R(X2)) reports nothing", async () => {
  const verdict = await verdictOf(async () => {
    const { r, R } = mixedReaders();
    await r.acquireRead();
    await R.acquireRead();
  });
  assert.deepEqual(verdict, SUCCESS);
});

test("r after R of one class (R(X1); r(X2)) reports recursive-locking", async () => {
  const verdict = await verdictOf(async () => {
    const { r, R } = mixedReaders();
    await R.acquireRead();
    await r.acquireRead();
  });
  assert.deepEqual(verdict, RECURSIVE);
});

// The W/R permutation rows (GENERATE_PERMUTATIONS_3_EVENTS, DO_TESTCASE_6x1RR[B]): three
// events E1, E2, E3 in all six orders. Each event takes two locks of classes X, Y, Z.
type Ev = (w: World) => Promise<void>;
type Mode = "W" | "R";

/** `E(m1 a, m2 b)`: take a in mode m1, then b in mode m2, release both. `reader` picks RL or RSL. */
function ev(
  reader: "RL" | "RSL",
  [m1, a]: [Mode, "X1" | "Y1" | "Z1"],
  [m2, b]: [Mode, "X1" | "Y1" | "Z1"],
): Ev {
  return async (w) => {
    const R = reader === "RL" ? w.RL : w.RSL;
    const W = reader === "RL" ? w.WL : w.WSL;
    const RU = reader === "RL" ? w.RU : w.RSU;
    const WU = reader === "RL" ? w.WU : w.WSU;
    await (m1 === "W" ? W : R)(a);
    await (m2 === "W" ? W : R)(b);
    (m2 === "W" ? WU : RU)(b);
    (m1 === "W" ? WU : RU)(a);
  };
}

const permutationRows: {
  name: string;
  events: (reader: "RL" | "RSL") => [Ev, Ev, Ev];
  recursive: Verdict;
}[] = [
  {
    // write-read / write-read / write-read deadlock even if read is recursive
    name: "W1R2/W2R3/W3R1",
    events: (r) => [
      ev(r, ["W", "X1"], ["R", "Y1"]),
      ev(r, ["W", "Y1"], ["R", "Z1"]),
      ev(r, ["W", "Z1"], ["R", "X1"]),
    ],
    recursive: CIRCULAR,
  },
  {
    // write-write / read-read / write-read deadlock even if read is recursive
    name: "W1W2/R2R3/W3R1",
    events: (r) => [
      ev(r, ["W", "X1"], ["W", "Y1"]),
      ev(r, ["R", "Y1"], ["R", "Z1"]),
      ev(r, ["W", "Z1"], ["R", "X1"]),
    ],
    recursive: CIRCULAR,
  },
  {
    // write-write / read-read / read-write is not deadlock when read is recursive
    name: "W1W2/R2R3/R3W1",
    events: (r) => [
      ev(r, ["W", "X1"], ["W", "Y1"]),
      ev(r, ["R", "Y1"], ["R", "Z1"]),
      ev(r, ["R", "Z1"], ["W", "X1"]),
    ],
    recursive: SUCCESS,
  },
  {
    // write-read / read-read / write-write is not deadlock when read is recursive
    name: "W1R2/R2R3/W3W1",
    events: (r) => [
      ev(r, ["W", "X1"], ["R", "Y1"]),
      ev(r, ["R", "Y1"], ["R", "Z1"]),
      ev(r, ["W", "Z1"], ["W", "X1"]),
    ],
    recursive: SUCCESS,
  },
];

for (const row of permutationRows) {
  for (const { suffix, events } of permutations3(...row.events("RL")))
    test(`rlock ${row.name}_${suffix} ${row.recursive.length === 0 ? "reports nothing" : "reports circular-dependency"}`, async () => {
      const verdict = await verdictOf(async () => {
        const w = new World();
        for (const e of events) await e(w);
      });
      assert.deepEqual(verdict, row.recursive);
    });
  // Not in the kernel's matrix, derived from §1.6: with only non-recursive readers every edge
  // ends in N, every path is strong, so each of these cycles is a deadlock (a reader waits
  // behind a queued writer).
  for (const { suffix, events } of permutations3(...row.events("RSL")))
    test(`rsem ${row.name}_${suffix} reports circular-dependency`, async () => {
      const verdict = await verdictOf(async () => {
        const w = new World();
        for (const e of events) await e(w);
      });
      assert.deepEqual(verdict, CIRCULAR);
    });
}
