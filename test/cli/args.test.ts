// The command-line parser every command shares: options anywhere before `--`, operands in order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs, UsageError, type OptionSpec } from "../../src/cli/args.js";

const specs: OptionSpec[] = [
  { name: "json", value: "FILE", describe: "" },
  { name: "quiet", short: "q", describe: "" },
];

const parse = (...argv: string[]) => {
  const { options, operands } = parseArgs(argv, specs, "run");
  return { options: Object.fromEntries(options), operands };
};

test("options may come before, between and after the operands, until --", () => {
  assert.deepEqual(
    parse(
      "--json",
      "a.json",
      "app.ts",
      "-q",
      "x",
      "--json=b.json",
      "--",
      "--json",
      "-q",
    ),
    {
      options: { json: "b.json", quiet: true },
      operands: ["app.ts", "x", "--json", "-q"],
    },
  );
});

test("a lone - is an operand", () => {
  assert.deepEqual(parse("app.ts", "-").operands, ["app.ts", "-"]);
});

test("bad command lines are UsageErrors with code ERR_WAITGRAPH_USAGE naming the command", () => {
  for (const argv of [
    ["--nope"],
    ["-z"],
    ["--json"],
    ["--json", "--quiet"],
    ["--json="],
    ["--quiet=yes"],
  ]) {
    assert.throws(
      () => parseArgs(argv, specs, "run"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.code === "ERR_WAITGRAPH_USAGE" &&
        error.command === "run",
      argv.join(" "),
    );
  }
});
