// The text renderer against golden files: one hand-built report per shape, rendered and
// compared byte for byte with test/golden/<name>.txt. `UPDATE_GOLDEN=1` rewrites the files;
// review the diff before committing it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { renderText } from "../../src/report/text.js";
import { VERSION } from "../../src/report/version.js";
import type { ReportData } from "../../src/core/report.js";
import { KINDS, fixtures } from "./fixtures.js";

const goldenDir = new URL("../golden/", import.meta.url);
const update = process.env["UPDATE_GOLDEN"] === "1";

/** Goldens do not change with each release: the ident line's version is a placeholder there. */
function normalize(text: string): string {
  return text.replace(`waitgraph ${VERSION}\n`, "waitgraph <version>\n") + "\n";
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

for (const [name, report] of Object.entries(fixtures)) {
  test(`${name} renders as test/golden/${name}.txt`, () => {
    const file = new URL(`${name}.txt`, goldenDir);
    const text = normalize(renderText(deepFreeze(report)));
    if (update) writeFileSync(file, text);
    assert.ok(
      existsSync(file),
      `missing golden ${name}.txt: run with UPDATE_GOLDEN=1`,
    );
    assert.equal(text, readFileSync(file, "utf8"));
  });
}

test("every report kind has a golden", () => {
  const covered = new Set(Object.values(fixtures).map((r) => r.kind));
  assert.deepEqual([...covered].sort(), Object.keys(KINDS).sort());
});

test("rendering is deterministic and leaves the report untouched", () => {
  for (const report of Object.values(fixtures)) {
    const before = JSON.stringify(report);
    assert.equal(renderText(report), renderText(report));
    assert.equal(JSON.stringify(report), before);
  }
});

test("the ident line carries package.json's version", () => {
  const pkg = JSON.parse(
    readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
  ) as { version: string };
  assert.equal(VERSION, pkg.version);
  const lines = renderText(fixtures["circular-abba"]!).split("\n");
  assert.equal(lines[2], `waitgraph ${pkg.version}`);
});

test("lockdep rulers are as long as the WARNING line", () => {
  for (const [name, report] of Object.entries(fixtures)) {
    if (name.startsWith("dept-")) continue;
    const [top, title, , bottom] = renderText(report).split("\n");
    assert.equal(top, "=".repeat(title!.length), name);
    assert.equal(bottom, "-".repeat(title!.length), name);
  }
});

test("an ABBA has no 'Chain exists of'; a longer cycle names src --> parent --> tgt", () => {
  assert.doesNotMatch(
    renderText(fixtures["circular-abba"]!),
    /Chain exists of/,
  );
  assert.match(
    renderText(fixtures["circular-chain-read"]!),
    /^Chain exists of:\n {2}audit-log --> account --> ledger\n$/m,
  );
});

test("the scenario's Task1 column starts where the kernel's CPU1 does", () => {
  const text = renderText(fixtures["circular-abba"]!);
  assert.match(text, /^ {7}Task0 {19}Task1$/m);
  assert.match(text, /^ {31}lock\(account\);$/m);
});

test("files under the working directory print relative to it", () => {
  const abba = fixtures["circular-abba"]!;
  assert.equal(abba.kind, "circular-dependency");
  if (abba.kind !== "circular-dependency") return;
  const absolute: ReportData = {
    ...abba,
    next: {
      ...abba.next,
      at: [
        { fn: "f", file: `${process.cwd()}/src/bank.ts`, line: 3, column: 4 },
      ],
    },
  };
  const text = renderText(absolute);
  assert.match(text, /^\(account\)\{\+\.\+\.\}, at: src\/bank\.ts:3:4$/m);
  assert.ok(!text.includes(process.cwd()));
});

test("a DEPT cycle that only says 'timeout' marks every wait, since any may be the timed one", () => {
  const r = fixtures["dept-circular"]!;
  assert.equal(r.kind, "circular-dependency");
  if (r.kind !== "circular-dependency" || r.waits === undefined) return;
  const text = renderText({ ...r, timeout: true });
  assert.match(text, /^NOT A DEADLOCK BUT A CIRCULAR DEPENDENCY$/m);
  // two contexts, each printed twice (summary and detail)
  assert.equal(
    text.split("--------------- >8 timeout ---------------").length - 1,
    4,
  );
  assert.doesNotMatch(text, /\*\*\* DEADLOCK \*\*\*/);
});
