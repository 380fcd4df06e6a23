// "The tracker never hurts its host." What the user plugs into waitgraph — a report handler, a
// renderer, option objects — may throw, reject or lie; none of it may crash the program or
// change what later readers of a report see.
//
//  * An async report handler whose promise rejects is contained exactly like a handler that
//    throws: one line on stderr with the report, no exception, no unhandledRejection. That is
//    process-level behaviour (Node exits 1 on an unhandled rejection), so it runs in a child.
//  * Reports are frozen deep when they are made: the handler, tracker.reports() and a
//    DeadlockError share one object, and none of them can change it for the others.
//  * A renderer that throws (even a value whose toString throws) or returns no text, and an
//    option object whose getter throws or which is a Proxy, are contained.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeEach, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  InvalidArgumentError,
  Mutex,
  Semaphore,
  tracker,
  type Report,
} from "../../src/index.js";
import { renderText } from "../../src/report/text.js";
import { captureLog, fresh, reportKinds } from "../helpers/edges.js";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = pathToFileURL(join(root, "dist", "index.js")).href;

beforeEach(() => fresh());

/** Runs an ES module in a fresh node, with `waitgraph` bound to the built package. */
function child(body: string) {
  ensureBuilt();
  const source = `
    import * as waitgraph from ${JSON.stringify(dist)};
    const { Mutex, tracker } = waitgraph;
    process.on("unhandledRejection", (e) => {
      console.log("UNHANDLED REJECTION " + String(e));
      process.exitCode = 3;
    });
    const abba = async () => {
      const A = new Mutex({ key: "A" });
      const B = new Mutex({ key: "B" });
      await A.runExclusive(() => B.runExclusive(() => {}));
      await B.runExclusive(() => A.runExclusive(() => {}));
    };
    ${body}
    // Let any rejection surface: unhandledRejection fires after the microtask queue drains.
    await new Promise((resolve) => setTimeout(resolve, 20));
    console.log("reports: " + tracker.reports().map((r) => r.kind).join(","));
    console.log("done");
  `;
  const run = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", source],
    { cwd: root, encoding: "utf8", timeout: 30_000 },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("an async report handler that rejects (child process)", () => {
  test("is logged with the report like a throwing one, and is no unhandledRejection", () => {
    const run = child(`
      tracker.configure({ policy: async () => { throw new Error("async handler bug"); } });
      await abba();
    `);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, /UNHANDLED/);
    assert.match(run.stdout, /^reports: circular-dependency$/m);
    assert.match(run.stdout, /^done$/m);
    assert.match(
      run.stderr,
      /^waitgraph: the report handler rejected \(Error: async handler bug\); the report was:$/m,
    );
    assert.match(run.stderr, /possible circular locking dependency detected/);
  });

  test("the same for a sync handler that throws: one line, the program goes on (the contract the async one matches)", () => {
    const run = child(`
      tracker.configure({ policy: () => { throw new Error("sync handler bug"); } });
      await abba();
    `);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /^waitgraph: the report handler threw \(Error: sync handler bug\); the report was:$/m,
    );
    assert.match(run.stdout, /^done$/m);
  });

  test("a rejection reason whose toString throws, and a thenable whose `then` getter throws, are contained too", () => {
    const run = child(`
      const hostile = { toString() { throw new Error("no"); } };
      let calls = 0;
      tracker.configure({
        policy: () => {
          calls++;
          if (calls === 1) return Promise.reject(hostile);
          return { get then() { throw new Error("then getter"); } };
        },
      });
      await abba();
      const C = new Mutex({ key: "C" });
      const D = new Mutex({ key: "D" });
      await C.runExclusive(() => D.runExclusive(() => {}));
      await D.runExclusive(() => C.runExclusive(() => {}));
    `);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, /UNHANDLED/);
    assert.match(
      run.stdout,
      /^reports: circular-dependency,circular-dependency$/m,
    );
    assert.match(
      run.stderr,
      /the report handler rejected \(an object \(Object\)\); the report was:/,
    );
    assert.match(
      run.stderr,
      /the report handler rejected \(Error: then getter\); the report was:/,
    );
  });

  test("a handler that resolves is silent", () => {
    const run = child(`
      tracker.configure({ policy: async () => "fine" });
      await abba();
    `);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^reports: circular-dependency$/m);
  });
});

async function abba(): Promise<void> {
  const A = new Mutex({ key: "A" });
  const B = new Mutex({ key: "B" });
  await A.runExclusive(() => B.runExclusive(() => {}));
  await B.runExclusive(() => A.runExclusive(() => {}));
}

/** Every object reachable from `value`, with its path. */
function* objects(value: unknown, path = "report"): Iterable<[string, object]> {
  if (typeof value !== "object" || value === null) return;
  yield [path, value];
  for (const [k, v] of Object.entries(value)) yield* objects(v, `${path}.${k}`);
}

