// Runs every test file under test/ with node:test. Node 20's --test takes no globs, so the
// files are listed here. Each file runs in its own process: the tracker is per process, so
// one file's classes and edges never leak into another's verdicts.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (/\.test\.ts$/.test(name)) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = collect("test")
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${JSON.stringify(filter)}`);
  process.exit(1);
}
// spec, with todo tests listed as todos rather than under "failing tests" (see the reporter).
const reporter = join(
  dirname(fileURLToPath(import.meta.url)),
  "test-reporter.mjs",
);
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    `--test-reporter=${reporter}`,
    "--test-reporter-destination=stdout",
    ...files,
  ],
  {
    stdio: "inherit",
  },
);
process.exit(result.status ?? 1);
