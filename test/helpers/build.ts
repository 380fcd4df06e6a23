// Tests that run the built package (the CLI, the test-runner integrations, the examples) build
// it first when any source file is newer than the oldest built file. `npm test` builds before
// the tests, so this is a no-op there; it matters when a single file is run by hand. Run files
// in parallel by hand on a stale tree and two of them may build at once: the build empties dist/
// first, so build once (`npm run build`) before such a run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function ensureBuilt(): void {
  const mtimes = (dir: string, ext: RegExp): number[] =>
    readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => ext.test(f))
      .map((f) => statSync(join(dir, f)).mtimeMs);
  const dist = join(root, "dist");
  const built = existsSync(join(dist, "index.js"))
    ? Math.min(...mtimes(dist, /\.js$/))
    : -Infinity;
  if (Math.max(...mtimes(join(root, "src"), /\.ts$/)) <= built) return;
  const build = spawnSync("npm", ["run", "build"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(
    build.status,
    0,
    `npm run build failed:\n${build.stdout}${build.stderr}`,
  );
}
