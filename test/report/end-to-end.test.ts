// The renderer as a user meets it: a real ABBA with the real Mutex, rendered by the renderer
// src/index.ts installs. The report must point at this file's lines, never at waitgraph's own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Mutex, task, tracker } from "../../src/index.js";

const self = relative(process.cwd(), fileURLToPath(import.meta.url));
const source = readFileSync(new URL(import.meta.url), "utf8").split("\n");

/** The 1-based line of this file that ends with the comment `// <marker>`. */
function lineOf(marker: string): number {
  const i = source.findIndex((l) => l.trimEnd().endsWith(`// ${marker}`));
  assert.notEqual(i, -1, `no line marked ${marker}`);
  return i + 1;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("an ABBA renders at the user's own lines, with no frame of waitgraph", async () => {
  tracker.configure({ policy: "silent" });
  tracker.reset();
  const account = new Mutex({ name: "account" });
  const ledger = new Mutex({ name: "ledger" });

  await task("transfer", async () => {
    const a = await account.acquire(); // transfer takes account
    const l = await ledger.acquire(); // transfer takes ledger
    l();
    a();
  });
  await task("reconcile", async () => {
    const l = await ledger.acquire(); // reconcile takes ledger
    const a = await account.acquire(); // reconcile takes account
    a();
    l();
  });

  const reports = tracker.reports();
  assert.deepEqual(
    reports.map((r) => r.kind),
    ["circular-dependency"],
  );
  const text = reports[0]!.text;
  const at = (marker: string) => `${escape(self)}:${lineOf(marker)}:\\d+`;

  assert.match(
    text,
    /^WARNING: possible circular locking dependency detected$/m,
  );
  assert.match(text, /^task "reconcile" is trying to acquire lock:$/m);
  // The lock being taken and the lock held, each at the line that took it.
  assert.match(
    text,
    new RegExp(
      `^\\(account\\)\\{\\+\\.\\+\\.\\}, at: ${at("reconcile takes account")}$`,
      "m",
    ),
  );
  assert.match(
    text,
    new RegExp(
      `^\\(ledger\\)\\{\\+\\.\\+\\.\\}, at: ${at("reconcile takes ledger")}$`,
      "m",
    ),
  );
  // The other order, account → ledger, at the line where transfer recorded it.
  assert.match(
    text,
    new RegExp(
      `^-> #1 \\(ledger\\)\\{\\+\\.\\+\\.\\}:\\n {6}at (.*\\()?${at("transfer takes ledger")}\\)?$`,
      "m",
    ),
  );
  assert.match(text, /^ {2}lock\(ledger\);\n {31}lock\(account\);$/m);
  assert.doesNotMatch(text, /(^|[\s(])src\//m);
  assert.ok(!text.includes(process.cwd()), "paths are relative to the cwd");
});
