// Hand-built reports, one or more per kind, rendered by text.test.ts against test/golden/.
// Paths are relative (as relativeFile leaves them when the run's cwd is the project root).
import type {
  ClassRef,
  LockRef,
  ReadMode,
  ReportData,
  ReportKind,
  SourceFrame,
} from "../../src/core/report.js";

function at(
  fn: string,
  file: string,
  line: number,
  column: number,
): SourceFrame {
  return { fn, file, line, column };
}

function cls(name: string, usage = "{+.+.}", type = "mutex"): ClassRef {
  return { id: `key:${name}`, name, type, usage };
}

function lock(
  c: ClassRef,
  where: SourceFrame[],
  read: ReadMode = 0,
  instance?: string,
): LockRef {
  return {
    ...c,
    read,
    at: where,
    ...(instance !== undefined ? { instance } : {}),
  };
}

const account = cls("account");
const ledger = cls("ledger");
const audit = cls("audit-log", "{++++}", "rwlock");
const pool = cls("pg.Pool@src/db.ts:4:14", "{+.+.}", "semaphore");

const transferTakesAccount = [
  at("transfer", "src/bank.ts", 12, 27),
  at("<anonymous>", "src/bank.ts", 40, 3),
];
const transferTakesLedger = [
  at("transfer", "src/bank.ts", 13, 26),
  at("<anonymous>", "src/bank.ts", 40, 3),
];
const reconcileTakesLedger = [
  at("reconcile", "src/ledger.ts", 21, 26),
  at("nightly", "src/jobs/nightly.ts", 8, 9),
];
const reconcileTakesAccount = [
  at("reconcile", "src/ledger.ts", 22, 27),
  at("nightly", "src/jobs/nightly.ts", 8, 9),
];

/** A (account) → B (ledger) recorded by transfer; reconcile holds B and takes A. */
const abba: ReportData = {
  kind: "circular-dependency",
  id: "circular-dependency:key:account -> key:ledger",
  classes: ["account", "ledger"],
  task: "nightly",
  held: [lock(ledger, reconcileTakesLedger)],
  stack: reconcileTakesAccount,
  next: lock(account, reconcileTakesAccount),
  prev: lock(ledger, reconcileTakesLedger),
  chain: [
    { class: ledger, read: 0, stack: transferTakesLedger },
    { class: account, read: 0, stack: reconcileTakesAccount },
  ],
  cycle: [account, ledger],
};

const sharedLedger = cls("ledger", "{++++}", "rwlock");
/**
 * A three-class cycle with read locks: audit-log → account → ledger recorded; now a task that
 * holds ledger for reading takes audit-log for reading. One held lock has no saved site.
 */
const chain3: ReportData = {
  kind: "circular-dependency",
  id: "circular-dependency:key:audit-log -> key:account -> key:ledger",
  classes: ["audit-log", "account", "ledger"],
  task: "report-export",
  held: [
    lock(cls("request"), [], 0, "req#17"),
    lock(sharedLedger, [at("exportAll", "src/export.ts", 30, 5)], 1),
  ],
  stack: [
    at("exportAll", "src/export.ts", 31, 5),
    at("handler", "src/http/routes.ts", 77, 12),
  ],
  next: lock(audit, [at("exportAll", "src/export.ts", 31, 5)], 1),
  prev: lock(sharedLedger, [at("exportAll", "src/export.ts", 30, 5)], 1),
  chain: [
    { class: sharedLedger, read: 0, stack: transferTakesLedger },
    {
      class: account,
      read: 0,
      stack: [at("appendAudit", "src/audit.ts", 9, 11)],
    },
    { class: audit, read: 1, stack: [at("exportAll", "src/export.ts", 31, 5)] },
  ],
  cycle: [audit, account, sharedLedger],
};

const mlock = cls("iio_dev.mlock");

/** Two devices of one class nest: the kernel's missing-annotation case, with an `order` function. */
const recursiveOrder: ReportData = {
  kind: "recursive-locking",
  id: "recursive-locking:key:iio_dev.mlock",
  classes: ["iio_dev.mlock"],
  task: "main",
  held: [lock(mlock, [at("readChannel", "src/iio.ts", 50, 20)], 0, "adc0")],
  stack: [
    at("readTrigger", "src/iio.ts", 61, 20),
    at("readChannel", "src/iio.ts", 52, 11),
  ],
  next: lock(mlock, [at("readTrigger", "src/iio.ts", 61, 20)], 0, "trig0"),
  prev: lock(mlock, [at("readChannel", "src/iio.ts", 50, 20)], 0, "adc0"),
  orderResult: 1,
  sameInstance: false,
  certain: false,
};

/** The same device lock taken again on one call path: certain, whatever the annotations. */
const recursiveSame: ReportData = {
  kind: "recursive-locking",
  id: "recursive-locking:key:device:same-instance",
  classes: ["device"],
  task: "probe",
  held: [lock(cls("device"), [at("probe", "src/device.ts", 14, 9)])],
  stack: [
    at("reset", "src/device.ts", 30, 9),
    at("probe", "src/device.ts", 16, 3),
  ],
  next: lock(cls("device"), [at("reset", "src/device.ts", 30, 9)]),
  prev: lock(cls("device"), [at("probe", "src/device.ts", 14, 9)]),
  sameInstance: true,
  certain: true,
};

