// Worker threads sharing one graph through the main thread (src/stores/threads.ts): the store
// compliance suite in one thread (a hub and clients on a channel of their own), then real
// workers under the register hook, with no store and no code.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";
import { ThreadHub, ThreadStore } from "../../src/stores/threads.js";
import { ensureBuilt } from "../helpers/build.js";
import { underRegister, type Run } from "../helpers/run-node.js";
import { compliance } from "./compliance.js";

compliance(
  "threads",
  async () => {
    const name = `waitgraph.test/${randomUUID()}`;
    const hub = new ThreadHub(async () => {}, name);
    const notApplicable = async () => {
      throw new Error("threads of one process have no outage");
    };
    return {
      store: () => new ThreadStore(name, hub.log),
      writeRaw: async (text) => {
        hub.log.append(text);
      },
      pause: notApplicable,
      resume: notApplicable,
      end: async () => hub.close(),
    };
  },
  undefined,
  "the threads of one process cannot lose each other",
);

/** `node --import waitgraph/register test/fixtures/store/threads.mjs <scenario>`. */
function scenario(
  name: string,
  env: Record<string, string> = {},
): Promise<Run> {
  return run("test/fixtures/store/threads.mjs", [name], env);
}

/** `node --import waitgraph/register <file> …args` in the repository. */
function run(
  file: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Run> {
  return underRegister([file, ...args], {
    WAITGRAPH: "log",
    WAITGRAPH_STORE: "",
    ...env,
  });
}

/** The line of threads.mjs where the main thread takes its inner lock (marked HERE). */
const HERE_LINE = 17;

const reports = (r: Run) =>
  r.stderr.match(/WARNING: possible circular locking dependency detected/g)
    ?.length ?? 0;

describe("worker threads under the register hook share one graph", () => {
  before(() => ensureBuilt());

  it("two workers, one after the other, A then B and B then A: the second reports, naming the first thread", async () => {
    const r = await scenario("workers ABBA");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "done\ndone\nend\n");
    assert.equal(reports(r), 1, r.stderr);
    assert.match(
      r.stderr,
      /-> #1 \(store-test B\)\{\+\.\+\.\} \(added by \S+\[\d+\]@\S+ thread \d+\):\n\s+at test\/fixtures\/store\/take-in-order\.mjs:10:/,
    );
  });

  it("look-alike: workers that keep one order report nothing", async () => {
    const r = await scenario("workers AB AB AB");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });

  it("the main thread's A then B, taken before any worker started, and a worker's B then A: reported once", async () => {
    // The main thread joins when its first worker starts, after Node has copied the worker's
    // environment: that worker gets the main thread's A → B a message later, so whichever
    // thread sees the cycle first reports it — once.
    const r = await scenario("main AB, worker BA");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reports(r), 1, r.stderr);
    assert.match(
      r.stderr,
      /found in the graph shared with other processes or threads: the chain runs through \S+\[\d+\]@\S+/,
    );
    assert.match(r.stderr, /\(store-test A\)/);
    assert.match(r.stderr, /\(store-test B\)/);
  });

  it("two workers after the main thread joined: the second worker reports at its acquisition, with the first worker's line", async () => {
    const r = await scenario("main AB, worker AB, worker BA");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reports(r), 1, r.stderr);
    assert.match(
      r.stderr,
      /task "main" is trying to acquire lock:\n\(store-test A\)[^\n]*, at: test\/fixtures\/store\/take-in-order\.mjs:10:/,
    );
  });

  it("a worker's A then B, and the main thread's B then A after the worker ended: the main thread reports", async () => {
    const r = await scenario("worker AB, main BA");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reports(r), 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `task "main" is trying to acquire lock:\\n\\(store-test A\\)[^\\n]*, at: test/fixtures/store/threads\\.mjs:${HERE_LINE}:`,
      ),
    );
    assert.match(r.stderr, /\(added by \S+\[\d+\]@\S+ thread \d+\)/);
  });

  it("a main thread that shares through a store of its own (connectStore in code) starts a worker: the program is not hurt", async () => {
    const r = await run("test/fixtures/store/main-has-store.mjs");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "done\nend\n");
    assert.equal(r.stderr, "");
  });

  it("WAITGRAPH_STORE=off: each thread keeps its own graph, as before", async () => {
    const r = await scenario("workers ABBA", { WAITGRAPH_STORE: "off" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });
});