describe("reports are frozen deep", () => {
  test("the report in tracker.reports(), the one given to the handler, and every object inside are frozen", async () => {
    const seen: Report[] = [];
    fresh((r) => seen.push(r));
    await abba();
    const [report] = tracker.reports();
    assert.equal(seen[0], report);
    let count = 0;
    for (const [path, o] of objects(report)) {
      assert.ok(Object.isFrozen(o), `${path} is not frozen`);
      count++;
    }
    assert.ok(count > 10, `only ${count} objects: the walk saw too little`);
    // ESM is strict: writing a frozen report throws rather than changing it silently.
    assert.throws(() => {
      (report as { kind: string }).kind = "changed";
    }, TypeError);
    assert.throws(() => {
      (report!.classes as string[]).push("X");
    }, TypeError);
    assert.equal(report!.kind, "circular-dependency");
  });

  test("a DeadlockError under throw carries the same frozen report", async () => {
    fresh("throw");
    const A = new Mutex({ key: "A" });
    const B = new Mutex({ key: "B" });
    await A.runExclusive(() => B.runExclusive(() => {}));
    const error = (await B.runExclusive(() => A.runExclusive(() => {})).catch(
      (e: unknown) => e,
    )) as { report: Report };
    assert.equal(error.report, tracker.reports()[0]);
    assert.ok(Object.isFrozen(error.report));
    assert.ok(Object.isFrozen(error.report.classes));
  });

  // Freezing is done once per distinct report (emit), never per acquisition: a repeated
  // finding returns the stored report, and an acquisition that makes no report never gets
  // there. Proved by counting Object.freeze calls over hot acquisitions (none), and the cost
  // per report is measured (tens of µs for an ABBA report: less than capturing its stacks).
  test("freezing is once per distinct report, never on an acquisition's path", async (t) => {
    await abba();
    const A = new Mutex({ key: "A" });
    const B = new Mutex({ key: "B" });
    const freeze = Object.freeze;
    let calls = 0;
    Object.freeze = ((o: unknown) => (calls++, freeze(o))) as never;
    try {
      for (let i = 0; i < 1000; i++)
        await A.runExclusive(() => B.runExclusive(() => {}));
      await abba(); // the same cycle again: the stored report, nothing frozen again
    } finally {
      Object.freeze = freeze;
    }
    assert.equal(calls, 0);
    assert.deepEqual(reportKinds(), ["circular-dependency"]);

    const { deepFreeze } = await import("../../src/core/policy.js");
    const template = tracker.reports()[0]!;
    const copies = Array.from(
      { length: 200 },
      () => structuredClone(template) as Report,
    );
    const t0 = process.hrtime.bigint();
    for (const c of copies) deepFreeze(c);
    const us = Number(process.hrtime.bigint() - t0) / copies.length / 1000;
    t.diagnostic(
      `deepFreeze: ${us.toFixed(1)} µs per circular-dependency report`,
    );
    assert.ok(us < 1000, `${us} µs per report`); // generous: an order of magnitude, not a bench
  });
});

describe("hostile renderers and option objects", () => {
  test("a renderer that throws a value whose toString throws still leaves a report with text", async () => {
    tracker.setRenderer(() => {
      throw {
        toString() {
          throw new Error("no");
        },
      };
    });
    try {
      await abba();
      const [r] = tracker.reports();
      assert.equal(r!.kind, "circular-dependency");
      assert.match(r!.text, /^waitgraph: circular-dependency \(A -> B\)/);
      assert.match(r!.text, /the renderer failed: an object \(Object\)/);
    } finally {
      tracker.setRenderer(renderText);
    }
  });

  test("a renderer that returns no text is treated as failed", async () => {
    tracker.setRenderer((() => 42) as never);
    try {
      await abba();
      const [r] = tracker.reports();
      assert.equal(typeof r!.text, "string");
      assert.match(r!.text, /the renderer failed: TypeError: it returned 42/);
    } finally {
      tracker.setRenderer(renderText);
    }
  });

  test("a throwing writer under log is contained: one report, the locks still granted", async () => {
    fresh("log");
    tracker.setWriter(() => {
      throw new Error("stderr is gone");
    });
    try {
      await abba();
      assert.deepEqual(reportKinds(), ["circular-dependency"]);
    } finally {
      captureLog().restore();
    }
  });

  // Each maker takes the option key its getter sits on (every call below has its own keys).
  const hostile: [string, (key: string) => object, RegExp][] = [
    [
      "a getter that throws",
      (key) =>
        Object.defineProperty({}, key, {
          enumerable: true,
          get() {
            throw new Error("getter bug");
          },
        }),
      /^Expected `options\.\w+` to be readable, got a getter or Proxy trap that threw an object \(Error\)$/,
    ],
    [
      "a Proxy whose ownKeys trap throws",
      () =>
        new Proxy(
          {},
          {
            ownKeys() {
              throw new Error("trap bug");
            },
          },
        ),
      /^Expected `options` to be readable, got a getter or Proxy trap that threw/,
    ],
    [
      "a revoked Proxy",
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
      /^Expected `options` to be readable/,
    ],
  ];
  for (const [what, make, message] of hostile) {
    test(`options that are ${what}: a typed error with the cause, nothing taken, the lock still works`, async () => {
      const m = new Mutex({ key: "device" });
      const s = new Semaphore(1, { key: "pool" });
      const check = (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.ok(error instanceof TypeError);
        assert.match(error.message, message);
        assert.ok(error.cause !== undefined);
        return true;
      };
      await assert.rejects(m.acquire(make("timeout") as never), check);
      assert.throws(() => m.tryAcquire(make("subclass") as never), check);
      await assert.rejects(s.acquire(make("weight") as never), check);
      assert.throws(() => tracker.configure(make("policy") as never), check);
      assert.throws(() => new Mutex(make("key") as never), check);
      assert.equal(m.isLocked(), false);
      (await m.acquire())();
      assert.equal(s.available, 1);
      assert.deepEqual(reportKinds(), []);
    });
  }

  test("options are read once: a getter runs once, so it cannot pass the check and then change", async () => {
    const m = new Mutex({ key: "device" });
    let reads = 0;
    const o = {
      get timeout(): number {
        reads++;
        return reads === 1 ? 1000 : Number.NaN;
      },
    };
    const release = await m.acquire(o);
    release();
    assert.equal(reads, 1);
  });
});