/** A pool of connections: a task holding one permit waits for a second (pool starvation). */
const recursivePool: ReportData = {
  kind: "recursive-locking",
  id: "recursive-locking:key:pool:same-instance",
  classes: [pool.name],
  task: "batch",
  held: [lock(pool, [at("saveOrder", "src/orders.ts", 18, 30)])],
  stack: [
    at("loadCustomer", "src/orders.ts", 40, 25),
    at("saveOrder", "src/orders.ts", 20, 5),
  ],
  next: lock(pool, [at("loadCustomer", "src/orders.ts", 40, 25)]),
  prev: lock(pool, [at("saveOrder", "src/orders.ts", 18, 30)]),
  sameInstance: true,
  certain: false,
};

const done = cls("done", "{+.+.}", "completion");
const m = cls("queue.lock");

/**
 * DEPT's documentation example: the waiter holds m and waits for `done`; the completer takes m
 * before it completes `done`.
 */
const dept: ReportData = {
  kind: "circular-dependency",
  id: "circular-dependency:key:done -> key:queue.lock",
  classes: ["done", "queue.lock"],
  task: "worker",
  held: [lock(m, [at("drain", "src/queue.ts", 20, 27)])],
  stack: [
    at("flush", "src/worker.ts", 33, 13),
    at("run", "src/worker.ts", 12, 5),
  ],
  next: lock(m, [at("flush", "src/worker.ts", 33, 13)]),
  prev: lock(done, []),
  chain: [
    { class: done, read: 0, stack: [at("drain", "src/queue.ts", 22, 17)] },
    { class: m, read: 0, stack: [at("flush", "src/worker.ts", 33, 13)] },
  ],
  cycle: [m, done],
  waits: [
    {
      start: {
        fn: "wait",
        class: done,
        at: [at("drain", "src/queue.ts", 22, 17)],
      },
      wait: {
        fn: "lock",
        class: m,
        at: [
          at("flush", "src/worker.ts", 33, 13),
          at("run", "src/worker.ts", 12, 5),
        ],
      },
      event: {
        fn: "complete",
        class: done,
        at: [at("flush", "src/worker.ts", 35, 9)],
      },
    },
    {
      start: {
        fn: "lock",
        class: m,
        at: [at("drain", "src/queue.ts", 20, 27)],
      },
      wait: {
        fn: "wait",
        class: done,
        at: [
          at("drain", "src/queue.ts", 22, 17),
          at("main", "src/main.ts", 5, 1),
        ],
      },
      event: { fn: "unlock", class: m, at: [] },
    },
  ],
};

const ready = cls("ready", "{+.+.}", "deferred");

/** A task awaiting a deferred that only it resolves, later: AA through an event. */
const deptAA: ReportData = {
  kind: "circular-dependency",
  id: "circular-dependency:key:ready",
  classes: ["ready"],
  task: "init",
  held: [],
  stack: [at("init", "src/boot.ts", 11, 9)],
  next: lock(ready, [at("init", "src/boot.ts", 11, 9)]),
  prev: lock(ready, [at("init", "src/boot.ts", 10, 3)]),
  chain: [{ class: ready, read: 0, stack: [at("init", "src/boot.ts", 11, 9)] }],
  cycle: [ready],
  waits: [
    {
      start: {
        fn: "await",
        class: ready,
        at: [at("init", "src/boot.ts", 11, 9)],
      },
      wait: {
        fn: "await",
        class: ready,
        at: [
          at("init", "src/boot.ts", 11, 9),
          at("<anonymous>", "src/boot.ts", 30, 1),
        ],
      },
      event: { fn: "resolve", class: ready, at: [] },
    },
  ],
};

/** The same shape as `dept`, but the completion wait had a timeout. */
const deptTimeout: ReportData = {
  ...dept,
  id: "circular-dependency:key:done -> key:queue.lock:timeout",
  timeout: true,
  waits:
    dept.kind === "circular-dependency" && dept.waits !== undefined
      ? [
          dept.waits[0]!,
          {
            ...dept.waits[1]!,
            wait: { ...dept.waits[1]!.wait, timeout: true },
          },
        ]
      : [],
};

const badUnlock: ReportData = {
  kind: "bad-unlock-balance",
  id: "bad-unlock-balance:key:account:src/bank.ts:18",
  classes: ["account"],
  task: "transfer",
  held: [],
  stack: [
    at("transfer", "src/bank.ts", 18, 5),
    at("<anonymous>", "src/bank.ts", 40, 3),
  ],
  lock: lock(account, [at("transfer", "src/bank.ts", 18, 5)], 0, "alice"),
};

