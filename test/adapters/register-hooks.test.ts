// Which of Node's module-hook APIs `waitgraph/register` takes, and that loading it prints
// nothing. Where `module.registerHooks` exists (Node 22.15+, 23.5+, 24, 26) it must be the one:
// `module.register` starts a loader thread and, on Node 26, prints DEP0205. Where it does not
// (Node 20), `module.register` is the only way and must still be used, or ES-module libraries
// go untracked. A preloaded module wraps both APIs and prints which were called.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import Module from "node:module";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import { ensureBuilt } from "../helpers/build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const hasRegisterHooks =
  typeof (Module as { registerHooks?: unknown }).registerHooks === "function";

const SPY = `data:text/javascript,${encodeURIComponent(
  [
    'import m from "node:module";',
    "for (const name of ['register', 'registerHooks']) {",
    "  const real = m[name];",
    "  if (typeof real === 'function')",
    "    m[name] = (...args) => { process.stdout.write(name + ' called\\n'); return real(...args); };",
    "}",
  ].join("\n"),
)}`;

const PROGRAM = [
  'const { default: pLimit } = await import("p-limit");',
  "const limit = pLimit(1);",
  'console.log("tracked", Symbol.for("waitgraph.adapter/v1") in limit);',
].join("\n");

function run(args: string[], env: Record<string, string> = {}) {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    ...env,
  };
  delete childEnv["NODE_TEST_CONTEXT"];
  delete childEnv["NODE_OPTIONS"];
  if (env["WAITGRAPH"] === undefined) delete childEnv["WAITGRAPH"];
  return spawnSync(process.execPath, args, {
    cwd: root,
    env: childEnv,
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("waitgraph/register's module hooks", () => {
  before(() => ensureBuilt());

  it(
    hasRegisterHooks
      ? "takes module.registerHooks, never module.register, on this Node"
      : "takes module.register on this Node, which has no module.registerHooks",
    () => {
      const child = run([
        "--import",
        SPY,
        "--import",
        "waitgraph/register",
        "--input-type=module",
        "-e",
        PROGRAM,
      ]);
      assert.equal(child.status, 0, child.stderr);
      assert.equal(
        child.stdout,
        `${hasRegisterHooks ? "registerHooks" : "register"} called\ntracked true\n`,
      );
      assert.equal(child.stderr, "");
    },
  );

  it("loads with nothing on stderr, even with deprecations made fatal", () => {
    const child = run([
      "--throw-deprecation",
      "--import",
      "waitgraph/register",
      "--input-type=module",
      "-e",
      PROGRAM,
    ]);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, "tracked true\n");
    assert.equal(child.stderr, "");
  });

  it("installs no hook at all under WAITGRAPH=off", () => {
    const child = run(
      [
        "--import",
        SPY,
        "--import",
        "waitgraph/register",
        "--input-type=module",
        "-e",
        PROGRAM,
      ],
      { WAITGRAPH: "off" },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, "tracked false\n");
    assert.equal(child.stderr, "");
  });

  it("hooks the loaders once when installInstrumentation() is called again, by the built copy and by the source copy", () => {
    const child = run([
      "--import",
      "tsx",
      "--import",
      SPY,
      "--import",
      "waitgraph/register",
      "--input-type=module",
      "-e",
      [
        'const built = await import("./dist/adapters/instrument.js");',
        'const source = await import("./src/adapters/instrument.ts");',
        "built.installInstrumentation();",
        "source.installInstrumentation();",
        PROGRAM,
      ].join("\n"),
    ]);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(
      child.stdout,
      `${hasRegisterHooks ? "registerHooks" : "register"} called\ntracked true\n`,
    );
  });
});