const heldAtEnd: ReportData = {
  kind: "held-at-task-end",
  id: "held-at-task-end:import:key:account,key:ledger",
  classes: ["account", "ledger"],
  task: "import",
  held: [
    lock(account, transferTakesAccount),
    lock(ledger, transferTakesLedger),
  ],
  stack: [at("<anonymous>", "src/import.ts", 9, 1)],
  locks: [
    lock(account, transferTakesAccount),
    lock(ledger, transferTakesLedger),
  ],
};

const assertionRead: ReportData = {
  kind: "assertion-failed",
  id: "assertion-failed:held-read:key:audit-log:src/audit.ts:40",
  classes: ["audit-log"],
  task: "main",
  held: [lock(audit, [at("rotate", "src/audit.ts", 38, 24)])],
  stack: [
    at("scan", "src/audit.ts", 40, 3),
    at("rotate", "src/audit.ts", 39, 5),
  ],
  assertion: "held-read",
  lock: audit,
};

const assertionNotHeld: ReportData = {
  kind: "assertion-failed",
  id: "assertion-failed:not-held:key:account:src/bank.ts:50",
  classes: ["account"],
  task: "main",
  held: [lock(account, transferTakesAccount)],
  stack: [at("notify", "src/bank.ts", 50, 3)],
  assertion: "not-held",
  lock: account,
};

const nestNotHeld: ReportData = {
  kind: "nest-lock-not-held",
  id: "nest-lock-not-held:key:row:tableLock",
  classes: ["row", "tableLock"],
  task: "main",
  held: [],
  stack: [at("updateRows", "src/table.ts", 70, 19)],
  lock: lock(cls("row"), [at("updateRows", "src/table.ts", 70, 19)]),
  nestLock: {
    id: "tableLock",
    name: "tableLock",
    type: "lock",
    usage: "{....}",
  },
};

const invalid: ReportData = {
  kind: "invalid-annotation",
  id: "invalid-annotation:order",
  classes: ["iio_dev.mlock"],
  task: "main",
  held: [],
  stack: [at("readTrigger", "src/iio.ts", 61, 20)],
  message:
    "the `order` function of iio_dev.mlock must return a number, got string",
};

const limit: ReportData = {
  kind: "limit-exceeded",
  id: "limit-exceeded:depth",
  classes: [],
  task: "crawler",
  held: [],
  stack: [at("visit", "src/crawl.ts", 12, 7)],
  limit: "depth",
  max: 48,
};

const internal: ReportData = {
  kind: "internal-error",
  id: "internal-error:boom",
  classes: [],
  task: "main",
  held: [],
  stack: [],
  message: "Cannot read properties of undefined (reading 'cls')",
  error:
    "TypeError: Cannot read properties of undefined (reading 'cls')\n    at lockRef (waitgraph/core/validator.js:435:15)",
};

const liveAbba: ReportData = {
  kind: "deadlock",
  id: "deadlock:key:account@src/bank.ts:13,key:ledger@src/ledger.ts:22",
  classes: ["ledger", "account"],
  task: "nightly",
  held: [lock(ledger, reconcileTakesLedger)],
  stack: reconcileTakesAccount,
  found: "exit",
  flows: [
    {
      flow: 1,
      task: "main",
      waitsFor: lock(ledger, transferTakesLedger),
      blockedMs: 1004,
      holds: [lock(account, transferTakesAccount)],
      heldBy: [2],
    },
    {
      flow: 2,
      task: "nightly",
      waitsFor: lock(account, reconcileTakesAccount),
      blockedMs: 1003,
      holds: [lock(ledger, reconcileTakesLedger)],
      heldBy: [1],
    },
  ],
  blocked: [
    {
      flow: 3,
      task: "main",
      waitsFor: lock(account, transferTakesAccount),
      blockedMs: 998,
      holds: [],
      heldBy: [2],
      reason: "account is held by a flow that is itself blocked",
    },
  ],
  broken: 2,
};

/** Golden name → report. */
export const fixtures: Record<string, ReportData> = {
  "circular-abba": abba,
  "circular-chain-read": chain3,
  "recursive-order": recursiveOrder,
  "recursive-same-instance": recursiveSame,
  "recursive-pool": recursivePool,
  "dept-circular": dept,
  "dept-aa": deptAA,
  "dept-timeout": deptTimeout,
  "bad-unlock-balance": badUnlock,
  "held-at-task-end": heldAtEnd,
  "assertion-held-read": assertionRead,
  "assertion-not-held": assertionNotHeld,
  "nest-lock-not-held": nestNotHeld,
  "invalid-annotation": invalid,
  "limit-exceeded": limit,
  "internal-error": internal,
  "deadlock-abba": liveAbba,
};

/** Every kind of the union, so a new kind without a fixture fails the typecheck. */
export const KINDS: Record<ReportKind, true> = {
  "recursive-locking": true,
  "circular-dependency": true,
  "bad-unlock-balance": true,
  "held-at-task-end": true,
  "assertion-failed": true,
  "nest-lock-not-held": true,
  "invalid-annotation": true,
  "limit-exceeded": true,
  "internal-error": true,
  deadlock: true,
};
